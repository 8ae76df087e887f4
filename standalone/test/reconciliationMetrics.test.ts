import { expect } from 'chai';
import { startFolioInProcess } from './fixtures/inProcessFolio.js';

const sample = (exposition: string, series: string): number | undefined => {
  const line = exposition.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

const report = [
  'balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,charge_id,payment_intent_id,description',
  'txn_ghost_1,2026-06-01 10:00:00,eur,7.77,0.00,7.77,charge,ch_ghost_1,pi_ghost_1,a charge with no order',
  '',
].join('\n');

describe('reconciliation metrics of the running system', function () {
  this.timeout(20_000);

  it('/metrics reports open discrepancies by class and the ledger-vs-provider delta once a statement is imported', async () => {
    const running = await startFolioInProcess('folio-recon-metrics-');
    try {
      const imported = await fetch(`${running.baseUrl}/v1/statements?provider=sandbox&format=stripe-balance`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv', ...running.auth },
        body: report,
      });
      expect(imported.status, await imported.clone().text()).to.be.oneOf([200, 201]);
      const { position } = (await imported.json()) as { position: string };
      const summary = await fetch(`${running.baseUrl}/v1/reconciliation/summary?position=${position}`, { headers: running.auth });
      expect(summary.status).to.equal(200);

      const metrics = await (await fetch(`${running.baseUrl}/metrics`, { headers: running.auth })).text();
      expect(sample(metrics, 'folio_reconciliation_open_discrepancies{code="PROVIDER_UNMATCHED"}')).to.equal(1);
      expect(sample(metrics, 'folio_reconciliation_delta_minor_units{provider="sandbox",currency="EUR"}')).to.equal(-777);
    } finally {
      await running.stop();
    }
  });
});

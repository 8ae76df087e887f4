import { expect } from 'chai';
import { createLogger } from '@folio/shared';
import { capturedLog } from '@folio/shared/testing';
import { startFolioInProcess } from './fixtures/inProcessFolio.js';

const post = async (url: string, body: unknown, key: string, auth: { authorization: string }) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key, ...auth },
    body: JSON.stringify(body),
  });
  return (await response.json()) as Record<string, string>;
};

/** The value of one sample of the Prometheus text exposition, or undefined when absent. */
const sample = (exposition: string, series: string): number | undefined => {
  const line = exposition.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('operations endpoints of the running system', function () {
  this.timeout(20_000);

  it('/metrics counts commands, retries, appends and compensations, and reports lag and stuck movements', async () => {
    const running = await startFolioInProcess('folio-observe-');
    try {
      const open = (owner: string) => post(`${running.baseUrl}/v1/accounts`, { ownerId: owner, currency: 'EUR', kind: 'customer' }, `open-${owner}`, running.auth);
      const alice = await open('alice');
      const bob = await open('bob');
      await post(`${running.baseUrl}/v1/deposits`, { accountId: alice['id'], amount: '1000', currency: 'EUR', reference: 'd1' }, 'deposit', running.auth);
      const transfer = { fromAccountId: alice['id'], toAccountId: bob['id'], amount: '100', currency: 'EUR' };
      await post(`${running.baseUrl}/v1/transfers`, transfer, 'transfer-1', running.auth);
      await post(`${running.baseUrl}/v1/transfers`, transfer, 'transfer-1', running.auth);
      await post(`${running.baseUrl}/v1/accounts/${bob['id']}/freeze`, {}, 'freeze-bob', running.auth);
      const failed = await post(`${running.baseUrl}/v1/transfers`, transfer, 'transfer-2', running.auth);
      expect(failed['status'], 'the frozen destination refuses; the debit is reversed').to.equal('failed');

      // It tells open discrepancies and the ledger-vs-provider delta: staff keys only, probes need none.
      expect((await fetch(`${running.baseUrl}/metrics`)).status).to.equal(401);
      expect((await fetch(`${running.baseUrl}/readyz`)).status).to.equal(200);
      const response = await fetch(`${running.baseUrl}/metrics`, { headers: running.auth });
      expect(response.status).to.equal(200);
      expect(response.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
      const metrics = await response.text();
      expect(sample(metrics, 'folio_commands_total{route="/v1/transfers",status="201"}')).to.equal(3);
      expect(sample(metrics, 'folio_commands_total{route="/v1/accounts",status="201"}')).to.equal(2);
      expect(sample(metrics, 'folio_duplicate_commands_total{route="/v1/transfers"}')).to.equal(1);
      expect(sample(metrics, 'folio_movement_compensations_total{type="TransferFailed"}')).to.equal(1);
      expect(sample(metrics, 'folio_events_appended_total{type="AccountOpened"}')).to.be.at.least(2);
      expect(sample(metrics, 'folio_append_duration_seconds_count{outcome="appended"}')).to.be.greaterThan(5);
      expect(sample(metrics, 'folio_movements_stuck')).to.equal(0);
      expect(metrics).to.match(/^folio_projection_lag_seconds\{projection="balances"\} \d/m);
      expect(metrics).to.match(/^folio_projection_lag_positions\{projection="history"\} \d/m);
      expect(metrics).to.match(/^folio_process_resident_memory_bytes \d/m);
    } finally {
      await running.stop();
    }
  });

  it('/readyz is ready while the projections keep up, and unready with the reason once they lag', async () => {
    const running = await startFolioInProcess('folio-observe-', { FOLIO_READY_MAX_LAG_SECONDS: '0.2' });
    try {
      const opened = await post(`${running.baseUrl}/v1/accounts`, { ownerId: 'bea', currency: 'EUR', kind: 'customer' }, 'open-bea', running.auth);
      expect(await running.system.projections.waitFor(BigInt(opened['position']!), 5_000)).to.equal(true);
      const ready = await fetch(`${running.baseUrl}/readyz`);
      expect(ready.status).to.equal(200);
      expect(((await ready.json()) as { status: string }).status).to.equal('ready');

      await running.system.projections.stop();
      await post(`${running.baseUrl}/v1/accounts`, { ownerId: 'carol', currency: 'EUR', kind: 'customer' }, 'open-carol', running.auth);
      await new Promise((resolve) => setTimeout(resolve, 400));
      await post(`${running.baseUrl}/v1/accounts`, { ownerId: 'dave', currency: 'EUR', kind: 'customer' }, 'open-dave', running.auth);

      const unready = await fetch(`${running.baseUrl}/readyz`);
      expect(unready.status).to.equal(503);
      const body = (await unready.json()) as {
        status: string;
        checks: { eventStore: { status: string }; projections: { projections: { name: string; status: string; lagSeconds: number }[] } };
      };
      expect(body.status).to.equal('unready');
      expect(body.checks.eventStore.status).to.equal('ok');
      // Opening accounts is behind only for the read models that read accounts.
      const readsAccounts = new Set(['balances', 'history']);
      for (const projection of body.checks.projections.projections) {
        if (readsAccounts.has(projection.name)) {
          expect(projection.status, projection.name).to.equal('lagging');
          expect(projection.lagSeconds, projection.name).to.be.greaterThan(0.2);
        } else {
          expect(projection.status, projection.name).to.equal('ok');
        }
      }
      expect(body.checks.projections.projections.map(({ name }) => name)).to.include.members([...readsAccounts]);
    } finally {
      await running.stop();
    }
  });

  it('follows a request by its correlation id from the HTTP log line through its events into the projections', async () => {
    const { destination, lines: linesOf } = capturedLog<{ msg: string; correlationId?: string; correlationIds?: string[] }>();
    const running = await startFolioInProcess('folio-trace-', {}, createLogger({ service: 'folio', level: 'debug', destination }));
    try {
      const response = await fetch(`${running.baseUrl}/v1/accounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-correlation-id': 'support-case-7', ...running.auth },
        body: JSON.stringify({ ownerId: 'erin', currency: 'EUR', kind: 'customer' }),
      });
      const { position } = (await response.json()) as { position: string };
      expect(await running.system.projections.waitFor(BigInt(position), 5_000)).to.equal(true);
      const events = await running.system.eventStore.readAll({ direction: 'backwards', maxCount: 1, filter: { streamNamePrefixes: ['account-'] } });
      for await (const event of events) expect(event.metadata?.['$correlationId'], 'the event carries it').to.equal('support-case-7');
      const lines = linesOf();
      expect(lines.find((line) => line.msg === 'request answered' && line.correlationId === 'support-case-7'), 'the request line').to.not.equal(undefined);
      expect(lines.find((line) => line.msg === 'projected' && line.correlationIds?.includes('support-case-7')), 'the projection line').to.not.equal(undefined);
    } finally {
      await running.stop();
    }
  });
});

import { expect } from 'chai';
import express from 'express';
import { createMetrics, metricsEndpoint, type ReconciliationTotals } from '../../src/index.js';
import { listen } from '../http/httpTestServer.js';

describe('the metrics endpoint', () => {
  it('serves every other series while the reconciliation read model cannot be read', async () => {
    const metrics = createMetrics();
    const failing = { since: new Date(), failures: 3, lastError: 'connection refused' };
    metrics.observeProjectionLag(() => [{ name: 'balances', positions: 0n, seconds: 0, failing }]);
    let read = (): Promise<ReconciliationTotals> => Promise.reject(new Error('connection refused'));
    metrics.observeReconciliation(() => read());
    const server = await listen(express().use(metricsEndpoint(metrics)));
    try {
      const scrape = async () => {
        const response = await fetch(`${server.url}/metrics`);
        return { status: response.status, exposition: await response.text() };
      };
      const refused = await scrape();
      expect(refused.status, refused.exposition).to.equal(200);
      expect(refused.exposition, 'the gauge an outage of the stores is alerted on').to.match(/^folio_projection_failing_seconds\{projection="balances"\} \d/m);
      expect(refused.exposition).to.not.match(/^folio_reconciliation_open_discrepancies\{/m);

      read = () => Promise.resolve({ open: { PROVIDER_UNMATCHED: 2 }, deltas: [{ provider: 'sandbox', currency: 'EUR', minorUnits: -777n }] });
      const readAgain = await scrape();
      expect(readAgain.exposition, 'once it can be read again').to.match(/^folio_reconciliation_open_discrepancies\{code="PROVIDER_UNMATCHED"\} 2$/m);
      expect(readAgain.exposition).to.match(/^folio_reconciliation_delta_minor_units\{provider="sandbox",currency="EUR"\} -777$/m);
    } finally {
      await server.close();
    }
  });

  it('does not wait on a reconciliation read model that does not answer, nor ask it again while it has not', async () => {
    const metrics = createMetrics();
    metrics.observeStuckMovements(() => 0);
    let reads = 0;
    metrics.observeReconciliation(() => {
      reads += 1;
      return new Promise<ReconciliationTotals>(() => undefined);
    }, 50);
    const server = await listen(express().use(metricsEndpoint(metrics)));
    try {
      for (const scrape of ['first', 'second']) {
        const response = await fetch(`${server.url}/metrics`);
        expect(response.status, scrape).to.equal(200);
        expect(await response.text(), scrape).to.match(/^folio_movements_stuck 0$/m);
      }
      expect(reads, 'the unanswered read serves the next scrape').to.equal(1);
    } finally {
      await server.close();
    }
  });
});

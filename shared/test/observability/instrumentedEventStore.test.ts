import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createMetrics, instrumentEventStore, openSqliteEventStore } from '../../src/index.js';

describe('event store metrics', () => {
  it('count the events and compensations an append stored, and none for a retried append the store answered as the original', async () => {
    const metrics = createMetrics();
    const raw = openSqliteEventStore({ path: join(mkdtempSync(join(tmpdir(), 'folio-metrics-')), 'events.sqlite') });
    const store = instrumentEventStore(raw, metrics);
    try {
      const reversal = { id: randomUUID(), type: 'TransferFailed', data: { transferId: '1' } };
      await store.appendToStream('transfer-1', [reversal], { expectedRevision: 'no_stream' });
      await store.appendToStream('transfer-1', [reversal], { expectedRevision: 'no_stream' });
      const text = await metrics.registry.metrics();
      expect(text).to.match(/^folio_events_appended_total\{type="TransferFailed"\} 1$/m);
      expect(text).to.match(/^folio_movement_compensations_total\{type="TransferFailed"\} 1$/m);
    } finally {
      await raw.close();
    }
  });
});

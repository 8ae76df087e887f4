import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  createMetrics,
  instrumentEventStore,
  openSqliteEventStore,
  StoreUnavailableError,
  WrongExpectedRevisionError,
  type EventStore,
} from '../../src/index.js';
import { rejectionOf } from '../../src/testing/index.js';

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

  it('time a conflict apart from a failure: a conflict is expected under concurrency and retried, a failure is not', async () => {
    const metrics = createMetrics();
    const raw = openSqliteEventStore({ path: join(mkdtempSync(join(tmpdir(), 'folio-metrics-')), 'events.sqlite') });
    const store = instrumentEventStore(raw, metrics);
    const unreachable = instrumentEventStore(
      { appendToStream: () => Promise.reject(new StoreUnavailableError('the event store did not answer')) } as Partial<EventStore> as EventStore,
      metrics,
    );
    try {
      await store.appendToStream('account-1', [{ id: randomUUID(), type: 'AccountOpened', data: {} }], { expectedRevision: 'no_stream' });
      const second = { id: randomUUID(), type: 'AccountOpened', data: {} };
      expect(await rejectionOf(store.appendToStream('account-1', [second], { expectedRevision: 'no_stream' }))).to.be.instanceOf(
        WrongExpectedRevisionError,
      );
      expect(await rejectionOf(unreachable.appendToStream('account-2', [second]))).to.be.instanceOf(StoreUnavailableError);
      const text = await metrics.registry.metrics();
      expect(text).to.match(/^folio_append_duration_seconds_count\{outcome="appended"\} 1$/m);
      expect(text).to.match(/^folio_append_duration_seconds_count\{outcome="conflict"\} 1$/m);
      expect(text).to.match(/^folio_append_duration_seconds_count\{outcome="refused"\} 1$/m);
    } finally {
      await raw.close();
    }
  });
});

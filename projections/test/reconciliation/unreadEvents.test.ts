import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { openSqliteDocumentStore, paymentStream, type DocumentStore, type SqliteEventStore } from '@folio/shared';
import { appendPayment, appendRowRecorded, chargeRow, paymentIdOf } from '@folio/shared/testing';
import { reconciliationProjection } from '../../src/reconciliation/reconciliationProjection.js';
import { liveCollections } from '../../src/runtime/projection.js';
import { createProjector } from '../../src/runtime/projector.js';
import { tempPath } from '../fixtures/ledgerFixture.js';
import { LOG_START, openScenarioLog } from './reconciliationScenario.js';

const collections = liveCollections(reconciliationProjection);

describe('reconciliation projection: events it does not read', () => {
  let log: SqliteEventStore;
  let documents: DocumentStore;

  beforeEach(() => {
    ({ log } = openScenarioLog());
    documents = openSqliteDocumentStore({ path: tempPath('folio-recon-', 'readmodels.sqlite') });
  });

  afterEach(async () => {
    await documents.close();
    await log.close();
  });

  it('passes over a payment callback it has no use for, even one that would not decode, and reconciles the rest', async () => {
    const at = new Date(LOG_START).toISOString();
    await appendPayment(log, { n: 1, amount: 1000n, at, until: 'captured' });
    await log.appendToStream(paymentStream(paymentIdOf(1)), [
      { id: randomUUID(), type: 'PaymentCallbackRecorded', data: { not: 'a callback' }, metadata: { schemaVersion: 1 } },
    ]);
    await appendRowRecorded(log, { rowKey: 'txn_1', file: 'report-1', row: chargeRow(1, 1000n) }, at);
    const errors: unknown[] = [];
    const projector = createProjector({ eventStore: log, documents, definition: reconciliationProjection, onError: (error) => errors.push(error) });
    await projector.start();
    await projector.stop();
    expect(errors).to.deep.equal([]);
    const summary = await documents.get(collections.summary!, 'sandbox:EUR');
    expect(summary).to.include({ payments: 1, matched: 1, awaitingSettlement: 0, ledgerTotal: '1000', providerTotal: '1000' });
  });
});

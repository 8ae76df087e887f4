import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { paymentStream } from '@folio/shared';
import { appendPayment, appendRowRecorded, chargeRow, paymentIdOf } from '@folio/shared/testing';
import { reconciliationProjection } from '../../src/reconciliation/reconciliationProjection.js';
import { liveCollections } from '../../src/runtime/projection.js';
import { createProjector } from '../../src/runtime/projector.js';
import { LOG_START, useScenarioStores } from './reconciliationScenario.js';

const collections = liveCollections(reconciliationProjection);

describe('reconciliation projection: events it does not read', () => {
  const stores = useScenarioStores('folio-recon-');

  it('passes over a payment callback it has no use for, even one that would not decode, and reconciles the rest', async () => {
    const at = new Date(LOG_START).toISOString();
    await appendPayment(stores.log, { n: 1, amount: 1000n, at, until: 'captured' });
    await stores.log.appendToStream(paymentStream(paymentIdOf(1)), [
      { id: randomUUID(), type: 'PaymentCallbackRecorded', data: { not: 'a callback' }, metadata: { schemaVersion: 1 } },
    ]);
    await appendRowRecorded(stores.log, { rowKey: 'txn_1', file: 'report-1', row: chargeRow(1, 1000n) }, at);
    const errors: unknown[] = [];
    const projector = createProjector({ eventStore: stores.log, documents: stores.documents, definition: reconciliationProjection, onError: (error) => errors.push(error) });
    await projector.start();
    await projector.stop();
    expect(errors).to.deep.equal([]);
    const summary = await stores.documents.get(collections.summary!, 'sandbox:EUR');
    expect(summary).to.include({ payments: 1, matched: 1, awaitingSettlement: 0, ledgerTotal: '1000', providerTotal: '1000' });
  });
});

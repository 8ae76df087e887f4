import { expect } from 'chai';
import { paymentStream, type DocumentStore, type SqliteEventStore } from '@folio/shared';
import { appendPayment, appendRowRecorded, chargeRow, paymentEvents, paymentIdOf, providerRefOf } from '@folio/shared/testing';
import type { SummaryDocument } from '../../src/reconciliation/reconciliationDocuments.js';
import { reconciliationProjection } from '../../src/reconciliation/reconciliationProjection.js';
import { liveCollections } from '../../src/runtime/projection.js';
import { discrepancyLabels } from './openLabels.js';
import { catchUpReconciliation, expectSameAtBatchSizes, LOG_START, useScenarioStores } from './reconciliationScenario.js';

const collections = liveCollections(reconciliationProjection);
const at = new Date(LOG_START).toISOString();

const capture = (log: SqliteEventStore, n: number, amount: bigint) =>
  log.appendToStream(paymentStream(paymentIdOf(n)), paymentEvents({ n, amount, at, until: 'captured' }).slice(2));

/** A dispute of payment `n` that names it by its provider reference, as a Stripe dispute row does. */
const disputeRow = (n: number, amount: bigint) => ({
  ...chargeRow(n, -amount, { category: 'dispute', date: at }),
  references: [{ kind: 'charge', value: providerRefOf(n) }],
});

const expectMatched = async (documents: DocumentStore) => {
  const summary = await documents.get<SummaryDocument & { [key: string]: never }>(collections.summary!, 'sandbox:EUR');
  expect(summary).to.include({ payments: 1, matched: 1, awaitingSettlement: 0 });
  expect(await discrepancyLabels(documents)).to.not.include('PROVIDER_UNMATCHED txn_charge');
};

describe("reconciliation: only a charge row is a capture's charge", () => {
  const stores = useScenarioStores('folio-recon-charge-of-capture-');

  it('lets a capture whose dispute row came first take the waiting charge row that fits it', async () => {
    await appendPayment(stores.log, { n: 1, amount: 1000n, at, until: 'submitted' });
    await appendRowRecorded(stores.log, { rowKey: 'txn_dispute', file: 'report', row: disputeRow(1, 1000n) }, at);
    await appendRowRecorded(stores.log, { rowKey: 'txn_charge', file: 'report', row: chargeRow(1, 1000n, { withReferences: false, date: at }) }, at);
    await capture(stores.log, 1, 1000n);
    await catchUpReconciliation(stores);
    await expectMatched(stores.documents);
    await expectSameAtBatchSizes(stores);
  });

  it('gives the rules a capture whose dispute row came first, for a charge row arriving after it', async () => {
    await appendPayment(stores.log, { n: 1, amount: 1000n, at, until: 'submitted' });
    await appendRowRecorded(stores.log, { rowKey: 'txn_dispute', file: 'report', row: disputeRow(1, 1000n) }, at);
    await capture(stores.log, 1, 1000n);
    await appendRowRecorded(stores.log, { rowKey: 'txn_charge', file: 'report', row: chargeRow(1, 1000n, { withReferences: false, date: at }) }, at);
    await catchUpReconciliation(stores);
    await expectMatched(stores.documents);
    await expectSameAtBatchSizes(stores);
  });
});

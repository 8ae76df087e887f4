import { expect } from 'chai';
import { paymentStream, type DocumentStore, type SqliteEventStore, type StatementRow } from '@folio/shared';
import { appendPayment, appendRowDuplicated, appendRowRecorded, appendRowRedelivered, appendRowRestated, chargeRow, paymentEvents, paymentIdOf, rowStreamOf, type RowScript } from '@folio/shared/testing';
import type { DiscrepancyDocument, SummaryDocument } from '../../src/reconciliation/reconciliationDocuments.js';
import { reconciliationProjection } from '../../src/reconciliation/reconciliationProjection.js';
import { rebuildProjection } from '../../src/rebuild/rebuildProjection.js';
import { liveCollections } from '../../src/runtime/projection.js';
import { createProjector } from '../../src/runtime/projector.js';
import { catchUpReconciliation, labelOf, LOG_START, useScenarioStores } from './reconciliationScenario.js';

const collections = liveCollections(reconciliationProjection);
const DAY = 24 * 3_600_000;
const at = (offsetDays = 0) => new Date(LOG_START + offsetDays * DAY).toISOString();

const discrepancies = async (documents: DocumentStore, status = 'open') =>
  ((await documents.find<DiscrepancyDocument & { [key: string]: never }>(collections.discrepancies!, { limit: 1000 })).items as DiscrepancyDocument[]).filter(
    (discrepancy) => discrepancy.status === status,
  );
const labels = async (documents: DocumentStore, status = 'open') => (await discrepancies(documents, status)).map(labelOf).sort();
const summary = (documents: DocumentStore) => documents.get<SummaryDocument & { [key: string]: never }>(collections.summary!, 'sandbox:EUR');

/** A rebuild, and a catch-up one event at a time, find what the live read model found. */
const expectSameWhateverTheBatches = async (log: SqliteEventStore, documents: DocumentStore) => {
  const report = await rebuildProjection({ eventStore: log, documents, definition: reconciliationProjection, rebuildId: 'restated' });
  expect(report.identical, JSON.stringify(report.checksums)).to.equal(true);
  const single = Object.fromEntries(Object.entries(collections).map(([role, name]) => [role, `${name}_single`]));
  const projector = createProjector({
    eventStore: log,
    documents,
    definition: reconciliationProjection,
    collections: single,
    checkpointId: 'reconciliation_single',
    catchUpBatchSize: 1,
    batchSize: 1,
  });
  await projector.start();
  await projector.stop();
  for (const role of reconciliationProjection.roles) expect(await documents.checksum(single[role]!), role).to.equal(await documents.checksum(collections[role]!));
};

const script = (rowKey: string, row: StatementRow, file = 'report-1'): RowScript => ({ rowKey, file, row });
/** The provider's next file changes the row: the new version replaces `previous`. */
const restate = (log: SqliteEventStore, rowKey: string, previous: StatementRow, row: StatementRow, changedFields: string[]) =>
  appendRowRestated(log, script(rowKey, row, 'report-2'), script(rowKey, previous), changedFields, at());

/** A charge row paid out in `payoutId`, if any. */
const line = (n: number, amount: bigint, payoutId?: string): StatementRow => ({ ...chargeRow(n, amount), ...(payoutId === undefined ? {} : { payoutId }) });
const payoutRow = (payoutId: string, paidOut: bigint): StatementRow => ({
  line: 50,
  category: 'payout',
  gross: { amount: -paidOut, currency: 'EUR' },
  net: { amount: -paidOut, currency: 'EUR' },
  references: [{ kind: 'source', value: payoutId }],
  payoutId,
});
/** A charge row without references: only the rules can match it. */
const anonymous = (amount: bigint, date = at(), lineNumber = 60): StatementRow => chargeRow(0, amount, { withReferences: false, date, line: lineNumber });

describe('reconciliation: a row the provider restates', () => {
  const stores = useScenarioStores('folio-recon-restated-');

  it('leaves the payout it was restated out of, which is checked against the lines it still has', async () => {
    await appendPayment(stores.log, { n: 30, amount: 3000n, at: at(), until: 'captured' });
    await appendPayment(stores.log, { n: 31, amount: 3100n, at: at(), until: 'captured' });
    await appendRowRecorded(stores.log, script('txn_30', line(30, 3000n, 'po_1')), at());
    await appendRowRecorded(stores.log, script('txn_31', line(31, 3100n, 'po_1')), at());
    await appendRowRecorded(stores.log, script('txn_po_1', payoutRow('po_1', 6100n)), at());
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal([]);

    await restate(stores.log, 'txn_31', line(31, 3100n, 'po_1'), line(31, 3100n, 'po_2'), ['payoutId']);
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['PAYOUT_LINES_MISMATCH po_1', 'PROVIDER_ROW_RESTATED txn_31']);
    const mismatch = (await discrepancies(stores.documents)).find((discrepancy) => discrepancy.code === 'PAYOUT_LINES_MISMATCH')!;
    expect(mismatch.detail).to.include({ paidOut: '6100', linesTotal: '3000', difference: '3100', lines: '1' });
    expect(mismatch.evidence.map((evidence) => evidence.stream).sort()).to.deep.equal(['txn_30', 'txn_po_1'].map((rowKey) => rowStreamOf({ rowKey })).sort());
    await expectSameWhateverTheBatches(stores.log, stores.documents);
  });

  it('leaves its payout when restated into no payout at all', async () => {
    await appendPayment(stores.log, { n: 30, amount: 3000n, at: at(), until: 'captured' });
    await appendPayment(stores.log, { n: 31, amount: 3100n, at: at(), until: 'captured' });
    await appendRowRecorded(stores.log, script('txn_30', line(30, 3000n, 'po_1')), at());
    await appendRowRecorded(stores.log, script('txn_31', line(31, 3100n, 'po_1')), at());
    await appendRowRecorded(stores.log, script('txn_po_1', payoutRow('po_1', 3000n)), at());
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['PAYOUT_LINES_MISMATCH po_1']);

    await restate(stores.log, 'txn_31', line(31, 3100n, 'po_1'), line(31, 3100n), ['payoutId']);
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['PROVIDER_ROW_RESTATED txn_31']);
    expect(await labels(stores.documents, 'cleared')).to.deep.equal(['PAYOUT_LINES_MISMATCH po_1']);
    await expectSameWhateverTheBatches(stores.log, stores.documents);
  });

  it('matches an ambiguous row restated to name a payment to that payment, and leaves the other free for the next row', async () => {
    await appendPayment(stores.log, { n: 1, amount: 1000n, at: at(), until: 'captured' });
    await appendPayment(stores.log, { n: 2, amount: 1000n, at: at(), until: 'captured' });
    await appendRowRecorded(stores.log, script('txn_x', anonymous(1000n)), at());
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['AMBIGUOUS_MATCH txn_x']);

    await restate(stores.log, 'txn_x', anonymous(1000n), { ...anonymous(1000n), references: chargeRow(1, 1000n).references }, ['references']);
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['PROVIDER_ROW_RESTATED txn_x']);
    expect(await labels(stores.documents, 'cleared')).to.deep.equal(['AMBIGUOUS_MATCH txn_x']);
    expect(await summary(stores.documents)).to.include({ payments: 2, matched: 1, awaitingSettlement: 1 });

    // Payment 2 is no longer an ambiguous candidate of txn_x: the next row that fits it takes it.
    await appendRowRecorded(stores.log, script('txn_y', anonymous(1000n, at(), 61)), at());
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['PROVIDER_ROW_RESTATED txn_x']);
    expect(await summary(stores.documents)).to.include({ payments: 2, matched: 2, awaitingSettlement: 0, delta: '0' });
    await expectSameWhateverTheBatches(stores.log, stores.documents);
  });

  it('gives back the payment a row was restated away from, for the next row that fits it', async () => {
    await appendPayment(stores.log, { n: 1, amount: 1000n, at: at(), until: 'captured' });
    await appendPayment(stores.log, { n: 2, amount: 1000n, at: at(6), until: 'captured' });
    // Matched by the rules to payment 1: payment 2 was captured outside its date window.
    await appendRowRecorded(stores.log, script('txn_r', anonymous(1000n, at(0))), at());
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal([]);

    // Restated to a date only payment 2 fits: payment 1 is free again for a row of its own.
    await restate(stores.log, 'txn_r', anonymous(1000n, at(0)), anonymous(1000n, at(6)), ['transactionDate']);
    await appendRowRecorded(stores.log, script('txn_s', anonymous(1000n, at(0), 61)), at());
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['PROVIDER_ROW_RESTATED txn_r']);
    expect(await summary(stores.documents)).to.include({ payments: 2, matched: 2, awaitingSettlement: 0, delta: '0' });
    await expectSameWhateverTheBatches(stores.log, stores.documents);
  });

  it('lets the payment a row was restated away from take the row that was waiting for it', async () => {
    await appendPayment(stores.log, { n: 1, amount: 1000n, at: at(), until: 'captured' });
    await appendPayment(stores.log, { n: 2, amount: 2000n, at: at(), until: 'captured' });
    await appendRowRecorded(stores.log, script('txn_a', chargeRow(1, 1000n)), at());
    // Payment 1 is taken: this row waits for a capture that fits it.
    await appendRowRecorded(stores.log, script('txn_w', anonymous(1000n)), at());
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['PROVIDER_UNMATCHED txn_w']);

    await restate(stores.log, 'txn_a', chargeRow(1, 1000n), chargeRow(2, 2000n), ['gross', 'net', 'references']);
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['PROVIDER_ROW_RESTATED txn_a']);
    expect(await labels(stores.documents, 'cleared')).to.deep.equal(['PROVIDER_UNMATCHED txn_w']);
    expect(await summary(stores.documents)).to.include({ payments: 2, matched: 2, delta: '0' });
    await expectSameWhateverTheBatches(stores.log, stores.documents);
  });

  it('lets a capture that two waiting rows fitted take the one left once the other is restated to another amount', async () => {
    await appendPayment(stores.log, { n: 1, amount: 1000n, at: at(), until: 'submitted' });
    await appendRowRecorded(stores.log, script('txn_a', anonymous(1000n)), at());
    await appendRowRecorded(stores.log, script('txn_b', anonymous(1000n, at(), 61)), at());
    await stores.log.appendToStream(paymentStream(paymentIdOf(1)), paymentEvents({ n: 1, amount: 1000n, at: at(), until: 'captured' }).slice(2));
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal([`AMBIGUOUS_MATCH ${paymentIdOf(1)}`, 'PROVIDER_UNMATCHED txn_a', 'PROVIDER_UNMATCHED txn_b']);

    await restate(stores.log, 'txn_a', anonymous(1000n), anonymous(1500n), ['gross', 'net']);
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['PROVIDER_ROW_RESTATED txn_a', 'PROVIDER_UNMATCHED txn_a']);
    expect(await labels(stores.documents, 'cleared')).to.deep.equal([`AMBIGUOUS_MATCH ${paymentIdOf(1)}`, 'PROVIDER_UNMATCHED txn_b']);
    await expectSameWhateverTheBatches(stores.log, stores.documents);
  });

  it('clears the repeat of a row once the provider restates the row and repeats it no more', async () => {
    await appendPayment(stores.log, { n: 5, amount: 500n, at: at(), until: 'captured' });
    await appendRowRecorded(stores.log, script('txn_5', chargeRow(5, 500n)), at());
    await appendRowDuplicated(stores.log, script('txn_5', chargeRow(5, 500n, { line: 99 })), 6, at());
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['DUPLICATE_PROVIDER_ROW txn_5']);

    // The corrected report holds the row once, with the amount the repeat had hidden.
    await restate(stores.log, 'txn_5', chargeRow(5, 500n), chargeRow(5, 510n), ['gross', 'net']);
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal([`AMOUNT_MISMATCH ${paymentIdOf(5)}`, 'PROVIDER_ROW_RESTATED txn_5']);
    expect(await labels(stores.documents, 'cleared')).to.deep.equal(['DUPLICATE_PROVIDER_ROW txn_5']);
    expect((await summary(stores.documents))!.open).to.not.have.property('DUPLICATE_PROVIDER_ROW');
    await expectSameWhateverTheBatches(stores.log, stores.documents);
  });

  it('keeps the repeat of a row open while the restating report repeats the row too', async () => {
    await appendRowRecorded(stores.log, script('txn_5', chargeRow(5, 500n)), at());
    await appendRowDuplicated(stores.log, script('txn_5', chargeRow(5, 500n, { line: 99 })), 6, at());
    await catchUpReconciliation(stores);

    await restate(stores.log, 'txn_5', chargeRow(5, 500n), chargeRow(5, 510n), ['gross', 'net']);
    await appendRowDuplicated(stores.log, script('txn_5', chargeRow(5, 510n, { line: 98 }), 'report-2'), 6, at());
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['DUPLICATE_PROVIDER_ROW txn_5', 'PROVIDER_ROW_RESTATED txn_5', 'PROVIDER_UNMATCHED txn_5']);
    const [duplicate] = (await discrepancies(stores.documents)).filter((discrepancy) => discrepancy.code === 'DUPLICATE_PROVIDER_ROW');
    expect(duplicate!.detail).to.include({ repeats: '1' });
    expect(duplicate!.evidence.map((evidence) => (evidence.kind === 'statement-row' ? evidence.line : undefined))).to.deep.equal([6, 98]);
    await expectSameWhateverTheBatches(stores.log, stores.documents);
  });

  it('clears the repeat of a row once a later file holds the row unchanged and once', async () => {
    await appendPayment(stores.log, { n: 5, amount: 500n, at: at(), until: 'captured' });
    await appendRowRecorded(stores.log, script('txn_5', chargeRow(5, 500n)), at());
    await appendRowDuplicated(stores.log, script('txn_5', chargeRow(5, 500n, { line: 99 })), 6, at());
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['DUPLICATE_PROVIDER_ROW txn_5']);

    await appendRowRedelivered(stores.log, script('txn_5', chargeRow(5, 500n, { line: 7 }), 'report-2'), 1, at());
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal([]);
    expect(await labels(stores.documents, 'cleared')).to.deep.equal(['DUPLICATE_PROVIDER_ROW txn_5']);
    expect(await summary(stores.documents)).to.include({ payments: 1, matched: 1 });
    await expectSameWhateverTheBatches(stores.log, stores.documents);
  });

  it('judges the repeats of a row by the latest file that holds it unchanged', async () => {
    await appendRowRecorded(stores.log, script('txn_5', chargeRow(5, 500n)), at());
    await appendRowDuplicated(stores.log, script('txn_5', chargeRow(5, 500n, { line: 99 })), 6, at());
    await appendRowDuplicated(stores.log, script('txn_5', chargeRow(5, 500n, { line: 100 })), 6, at());
    await catchUpReconciliation(stores);

    // The next file repeats the row once, not twice.
    await appendRowRedelivered(stores.log, script('txn_5', chargeRow(5, 500n, { line: 7 }), 'report-2'), 2, at());
    await appendRowDuplicated(stores.log, script('txn_5', chargeRow(5, 500n, { line: 40 }), 'report-2'), 7, at());
    await catchUpReconciliation(stores);
    const [duplicate] = (await discrepancies(stores.documents)).filter((discrepancy) => discrepancy.code === 'DUPLICATE_PROVIDER_ROW');
    expect(duplicate!.detail).to.include({ repeats: '1' });
    expect(duplicate!.evidence.map((evidence) => (evidence.kind === 'statement-row' ? evidence.line : undefined))).to.deep.equal([7, 40]);
    await expectSameWhateverTheBatches(stores.log, stores.documents);
  });

  it('waits under its new amount once restated, not its old one', async () => {
    await appendRowRecorded(stores.log, script('txn_w', anonymous(1000n)), at());
    await catchUpReconciliation(stores);
    await restate(stores.log, 'txn_w', anonymous(1000n), anonymous(1500n), ['gross', 'net']);
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['PROVIDER_ROW_RESTATED txn_w', 'PROVIDER_UNMATCHED txn_w']);

    await appendPayment(stores.log, { n: 1, amount: 1000n, at: at(), until: 'captured' });
    await appendPayment(stores.log, { n: 2, amount: 1500n, at: at(), until: 'captured' });
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['PROVIDER_ROW_RESTATED txn_w']);
    expect(await summary(stores.documents)).to.include({ payments: 2, matched: 1, awaitingSettlement: 1 });
    const matched = (await stores.documents.get<{ _id: string; rows?: string[] } & { [key: string]: never }>(collections.subjects!, `payment:${paymentIdOf(2)}`))!;
    expect(matched.rows).to.deep.equal([`row:${rowStreamOf({ rowKey: 'txn_w' })}`]);
    await expectSameWhateverTheBatches(stores.log, stores.documents);
  });
});

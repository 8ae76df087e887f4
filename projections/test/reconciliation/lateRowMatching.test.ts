import { expect } from 'chai';
import { paymentStream, type DocumentStore, type SqliteEventStore } from '@folio/shared';
import { appendPayment, appendRowRecorded, chargeRow, paymentEvents, paymentIdOf } from '@folio/shared/testing';
import type { DiscrepancyDocument, SummaryDocument } from '../../src/reconciliation/reconciliationDocuments.js';
import { reconciliationProjection } from '../../src/reconciliation/reconciliationProjection.js';
import { rebuildProjection } from '../../src/rebuild/rebuildProjection.js';
import { liveCollections } from '../../src/runtime/projection.js';
import { catchUpReconciliation, expectSameAtBatchSizes, labelOf, LOG_START, useScenarioStores } from './reconciliationScenario.js';

const collections = liveCollections(reconciliationProjection);
const DAY = 24 * 3_600_000;
const at = (offsetDays = 0) => new Date(LOG_START + offsetDays * DAY).toISOString();

const labels = async (documents: DocumentStore, status: string) =>
  ((await documents.find<DiscrepancyDocument & { [key: string]: never }>(collections.discrepancies!, { limit: 1000 })).items as DiscrepancyDocument[])
    .filter((discrepancy) => discrepancy.status === status)
    .map(labelOf)
    .sort();

/** Every payment matched, nothing awaiting, the books agreeing; and a rebuild gives the same read model. */
const expectAllMatched = async (log: SqliteEventStore, documents: DocumentStore, payments: number) => {
  const summary = await documents.get<SummaryDocument & { [key: string]: never }>(collections.summary!, 'sandbox:EUR');
  expect(summary).to.include({ payments, matched: payments, awaitingSettlement: 0, delta: '0' });
  const report = await rebuildProjection({ eventStore: log, documents, definition: reconciliationProjection, rebuildId: 'check' });
  expect(report.identical, JSON.stringify(report.checksums)).to.equal(true);
};

/** The payment's events from its capture on, appended after its submission was. */
const capture = (log: SqliteEventStore, n: number, amount: bigint, when = at()) =>
  log.appendToStream(paymentStream(paymentIdOf(n)), paymentEvents({ n, amount, at: when, until: 'captured' }).slice(2));

describe('reconciliation: a provider row that arrives before its payment is captured', () => {
  const stores = useScenarioStores('folio-recon-late-');

  it('matches a row with references to the submitted payment it names, before and after the capture', async () => {
    await appendPayment(stores.log, { n: 1, amount: 1000n, at: at(), until: 'submitted' });
    await appendRowRecorded(stores.log, { rowKey: 'txn_1', file: 'early', row: chargeRow(1, 1000n) }, at());
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents, 'open')).to.deep.equal([]);
    await capture(stores.log, 1, 1000n);
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents, 'open')).to.deep.equal([]);
    const summary = await stores.documents.get<SummaryDocument & { [key: string]: never }>(collections.summary!, 'sandbox:EUR');
    expect(summary).to.include({ payments: 1, matched: 1, awaitingSettlement: 0, delta: '0' });
  });

  it('matches a row without references once the capture that fits it arrives, and clears what it reported', async () => {
    await appendPayment(stores.log, { n: 1, amount: 1000n, at: at(), until: 'submitted' });
    await appendRowRecorded(stores.log, { rowKey: 'txn_anon', file: 'early', row: chargeRow(1, 1000n, { withReferences: false, date: at() }) }, at());
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents, 'open')).to.deep.equal(['PROVIDER_UNMATCHED txn_anon']);

    await capture(stores.log, 1, 1000n);
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents, 'open')).to.deep.equal([]);
    expect(await labels(stores.documents, 'cleared')).to.deep.equal(['PROVIDER_UNMATCHED txn_anon']);
    const summary = await stores.documents.get<SummaryDocument & { [key: string]: never }>(collections.summary!, 'sandbox:EUR');
    expect(summary).to.include({ matched: 1, awaitingSettlement: 0 });

    const report = await rebuildProjection({ eventStore: stores.log, documents: stores.documents, definition: reconciliationProjection, rebuildId: 'late' });
    expect(report.identical, JSON.stringify(report.checksums)).to.equal(true);
  });

  it('reports a capture that two waiting rows fit as ambiguous and takes neither; leaves a row outside the date window reported', async () => {
    await appendPayment(stores.log, { n: 1, amount: 1000n, at: at(), until: 'submitted' });
    await appendRowRecorded(stores.log, { rowKey: 'txn_a', file: 'early', row: chargeRow(1, 1000n, { withReferences: false, date: at() }) }, at());
    await appendRowRecorded(stores.log, { rowKey: 'txn_b', file: 'early', row: chargeRow(1, 1000n, { withReferences: false, date: at(), line: 40 }) }, at());
    await appendPayment(stores.log, { n: 2, amount: 2000n, at: at(), until: 'submitted' });
    await appendRowRecorded(stores.log, { rowKey: 'txn_old', file: 'early', row: chargeRow(2, 2000n, { withReferences: false, date: at(-10) }) }, at());
    await capture(stores.log, 1, 1000n);
    await capture(stores.log, 2, 2000n);
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents, 'open')).to.deep.equal([
      `AMBIGUOUS_MATCH ${paymentIdOf(1)}`,
      'PROVIDER_UNMATCHED txn_a',
      'PROVIDER_UNMATCHED txn_b',
      'PROVIDER_UNMATCHED txn_old',
    ]);
    const ambiguous = (await stores.documents.find<DiscrepancyDocument & { [key: string]: never }>(collections.discrepancies!, { limit: 1000 })).items.find(
      (discrepancy) => discrepancy.code === 'AMBIGUOUS_MATCH',
    ) as DiscrepancyDocument;
    expect(ambiguous.detail).to.include({ candidates: 'txn_a,txn_b' });
    expect(ambiguous.evidence.filter((evidence) => evidence.kind === 'statement-row')).to.have.length(2);
  });

  it('matches a row that fitted several payments again once other rows take them: fewer candidates, then the one left', async () => {
    for (const n of [1, 2, 3]) await appendPayment(stores.log, { n, amount: 1000n, at: at(), until: 'captured' });
    await appendRowRecorded(stores.log, { rowKey: 'txn_x', file: 'report', row: chargeRow(9, 1000n, { withReferences: false, date: at() }) }, at());
    await catchUpReconciliation(stores);
    const candidates = async () =>
      ((await stores.documents.find<DiscrepancyDocument & { [key: string]: never }>(collections.discrepancies!, { limit: 1000 })).items as DiscrepancyDocument[])
        .filter((discrepancy) => discrepancy.status === 'open' && discrepancy.code === 'AMBIGUOUS_MATCH')
        .map((discrepancy) => discrepancy.detail.candidates);
    expect(await candidates()).to.deep.equal([[1, 2, 3].map(paymentIdOf).sort().join(',')]);

    await appendRowRecorded(stores.log, { rowKey: 'txn_1', file: 'report', row: chargeRow(1, 1000n, { date: at() }) }, at());
    await catchUpReconciliation(stores);
    expect(await candidates()).to.deep.equal([[2, 3].map(paymentIdOf).sort().join(',')]);

    await appendRowRecorded(stores.log, { rowKey: 'txn_2', file: 'report', row: chargeRow(2, 1000n, { date: at() }) }, at());
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents, 'open')).to.deep.equal([]);
    expect(await labels(stores.documents, 'cleared')).to.deep.equal(['AMBIGUOUS_MATCH txn_x']);
    await expectAllMatched(stores.log, stores.documents, 3);
  });

  it('lets a capture that two waiting rows fitted take the one left once another capture takes the other', async () => {
    await appendPayment(stores.log, { n: 1, amount: 1000n, at: at(), until: 'submitted' });
    await appendPayment(stores.log, { n: 2, amount: 1000n, at: at(), until: 'submitted' });
    await appendRowRecorded(stores.log, { rowKey: 'txn_a', file: 'early', row: chargeRow(1, 1000n, { withReferences: false, date: at(0) }) }, at());
    await appendRowRecorded(stores.log, { rowKey: 'txn_b', file: 'early', row: chargeRow(1, 1000n, { withReferences: false, date: at(4), line: 40 }) }, at());
    await capture(stores.log, 1, 1000n, at(2));
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents, 'open')).to.deep.equal([`AMBIGUOUS_MATCH ${paymentIdOf(1)}`, 'PROVIDER_UNMATCHED txn_a', 'PROVIDER_UNMATCHED txn_b']);

    // Only txn_a is within the date window of this capture: it takes it, and leaves txn_b to the first.
    await capture(stores.log, 2, 1000n, at(-2));
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents, 'open')).to.deep.equal([]);
    await expectAllMatched(stores.log, stores.documents, 2);
  });

  it('keeps a row that names a payment not yet known for that payment: another capture of its amount does not take it', async () => {
    await appendPayment(stores.log, { n: 2, amount: 1000n, at: at(), until: 'submitted' });
    await appendRowRecorded(stores.log, { rowKey: 'txn_3', file: 'early', row: chargeRow(3, 1000n, { date: at() }) }, at());
    await capture(stores.log, 2, 1000n);
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents, 'open')).to.deep.equal(['PROVIDER_UNMATCHED txn_3']);

    await appendRowRecorded(stores.log, { rowKey: 'txn_2', file: 'late', row: chargeRow(2, 1000n, { date: at() }) }, at());
    await appendPayment(stores.log, { n: 3, amount: 1000n, at: at(), until: 'captured' });
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents, 'open')).to.deep.equal([]);
    const summary = await stores.documents.get<SummaryDocument & { [key: string]: never }>(collections.summary!, 'sandbox:EUR');
    expect(summary).to.include({ payments: 2, matched: 2, awaitingSettlement: 0, delta: '0' });
  });

  it('adds a later row that fits a capture already ambiguous between waiting rows to its candidates, and gives it none of them', async () => {
    await appendPayment(stores.log, { n: 1, amount: 1000n, at: at(), until: 'submitted' });
    await appendRowRecorded(stores.log, { rowKey: 'txn_a', file: 'early', row: chargeRow(1, 1000n, { withReferences: false, date: at() }) }, at());
    await appendRowRecorded(stores.log, { rowKey: 'txn_b', file: 'early', row: chargeRow(1, 1000n, { withReferences: false, date: at(), line: 40 }) }, at());
    await capture(stores.log, 1, 1000n);
    await catchUpReconciliation(stores);
    await appendRowRecorded(stores.log, { rowKey: 'txn_c', file: 'late', row: chargeRow(1, 1000n, { withReferences: false, date: at(), line: 41 }) }, at());
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents, 'open')).to.deep.equal([
      `AMBIGUOUS_MATCH ${paymentIdOf(1)}`,
      'PROVIDER_UNMATCHED txn_a',
      'PROVIDER_UNMATCHED txn_b',
      'PROVIDER_UNMATCHED txn_c',
    ]);
    const ambiguous = (await stores.documents.find<DiscrepancyDocument & { [key: string]: never }>(collections.discrepancies!, { limit: 1000 })).items.find(
      (discrepancy) => discrepancy.code === 'AMBIGUOUS_MATCH',
    ) as DiscrepancyDocument;
    expect(ambiguous.detail).to.include({ candidates: 'txn_a,txn_b,txn_c' });
    await expectSameAtBatchSizes(stores);

    // Another capture of that amount takes no guess either: the three rows fit it as well.
    await appendPayment(stores.log, { n: 2, amount: 1000n, at: at(), until: 'captured' });
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents, 'open')).to.deep.equal(
      [`AMBIGUOUS_MATCH ${paymentIdOf(1)}`, `AMBIGUOUS_MATCH ${paymentIdOf(2)}`, 'PROVIDER_UNMATCHED txn_a', 'PROVIDER_UNMATCHED txn_b', 'PROVIDER_UNMATCHED txn_c'].sort(),
    );
  });

  it('lets a later row take a capture that no waiting row fitted', async () => {
    await appendPayment(stores.log, { n: 1, amount: 1000n, at: at(), until: 'submitted' });
    await appendRowRecorded(stores.log, { rowKey: 'txn_other', file: 'early', row: chargeRow(1, 999n, { withReferences: false, date: at() }) }, at());
    await capture(stores.log, 1, 1000n);
    await appendRowRecorded(stores.log, { rowKey: 'txn_late', file: 'late', row: chargeRow(1, 1000n, { withReferences: false, date: at() }) }, at());
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents, 'open')).to.deep.equal(['PROVIDER_UNMATCHED txn_other']);
  });
});

import { expect } from 'chai';
import type { DocumentStore, StatementRow } from '@folio/shared';
import { appendPayment, appendRowRecorded, chargeRow, paymentIdOf, providerRefOf } from '@folio/shared/testing';
import type { DiscrepancyDocument, SummaryDocument } from '../../src/reconciliation/reconciliationDocuments.js';
import { reconciliationProjection } from '../../src/reconciliation/reconciliationProjection.js';
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
const summary = (documents: DocumentStore) => documents.get<SummaryDocument & { [key: string]: never }>(collections.summary!, 'sandbox:EUR');

/** A charge row without references, of payment `n`'s amount: only the rules can match it. */
const anonymous = (amount: bigint, line: number, date = at()): StatementRow => chargeRow(0, amount, { withReferences: false, date, line });

describe('reconciliation: a reference outranks a rule match', () => {
  const stores = useScenarioStores('folio-recon-outranks-');

  for (const order of ['named row first', 'anonymous row first']) {
    it(`gives a capture to the row that names it, not to a row the rules guessed, whatever came first (${order})`, async () => {
      await appendPayment(stores.log, { n: 1, amount: 1000n, at: at(), until: 'captured' });
      const named = () => appendRowRecorded(stores.log, { rowKey: 'txn_1', file: 'report', row: chargeRow(1, 1000n, { date: at() }) }, at());
      const guessed = () => appendRowRecorded(stores.log, { rowKey: 'txn_other', file: 'report', row: anonymous(1000n, 40) }, at());
      if (order === 'named row first') {
        await named();
        await guessed();
      } else {
        await guessed();
        await named();
      }
      await catchUpReconciliation(stores);
      expect(await labels(stores.documents, 'open')).to.deep.equal(['PROVIDER_UNMATCHED txn_other']);
      expect(await labels(stores.documents, 'cleared')).to.deep.equal([]);
      expect(await summary(stores.documents)).to.include({ payments: 1, matched: 1, awaitingSettlement: 0 });
      await expectSameAtBatchSizes(stores);
    });
  }

  it('matches the row the rules had guessed afresh once the named row takes its capture: to the capture left free', async () => {
    await appendPayment(stores.log, { n: 1, amount: 1000n, at: at(), until: 'captured' });
    await appendRowRecorded(stores.log, { rowKey: 'txn_other', file: 'report', row: anonymous(1000n, 40) }, at());
    await appendPayment(stores.log, { n: 2, amount: 1000n, at: at(), until: 'captured' });
    await catchUpReconciliation(stores);
    expect(await summary(stores.documents)).to.include({ payments: 2, matched: 1, awaitingSettlement: 1 });

    await appendRowRecorded(stores.log, { rowKey: 'txn_1', file: 'report', row: chargeRow(1, 1000n, { date: at() }) }, at());
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents, 'open')).to.deep.equal([]);
    expect(await labels(stores.documents, 'cleared')).to.deep.equal([]);
    expect(await summary(stores.documents)).to.include({ payments: 2, matched: 2, awaitingSettlement: 0, delta: '0' });
    await expectSameAtBatchSizes(stores);
  });

  for (const order of ['payment first', 'row first']) {
    it(`never gives a row naming a provider reference to a capture with another one (${order})`, async () => {
      // Both captured long ago: the one left without its row is missing.
      const old = at(-10);
      const row = { ...chargeRow(2, 1000n, { date: old }), references: [{ kind: 'payment_intent', value: providerRefOf(2) }] };
      const other = () => appendPayment(stores.log, { n: 1, amount: 1000n, at: old, until: 'captured' });
      const named = () => appendRowRecorded(stores.log, { rowKey: 'txn_2', file: 'report', row }, at());
      if (order === 'payment first') {
        await other();
        await named();
      } else {
        await named();
        await other();
      }
      await catchUpReconciliation(stores);
      expect(await labels(stores.documents, 'open')).to.deep.equal([`INTERNAL_UNMATCHED ${paymentIdOf(1)}`, 'PROVIDER_UNMATCHED txn_2']);

      await appendPayment(stores.log, { n: 2, amount: 1000n, at: old, until: 'captured' });
      await catchUpReconciliation(stores);
      expect(await labels(stores.documents, 'open')).to.deep.equal([`INTERNAL_UNMATCHED ${paymentIdOf(1)}`]);
      // Submitted long before the log's time, each payment was pending too long until its capture was read.
      expect((await labels(stores.documents, 'cleared')).filter((label) => !label.startsWith('STALE_PENDING'))).to.deep.equal(['PROVIDER_UNMATCHED txn_2']);
      await expectSameAtBatchSizes(stores);
    });
  }
});

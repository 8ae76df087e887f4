import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { statementRowStream, type CurrencyCode, type DocumentStore, type SqliteEventStore, type StatementRow } from '@folio/shared';
import { statementEvent } from '@folio/shared/testing';
import type { DiscrepancyDocument } from '../../src/reconciliation/reconciliationDocuments.js';
import { reconciliationProjection } from '../../src/reconciliation/reconciliationProjection.js';
import { rebuildProjection } from '../../src/rebuild/rebuildProjection.js';
import { liveCollections } from '../../src/runtime/projection.js';
import { catchUpReconciliation, expectSameAtBatchSizes, LOG_START, useScenarioStores } from './reconciliationScenario.js';

const collections = liveCollections(reconciliationProjection);
const hash = (text: string) => createHash('sha256').update(text).digest('hex');
const DAY = 24 * 3_600_000;
const day = (offset: number) => new Date(LOG_START + offset * DAY).toISOString().slice(0, 10);

/** The payout row of a provider's report: money leaving its balance for the bank. */
const payoutRow = (payoutId: string, paidOut: bigint, date = day(0), currency: CurrencyCode = 'EUR'): StatementRow => ({
  line: 9,
  category: 'payout',
  gross: { amount: -paidOut, currency },
  fee: { amount: 0n, currency },
  net: { amount: -paidOut, currency },
  references: [
    { kind: 'balance_transaction', value: `txn_${payoutId}` },
    { kind: 'source', value: payoutId },
  ],
  payoutId,
  bookingDate: `${date}T00:00:00`,
});

/** A credit on the bank statement, as the camt.053 importer writes it. */
const bankCredit = (amount: bigint, options: { reference?: string; date?: string; currency?: CurrencyCode } = {}): StatementRow => ({
  line: 20,
  category: 'PMNT/RCDT/ESCT',
  net: { amount, currency: options.currency ?? 'EUR' },
  references: options.reference === undefined ? [] : [{ kind: 'end_to_end_id', value: options.reference }],
  bookingDate: options.date ?? day(1),
  valueDate: options.date ?? day(1),
  status: 'BOOK',
});

const append = (log: SqliteEventStore, provider: string, format: 'stripe-balance' | 'camt053' | 'mt940' | 'csv', rowKey: string, row: StatementRow) =>
  log.appendToStream(statementRowStream(provider, rowKey), [
    statementEvent(
      {
        type: 'StatementRowRecorded',
        data: { provider, format, fileHash: hash(`${provider}-${rowKey}`), rowKey, versionHash: hash(JSON.stringify(row, (_, v) => (typeof v === 'bigint' ? v.toString() : v))), row },
      },
      new Date(LOG_START).toISOString(),
    ),
  ]);

const versionHash = (row: StatementRow) => hash(JSON.stringify(row, (_, v) => (typeof v === 'bigint' ? v.toString() : v)));

/** A later file's version of a row: the bank reversed a credit, or a provider changed a payout. */
const restate = (log: SqliteEventStore, provider: string, format: 'stripe-balance' | 'camt053', rowKey: string, previous: StatementRow, row: StatementRow) =>
  log.appendToStream(statementRowStream(provider, rowKey), [
    statementEvent(
      {
        type: 'StatementRowRestated',
        data: {
          provider,
          format,
          fileHash: hash(`${provider}-${rowKey}-restated`),
          rowKey,
          versionHash: versionHash(row),
          row,
          previousVersionHash: versionHash(previous),
          previousFileHash: hash(`${provider}-${rowKey}`),
          previous,
          changedFields: Object.keys(row).filter((key) => versionHash({ [key]: row[key as keyof StatementRow] } as never) !== versionHash({ [key]: previous[key as keyof StatementRow] } as never)),
        },
      },
      new Date(LOG_START).toISOString(),
    ),
  ]);

const payout = (log: SqliteEventStore, payoutId: string, paidOut: bigint, date?: string, currency?: CurrencyCode) =>
  append(log, 'stripe', 'stripe-balance', `txn_${payoutId}`, payoutRow(payoutId, paidOut, date, currency));
const credit = (log: SqliteEventStore, rowKey: string, amount: bigint, options?: Parameters<typeof bankCredit>[1]) =>
  append(log, 'bank', 'camt053', rowKey, bankCredit(amount, options));

const discrepancies = async (documents: DocumentStore, status = 'open') =>
  ((await documents.find<DiscrepancyDocument & { [key: string]: never }>(collections.discrepancies!, { limit: 1000 })).items as DiscrepancyDocument[]).filter(
    (discrepancy) => discrepancy.status === status,
  );
const labels = async (documents: DocumentStore, status = 'open') =>
  (await discrepancies(documents, status))
    .map((discrepancy) => [discrepancy.code, discrepancy.detail.rowKey, discrepancy.detail.payoutId].filter((part) => part !== undefined).join(' '))
    .sort();

describe('reconciliation: a bank credit to the provider payout that sent it', () => {
  const stores = useScenarioStores('folio-recon-bank-');

  it('matches a credit to its payout by the reference the bank shows, and reports a wrong amount with both rows as evidence', async () => {
    await payout(stores.log, 'po_1', 10_000n);
    await payout(stores.log, 'po_2', 20_000n);
    await credit(stores.log, 'B1', 10_000n, { reference: 'po_1' });
    await credit(stores.log, 'B2', 20_001n, { reference: 'po_2' });
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['AMOUNT_MISMATCH B2 po_2']);
    const [mismatch] = await discrepancies(stores.documents);
    expect(mismatch!.provider).to.equal('bank');
    expect(mismatch!.detail).to.include({ paidOut: '20000', credited: '20001', difference: '1', payoutProvider: 'stripe', currency: 'EUR' });
    expect(mismatch!.evidence.map((evidence) => evidence.stream)).to.deep.equal([statementRowStream('bank', 'B2'), statementRowStream('stripe', 'txn_po_2')]);
  });

  it('matches a credit without reference by amount, currency and date window, and reports one that fits two payouts', async () => {
    await payout(stores.log, 'po_1', 10_000n);
    await payout(stores.log, 'po_2', 30_000n);
    await payout(stores.log, 'po_3', 30_000n);
    await payout(stores.log, 'po_old', 40_000n, day(-10));
    await credit(stores.log, 'B1', 10_000n);
    await credit(stores.log, 'B2', 30_000n);
    await credit(stores.log, 'B3', 40_000n);
    await catchUpReconciliation(stores);
    // po_old was due at the bank long before the credits' day: it is missing there.
    expect(await labels(stores.documents)).to.deep.equal(['AMBIGUOUS_MATCH B2', 'INTERNAL_UNMATCHED po_old', 'PROVIDER_UNMATCHED B3']);
    const ambiguous = (await discrepancies(stores.documents)).find((discrepancy) => discrepancy.code === 'AMBIGUOUS_MATCH')!;
    expect(ambiguous.detail.candidates).to.equal('po_2,po_3');
    expect(ambiguous.evidence).to.have.length(3);
  });

  it('matches a credit that fitted two payouts to the other one once a credit naming the first takes it', async () => {
    await payout(stores.log, 'po_2', 30_000n);
    await payout(stores.log, 'po_3', 30_000n);
    await credit(stores.log, 'B2', 30_000n);
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['AMBIGUOUS_MATCH B2']);

    await credit(stores.log, 'B4', 30_000n, { reference: 'po_2' });
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal([]);
    expect(await labels(stores.documents, 'cleared')).to.deep.equal(['AMBIGUOUS_MATCH B2']);
    const report = await rebuildProjection({ eventStore: stores.log, documents: stores.documents, definition: reconciliationProjection, rebuildId: 'refresh' });
    expect(report.identical, JSON.stringify(report.checksums)).to.equal(true);
  });

  it('consumes a payout once: a second credit naming it is unmatched, not matched by amount to another payout', async () => {
    await payout(stores.log, 'po_1', 10_000n);
    await payout(stores.log, 'po_2', 10_000n, day(0));
    await credit(stores.log, 'B1', 10_000n, { reference: 'po_1' });
    await credit(stores.log, 'B2', 10_000n, { reference: 'po_1' });
    await credit(stores.log, 'B3', 10_000n);
    await catchUpReconciliation(stores);
    // B3 names no payout: po_2 is the one open payout it fits.
    expect(await labels(stores.documents)).to.deep.equal(['PROVIDER_UNMATCHED B2']);
  });

  for (const order of ['second credit first', 'other payout first']) {
    it(`gives a credit naming a payout another credit took no other payout by amount, whichever arrives first (${order})`, async () => {
      await payout(stores.log, 'po_1', 10_000n);
      await credit(stores.log, 'B1', 10_000n, { reference: 'po_1' });
      const second = () => credit(stores.log, 'B2', 10_000n, { reference: 'po_1' });
      const other = () => payout(stores.log, 'po_2', 10_000n);
      if (order === 'second credit first') {
        await second();
        await other();
      } else {
        await other();
        await second();
      }
      await credit(stores.log, 'B3', 10_000n);
      await catchUpReconciliation(stores);
      // po_2 is B3's, the credit that names no payout; B2 is a second credit for po_1.
      expect(await labels(stores.documents)).to.deep.equal(['PROVIDER_UNMATCHED B2']);
      await expectSameAtBatchSizes(stores);
    });
  }

  it('gives a payout back when the credit that consumed it is restated as reversed, and a credit back when its payout is restated away', async () => {
    await payout(stores.log, 'po_1', 10_000n);
    await credit(stores.log, 'B1', 10_000n, { reference: 'po_1' });
    await payout(stores.log, 'po_2', 20_000n);
    await credit(stores.log, 'B2', 20_000n, { reference: 'po_2' });
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal([]);

    await restate(stores.log, 'bank', 'camt053', 'B1', bankCredit(10_000n, { reference: 'po_1' }), { ...bankCredit(10_000n, { reference: 'po_1' }), reversal: true });
    await credit(stores.log, 'B3', 10_000n);
    await restate(stores.log, 'stripe', 'stripe-balance', 'txn_po_2', payoutRow('po_2', 20_000n), { ...payoutRow('po_2', 20_000n), gross: { amount: 0n, currency: 'EUR' }, net: { amount: 0n, currency: 'EUR' } });
    await catchUpReconciliation(stores);
    // B3 takes po_1 that B1 no longer holds; B2 lost its payout and names no other.
    expect(await labels(stores.documents)).to.deep.equal(['PROVIDER_ROW_RESTATED B1', 'PROVIDER_ROW_RESTATED txn_po_2', 'PROVIDER_UNMATCHED B2']);
  });

  it('matches a credit the bank restates to another amount afresh: the payout its last version took is free for the credit that fits it', async () => {
    await payout(stores.log, 'po_1', 10_000n);
    await payout(stores.log, 'po_2', 20_000n);
    await credit(stores.log, 'B1', 10_000n);
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal([]);

    // The bank corrects B1 to 200.00: it is po_2's credit, and po_1's arrives next.
    await restate(stores.log, 'bank', 'camt053', 'B1', bankCredit(10_000n), bankCredit(20_000n));
    await credit(stores.log, 'B2', 10_000n);
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['PROVIDER_ROW_RESTATED B1']);
    await expectSameAtBatchSizes(stores);
  });

  it('keeps a credit restated to another amount on the payout it names, and reports the difference', async () => {
    await payout(stores.log, 'po_1', 10_000n);
    await payout(stores.log, 'po_2', 20_000n);
    await credit(stores.log, 'B1', 10_000n, { reference: 'po_1' });
    await restate(stores.log, 'bank', 'camt053', 'B1', bankCredit(10_000n, { reference: 'po_1' }), bankCredit(20_000n, { reference: 'po_1' }));
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['AMOUNT_MISMATCH B1 po_1', 'PROVIDER_ROW_RESTATED B1']);
    await expectSameAtBatchSizes(stores);
  });

  for (const change of ['amount', 'date'])
    for (const order of ['restated first', 'restated last']) {
      it(`matches a payout the provider restates to another ${change} afresh: the credit its last version took goes to the payout it fits (${order})`, async () => {
        await payout(stores.log, 'po_1', 10_000n);
        await credit(stores.log, 'B1', 10_000n);
        await catchUpReconciliation(stores);
        expect(await labels(stores.documents)).to.deep.equal([]);

        // The provider corrects po_1 to 200.00 (B2 is its credit), or to a day long before B1: B1 is po_2's credit.
        const corrected = change === 'amount' ? payoutRow('po_1', 20_000n) : payoutRow('po_1', 10_000n, day(-10));
        const restatement = () => restate(stores.log, 'stripe', 'stripe-balance', 'txn_po_1', payoutRow('po_1', 10_000n), corrected);
        const others = async () => {
          await payout(stores.log, 'po_2', 10_000n);
          await credit(stores.log, 'B2', 20_000n);
        };
        if (order === 'restated first') {
          await restatement();
          await others();
        } else {
          await others();
          await restatement();
        }
        // The bank reports its account past the day the payouts were due.
        await credit(stores.log, 'B9', 5_000n, { reference: 'rent', date: day(4) });
        await catchUpReconciliation(stores);
        expect(await labels(stores.documents)).to.deep.equal(
          change === 'amount'
            ? ['PROVIDER_ROW_RESTATED txn_po_1', 'PROVIDER_UNMATCHED B9']
            : ['INTERNAL_UNMATCHED po_1', 'PROVIDER_ROW_RESTATED txn_po_1', 'PROVIDER_UNMATCHED B2', 'PROVIDER_UNMATCHED B9'],
        );
        await expectSameAtBatchSizes(stores);
      });
    }

  it('keeps a payout restated to another amount on the credit that names it, before a second credit naming it, and reports the difference', async () => {
    await payout(stores.log, 'po_1', 10_000n);
    await credit(stores.log, 'B1', 10_000n, { reference: 'po_1' });
    await credit(stores.log, 'B2', 20_000n, { reference: 'po_1' });
    await payout(stores.log, 'po_2', 20_000n);
    await restate(stores.log, 'stripe', 'stripe-balance', 'txn_po_1', payoutRow('po_1', 10_000n), payoutRow('po_1', 20_000n));
    await catchUpReconciliation(stores);
    // B2 is a second credit for po_1, neither given it now it fits B2's amount nor given po_2 by amount.
    expect(await labels(stores.documents)).to.deep.equal(['AMOUNT_MISMATCH B1 po_1', 'PROVIDER_ROW_RESTATED txn_po_1', 'PROVIDER_UNMATCHED B2']);
    await expectSameAtBatchSizes(stores);
  });

  it('gives the credit of a payout row restated into another payout to that payout, and forgets the payout it was', async () => {
    await payout(stores.log, 'po_1', 10_000n);
    await credit(stores.log, 'B1', 10_000n);
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal([]);

    await restate(stores.log, 'stripe', 'stripe-balance', 'txn_po_1', payoutRow('po_1', 10_000n), payoutRow('po_9', 10_000n));
    // The bank reports its account past the day both payouts were due.
    await credit(stores.log, 'B9', 5_000n, { reference: 'rent', date: day(4) });
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['PROVIDER_ROW_RESTATED txn_po_1', 'PROVIDER_UNMATCHED B9']);
    const report = await rebuildProjection({ eventStore: stores.log, documents: stores.documents, definition: reconciliationProjection, rebuildId: 'moved' });
    expect(report.identical, JSON.stringify(report.checksums)).to.equal(true);
  });

  it('reports a credit in another currency than its payout', async () => {
    await payout(stores.log, 'po_1', 10_000n);
    await credit(stores.log, 'B1', 10_000n, { reference: 'po_1', currency: 'USD' });
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['CURRENCY_MISMATCH B1 po_1']);
  });

  it('reports a payout that two waiting credits fit as ambiguous and takes neither', async () => {
    await credit(stores.log, 'B1', 10_000n);
    await credit(stores.log, 'B2', 10_000n);
    await catchUpReconciliation(stores);
    await payout(stores.log, 'po_1', 10_000n);
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['AMBIGUOUS_MATCH po_1', 'PROVIDER_UNMATCHED B1', 'PROVIDER_UNMATCHED B2']);
    const ambiguous = (await discrepancies(stores.documents)).find((discrepancy) => discrepancy.code === 'AMBIGUOUS_MATCH')!;
    expect(ambiguous.detail).to.include({ candidates: 'B1,B2', paidOut: '10000', currency: 'EUR' });
    expect(ambiguous.evidence.map((evidence) => evidence.stream)).to.deep.equal([
      statementRowStream('stripe', 'txn_po_1'),
      statementRowStream('bank', 'B1'),
      statementRowStream('bank', 'B2'),
    ]);
  });

  it('adds a later credit that fits a payout already ambiguous between waiting credits to its candidates, and gives it none of them', async () => {
    await credit(stores.log, 'B1', 10_000n);
    await credit(stores.log, 'B2', 10_000n);
    await payout(stores.log, 'po_1', 10_000n);
    await catchUpReconciliation(stores);
    await credit(stores.log, 'B3', 10_000n);
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['AMBIGUOUS_MATCH po_1', 'PROVIDER_UNMATCHED B1', 'PROVIDER_UNMATCHED B2', 'PROVIDER_UNMATCHED B3']);
    const ambiguous = (await discrepancies(stores.documents)).find((discrepancy) => discrepancy.code === 'AMBIGUOUS_MATCH')!;
    expect(ambiguous.detail.candidates!.split(',').sort()).to.deep.equal(['B1', 'B2', 'B3']);
    await expectSameAtBatchSizes(stores);
  });

  for (const change of ['reversed', 'restated to another amount']) {
    it(`lets a payout that two waiting credits fitted take the one left once the other is ${change}`, async () => {
      await credit(stores.log, 'B1', 10_000n);
      await credit(stores.log, 'B2', 10_000n);
      await payout(stores.log, 'po_1', 10_000n);
      await catchUpReconciliation(stores);
      expect(await labels(stores.documents)).to.deep.equal(['AMBIGUOUS_MATCH po_1', 'PROVIDER_UNMATCHED B1', 'PROVIDER_UNMATCHED B2']);

      const restated = change === 'reversed' ? { ...bankCredit(10_000n), reversal: true } : bankCredit(9_000n);
      await restate(stores.log, 'bank', 'camt053', 'B2', bankCredit(10_000n), restated);
      await catchUpReconciliation(stores);
      expect(await labels(stores.documents)).to.deep.equal(change === 'reversed' ? ['PROVIDER_ROW_RESTATED B2'] : ['PROVIDER_ROW_RESTATED B2', 'PROVIDER_UNMATCHED B2']);
      expect(await labels(stores.documents, 'cleared')).to.include.members(['AMBIGUOUS_MATCH po_1', 'PROVIDER_UNMATCHED B1']);
      await expectSameAtBatchSizes(stores);
    });
  }

  for (const change of ['restated away', 'restated to another amount']) {
    it(`matches a credit that fitted two payouts to the one left once the other is ${change}`, async () => {
      await payout(stores.log, 'po_1', 10_000n);
      await payout(stores.log, 'po_2', 10_000n);
      await credit(stores.log, 'B1', 10_000n);
      await catchUpReconciliation(stores);
      expect(await labels(stores.documents)).to.deep.equal(['AMBIGUOUS_MATCH B1']);

      const amount = change === 'restated away' ? 0n : -5_000n;
      const restated = { ...payoutRow('po_2', 10_000n), gross: { amount, currency: 'EUR' as const }, net: { amount, currency: 'EUR' as const } };
      await restate(stores.log, 'stripe', 'stripe-balance', 'txn_po_2', payoutRow('po_2', 10_000n), restated);
      await catchUpReconciliation(stores);
      expect(await labels(stores.documents)).to.deep.equal(['PROVIDER_ROW_RESTATED txn_po_2']);
      expect(await labels(stores.documents, 'cleared')).to.deep.equal(['AMBIGUOUS_MATCH B1']);
      await expectSameAtBatchSizes(stores);
    });
  }

  it('lets a payout that two waiting credits fitted take the one left once another payout takes the other', async () => {
    await credit(stores.log, 'B1', 10_000n, { date: day(0) });
    await credit(stores.log, 'B2', 10_000n, { date: day(4) });
    await catchUpReconciliation(stores);
    await payout(stores.log, 'po_1', 10_000n, day(2));
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['AMBIGUOUS_MATCH po_1', 'PROVIDER_UNMATCHED B1', 'PROVIDER_UNMATCHED B2']);

    // Only B1 is within the date window of this payout: it takes it, and leaves B2 to the first.
    await payout(stores.log, 'po_2', 10_000n, day(-2));
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal([]);
    const report = await rebuildProjection({ eventStore: stores.log, documents: stores.documents, definition: reconciliationProjection, rebuildId: 'left' });
    expect(report.identical, JSON.stringify(report.checksums)).to.equal(true);
  });

  it('matches a credit that arrived before its payout row once the payout row arrives, and clears what it reported', async () => {
    await credit(stores.log, 'B1', 10_000n, { reference: 'po_1' });
    await credit(stores.log, 'B2', 25_000n);
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['PROVIDER_UNMATCHED B1', 'PROVIDER_UNMATCHED B2']);

    await payout(stores.log, 'po_1', 10_000n);
    await payout(stores.log, 'po_2', 25_000n);
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal([]);
    expect(await labels(stores.documents, 'cleared')).to.deep.equal(['PROVIDER_UNMATCHED B1', 'PROVIDER_UNMATCHED B2']);
  });

  it('ignores debits and the statements of payment providers, and rebuilds to the same state', async () => {
    await payout(stores.log, 'po_1', 10_000n);
    await credit(stores.log, 'D1', -5_000n);
    await credit(stores.log, 'B1', 10_001n, { reference: 'po_1' });
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['AMOUNT_MISMATCH B1 po_1']);
    const report = await rebuildProjection({ eventStore: stores.log, documents: stores.documents, definition: reconciliationProjection, rebuildId: 'bank' });
    expect(report.identical, JSON.stringify(report.checksums)).to.equal(true);
  });

  it('reports a payout missing at the bank once the bank has reported its account past the day it was due, and clears it when its credit comes', async () => {
    await payout(stores.log, 'po_1', 10_000n);
    await payout(stores.log, 'po_2', 20_000n);
    await credit(stores.log, 'B1', 10_000n, { reference: 'po_1', date: day(2) });
    await catchUpReconciliation(stores);
    // Within the grace period (three days): awaiting, not missing.
    expect(await labels(stores.documents)).to.deep.equal([]);

    await credit(stores.log, 'B9', 5_000n, { reference: 'rent', date: day(4) });
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['INTERNAL_UNMATCHED po_2', 'PROVIDER_UNMATCHED B9']);
    const missing = (await discrepancies(stores.documents)).find((discrepancy) => discrepancy.code === 'INTERNAL_UNMATCHED')!;
    expect(missing).to.include({ provider: 'stripe', currency: 'EUR' });
    expect(missing.detail).to.include({ payoutId: 'po_2', subclass: 'missing_at_bank', paidOut: '20000', bankReportedUntil: day(4) });
    expect(missing.evidence.map((evidence) => evidence.stream)).to.deep.equal([statementRowStream('stripe', 'txn_po_2')]);

    await credit(stores.log, 'B2', 20_000n, { reference: 'po_2', date: day(5) });
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['PROVIDER_UNMATCHED B9']);
    expect(await labels(stores.documents, 'cleared')).to.deep.equal(['INTERNAL_UNMATCHED po_2']);
  });

  it('never reports missing at the bank a payout that a waiting credit takes as it arrives, by reference or by amount', async () => {
    await credit(stores.log, 'B1', 10_000n, { reference: 'po_1', date: day(0) });
    await credit(stores.log, 'B2', 25_000n, { date: day(0) });
    // The bank has reported its account well past the day both payouts are due.
    await credit(stores.log, 'B9', 5_000n, { reference: 'rent', date: day(10) });
    await catchUpReconciliation(stores);
    await payout(stores.log, 'po_1', 10_000n);
    await payout(stores.log, 'po_2', 25_000n);
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['PROVIDER_UNMATCHED B9']);
    expect(await labels(stores.documents, 'cleared')).to.deep.equal(['PROVIDER_UNMATCHED B1', 'PROVIDER_UNMATCHED B2']);
    await expectSameAtBatchSizes(stores);
  });

  it("takes credits from MT940 and from a bank's generic CSV export, but not a payment provider's CSV", async () => {
    await payout(stores.log, 'po_1', 10_000n);
    await payout(stores.log, 'po_2', 20_000n);
    await payout(stores.log, 'po_3', 30_000n);
    await append(stores.log, 'bank', 'mt940', 'M1', bankCredit(10_000n, { reference: 'po_1' }));
    await append(stores.log, 'mybank', 'csv', 'C1', bankCredit(20_001n, { reference: 'po_2' }));
    await append(stores.log, 'paypal', 'csv', 'P1', bankCredit(30_001n, { reference: 'po_3' }));
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['AMOUNT_MISMATCH C1 po_2']);
  });
});

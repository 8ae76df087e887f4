import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { paymentStream, statementRowStream, type DocumentStore, type SqliteEventStore, type StatementRow } from '@folio/shared';
import { appendPayment, appendRowRecorded, chargeRow, paymentEvents, paymentIdOf, providerRefOf, statementEvent, type PaymentScript } from '@folio/shared/testing';
import type { DiscrepancyDocument, SummaryDocument } from '../../src/reconciliation/reconciliationDocuments.js';
import { reconciliationProjection } from '../../src/reconciliation/reconciliationProjection.js';
import { rebuildProjection } from '../../src/rebuild/rebuildProjection.js';
import { liveCollections } from '../../src/runtime/projection.js';
import { catchUpReconciliation, labelOf, LOG_START, useScenarioStores } from './reconciliationScenario.js';

const collections = liveCollections(reconciliationProjection);
const at = new Date(LOG_START).toISOString();
const day = (offset: number) => new Date(LOG_START + offset * 24 * 3_600_000).toISOString().slice(0, 10);
const hash = (text: string) => createHash('sha256').update(text).digest('hex');

const labels = async (documents: DocumentStore, status = 'open') =>
  ((await documents.find<DiscrepancyDocument & { [key: string]: never }>(collections.discrepancies!, { limit: 1000 })).items as DiscrepancyDocument[])
    .filter((discrepancy) => discrepancy.status === status)
    .map(labelOf)
    .sort();

const summaryOf = (documents: DocumentStore, key: string) => documents.get<SummaryDocument & { [key: string]: never }>(collections.summary!, key);

const expectRebuildIdentical = async (log: SqliteEventStore, documents: DocumentStore) => {
  const report = await rebuildProjection({ eventStore: log, documents, definition: reconciliationProjection, rebuildId: 'scoping' });
  expect(report.identical, JSON.stringify(report.checksums)).to.equal(true);
};

/** A charge row of `provider` with no reference at all: only the rules can match it. */
const anonymousCharge = (provider: string, rowKey: string, amount: bigint) =>
  ({ provider, rowKey, file: `${provider}-report`, row: chargeRow(0, amount, { withReferences: false, date: at }) });

/** The payment's events from its capture on, appended after its submission was. */
const capture = (log: SqliteEventStore, script: Omit<PaymentScript, 'until'>) =>
  log.appendToStream(paymentStream(paymentIdOf(script.n)), paymentEvents({ ...script, until: 'captured' }).slice(2));

describe('reconciliation: a provider row matches only payments made through that provider', () => {
  const stores = useScenarioStores('folio-recon-scope-');

  it('does not match a row by the rules to a payment of another provider, and leaves that payment to its own row', async () => {
    await appendPayment(stores.log, { n: 1, amount: 1500n, at, until: 'captured', provider: 'stripe' });
    await appendRowRecorded(stores.log, anonymousCharge('sandbox', 'txn_sandbox', 1500n), at);
    await appendRowRecorded(stores.log, anonymousCharge('stripe', 'txn_stripe', 1500n), at);
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['PROVIDER_UNMATCHED txn_sandbox']);
    expect(await summaryOf(stores.documents, 'stripe:EUR')).to.include({ payments: 1, matched: 1, awaitingSettlement: 0, delta: '0' });
    await expectRebuildIdentical(stores.log, stores.documents);
  });

  it('does not report a row as ambiguous between payments of two providers with the same amount', async () => {
    await appendPayment(stores.log, { n: 1, amount: 1500n, at, until: 'captured', provider: 'stripe' });
    await appendPayment(stores.log, { n: 2, amount: 1500n, at, until: 'captured', provider: 'sandbox' });
    await appendRowRecorded(stores.log, anonymousCharge('sandbox', 'txn_sandbox', 1500n), at);
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal([]);
    expect(await summaryOf(stores.documents, 'sandbox:EUR')).to.include({ payments: 1, matched: 1 });
    expect(await summaryOf(stores.documents, 'stripe:EUR')).to.include({ payments: 1, matched: 0, awaitingSettlement: 1 });
  });

  it('lets a capture take only a waiting row of its own provider, and counts only those for ambiguity', async () => {
    await appendPayment(stores.log, { n: 1, amount: 1500n, at, until: 'submitted', provider: 'sandbox' });
    await appendPayment(stores.log, { n: 2, amount: 1500n, at, until: 'submitted', provider: 'stripe' });
    await appendRowRecorded(stores.log, anonymousCharge('stripe', 'txn_stripe', 1500n), at);
    await appendRowRecorded(stores.log, anonymousCharge('paypal', 'txn_paypal', 1500n), at);
    await capture(stores.log, { n: 1, amount: 1500n, at, provider: 'sandbox' });
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['PROVIDER_UNMATCHED txn_paypal', 'PROVIDER_UNMATCHED txn_stripe']);

    await capture(stores.log, { n: 2, amount: 1500n, at, provider: 'stripe' });
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['PROVIDER_UNMATCHED txn_paypal']);
    expect(await summaryOf(stores.documents, 'stripe:EUR')).to.include({ payments: 1, matched: 1 });
    expect(await summaryOf(stores.documents, 'sandbox:EUR')).to.include({ payments: 1, matched: 0, awaitingSettlement: 1 });
    await expectRebuildIdentical(stores.log, stores.documents);
  });

  it('matches a provider reference or a payment id only to a payment of the row\'s provider, whichever arrives first', async () => {
    const namingReference = (provider: string, rowKey: string, n: number) => ({
      provider,
      rowKey,
      file: `${provider}-report`,
      row: { ...chargeRow(n, 1000n * BigInt(n)), references: [{ kind: 'charge', value: providerRefOf(n) }] },
    });
    const namingPaymentId = (provider: string, rowKey: string, n: number) => ({
      provider,
      rowKey,
      file: `${provider}-report`,
      row: { ...chargeRow(n, 1000n * BigInt(n)), references: [{ kind: 'payment_metadata:folio_payment_id', value: paymentIdOf(n) }] },
    });
    // The payment first, then rows of another provider naming it.
    await appendPayment(stores.log, { n: 1, amount: 1000n, at, until: 'captured', provider: 'stripe' });
    await appendRowRecorded(stores.log, namingReference('sandbox', 'txn_ref_before', 1), at);
    await appendRowRecorded(stores.log, namingPaymentId('sandbox', 'txn_id_before', 1), at);
    // Rows of another provider naming a payment still to come, then the payment.
    await appendRowRecorded(stores.log, namingReference('sandbox', 'txn_ref_early', 2), at);
    await appendRowRecorded(stores.log, namingPaymentId('sandbox', 'txn_id_early', 3), at);
    await appendPayment(stores.log, { n: 2, amount: 2000n, at, until: 'captured', provider: 'stripe' });
    await appendPayment(stores.log, { n: 3, amount: 3000n, at, until: 'captured', provider: 'stripe' });
    // The payment's own provider's row still finds it by reference.
    await appendRowRecorded(stores.log, namingReference('stripe', 'txn_ref_own', 1), at);
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(
      ['PROVIDER_UNMATCHED txn_id_before', 'PROVIDER_UNMATCHED txn_id_early', 'PROVIDER_UNMATCHED txn_ref_before', 'PROVIDER_UNMATCHED txn_ref_early'].sort(),
    );
    expect(await summaryOf(stores.documents, 'stripe:EUR')).to.include({ payments: 3, matched: 1, awaitingSettlement: 2 });
    await expectRebuildIdentical(stores.log, stores.documents);
  });
});

/** A row of an Adyen settlement batch as the importer records it: under its merchant account. */
const appendAdyenRow = (log: SqliteEventStore, account: string, rowKey: string, row: StatementRow) =>
  log.appendToStream(statementRowStream('adyen', `${account}|${rowKey}`), [
    statementEvent(
      {
        type: 'StatementRowRecorded',
        data: {
          provider: 'adyen',
          format: 'adyen-sdr',
          fileHash: hash(`batch-${row.payoutId}-${account}`),
          statementId: `${account}/${row.payoutId}`,
          account,
          rowKey: `${account}|${rowKey}`,
          versionHash: hash(`${account}|${rowKey}`),
          row,
        },
      },
      at,
    ),
  ]);

const settled = (psp: string, net: bigint): StatementRow => ({
  line: 2,
  category: 'Settled',
  gross: { amount: net, currency: 'EUR' },
  net: { amount: net, currency: 'EUR' },
  references: [{ kind: 'psp_reference', value: psp }],
  payoutId: '134',
  bookingDate: `${day(0)}T10:00:00`,
});

const merchantPayout = (net: bigint): StatementRow => ({
  line: 3,
  category: 'MerchantPayout',
  net: { amount: -net, currency: 'EUR' },
  references: [],
  payoutId: '134',
  bookingDate: `${day(0)}T12:00:00`,
});

/** A batch's `MerchantPayout` row as the importer records it: its merchant and company accounts among its references. */
const accountPayout = (merchantAccount: string, batch: string, net: bigint): StatementRow => ({
  ...merchantPayout(net),
  references: [
    { kind: 'merchant_account', value: merchantAccount },
    { kind: 'company_account', value: 'AcmeCo' },
  ],
  payoutId: batch,
});

/** A credit on the bank statement, with no reference unless given one. */
const appendBankCredit = (log: SqliteEventStore, rowKey: string, amount: bigint, references: StatementRow['references'] = []) => {
  const row: StatementRow = { line: 20, category: 'PMNT/RCDT/ESCT', net: { amount, currency: 'EUR' }, references, bookingDate: day(1), valueDate: day(1), status: 'BOOK' };
  return log.appendToStream(statementRowStream('bank', rowKey), [
    statementEvent({ type: 'StatementRowRecorded', data: { provider: 'bank', format: 'camt053', fileHash: hash('camt'), rowKey, versionHash: hash(rowKey), row } }, at),
  ]);
};

describe('reconciliation: Adyen payouts of two merchant accounts with the same batch number', () => {
  const stores = useScenarioStores('folio-recon-adyen-');

  it('keeps each merchant account\'s batch its own payout, checked against its own lines and matched to its own bank credit', async () => {
    await appendAdyenRow(stores.log, 'AcmeCOM', 'settled', settled('8815147012345678', 3237n));
    await appendAdyenRow(stores.log, 'AcmeCOM', 'payout', merchantPayout(3237n));
    await appendAdyenRow(stores.log, 'AcmeEU', 'settled', settled('8815147000009999', 5000n));
    await appendAdyenRow(stores.log, 'AcmeEU', 'payout', merchantPayout(5000n));
    await appendBankCredit(stores.log, 'B1', 3237n);
    await appendBankCredit(stores.log, 'B2', 5000n);
    await catchUpReconciliation(stores);
    // No payments in this log: the settled rows are unmatched, and that is all.
    expect(await labels(stores.documents)).to.deep.equal(['PROVIDER_UNMATCHED AcmeCOM|settled', 'PROVIDER_UNMATCHED AcmeEU|settled']);
    await expectRebuildIdentical(stores.log, stores.documents);
  });

  it('gives a bank credit showing the batch number the batch of the merchant account it pays, whichever arrives first', async () => {
    const namingBatch = [{ kind: 'end_to_end_id', value: '134' }];
    // AcmeEU's credit waits for its batch; AcmeCOM's batch arrives first.
    await appendBankCredit(stores.log, 'B2', 5000n, namingBatch);
    await appendAdyenRow(stores.log, 'AcmeCOM', 'settled', settled('8815147012345678', 3237n));
    await appendAdyenRow(stores.log, 'AcmeCOM', 'payout', merchantPayout(3237n));
    await appendAdyenRow(stores.log, 'AcmeEU', 'settled', settled('8815147000009999', 5000n));
    await appendAdyenRow(stores.log, 'AcmeEU', 'payout', merchantPayout(5000n));
    // AcmeCOM's credit comes once both batches 134 are known.
    await appendBankCredit(stores.log, 'B1', 3237n, namingBatch);
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['PROVIDER_UNMATCHED AcmeCOM|settled', 'PROVIDER_UNMATCHED AcmeEU|settled']);
    // Unexplained only while its batch had not come.
    expect(await labels(stores.documents, 'cleared')).to.deep.equal(['PROVIDER_UNMATCHED B2']);
    await expectRebuildIdentical(stores.log, stores.documents);
  });
});

describe('reconciliation: a bank credit naming an Adyen account, which names no batch of it', () => {
  const stores = useScenarioStores('folio-recon-adyen-account-');
  const batches = async () => {
    await appendAdyenRow(stores.log, 'AcmeCOM', 'payout-134', accountPayout('AcmeCOM', '134', 3237n));
    await appendAdyenRow(stores.log, 'AcmeCOM', 'payout-135', accountPayout('AcmeCOM', '135', 5000n));
    await appendAdyenRow(stores.log, 'AcmeEU', 'payout-134', accountPayout('AcmeEU', '134', 4100n));
  };

  for (const shown of ['AcmeCOM', 'AcmeCo'])
    for (const order of ['credit first', 'batches first'])
      it(`matches a credit showing ${shown} to the batch its amount and date fit, and leaves the others to their credits (${order})`, async () => {
        const namingAccount = () => appendBankCredit(stores.log, 'B1', 5000n, [{ kind: 'end_to_end_id', value: shown }]);
        if (order === 'credit first') await namingAccount();
        await batches();
        if (order === 'batches first') await namingAccount();
        await appendBankCredit(stores.log, 'B2', 3237n);
        await appendBankCredit(stores.log, 'B3', 4100n);
        await catchUpReconciliation(stores);
        // Taken by the account's name, AcmeCOM's batch 134 would have left B1 an amount mismatch and B2 unexplained.
        expect(await labels(stores.documents)).to.deep.equal([]);
        await expectRebuildIdentical(stores.log, stores.documents);
      });

  it('reports a credit showing a merchant account whose batches both fit it as ambiguous, and takes neither', async () => {
    await appendAdyenRow(stores.log, 'AcmeCOM', 'payout-134', accountPayout('AcmeCOM', '134', 5000n));
    await appendAdyenRow(stores.log, 'AcmeCOM', 'payout-135', accountPayout('AcmeCOM', '135', 5000n));
    await appendBankCredit(stores.log, 'B1', 5000n, [{ kind: 'end_to_end_id', value: 'AcmeCOM' }]);
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal(['AMBIGUOUS_MATCH B1']);
    await expectRebuildIdentical(stores.log, stores.documents);
  });
});

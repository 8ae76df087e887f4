import { expect } from 'chai';
import { type DocumentStore, type SqliteEventStore, type StatementRow } from '@folio/shared';
import { appendPayment, appendRowRecorded, chargeRow, paymentIdOf, providerRefOf } from '@folio/shared/testing';
import type { DiscrepancyDocument, SummaryDocument } from '../../src/reconciliation/reconciliationDocuments.js';
import { reconciliationProjection } from '../../src/reconciliation/reconciliationProjection.js';
import { rebuildProjection } from '../../src/rebuild/rebuildProjection.js';
import { liveCollections } from '../../src/runtime/projection.js';
import { catchUpReconciliation, labelOf, LOG_START, useScenarioStores } from './reconciliationScenario.js';

const collections = liveCollections(reconciliationProjection);
const at = new Date(LOG_START).toISOString();

const discrepancies = async (documents: DocumentStore, status = 'open') =>
  ((await documents.find<DiscrepancyDocument & { [key: string]: never }>(collections.discrepancies!, { limit: 1000 })).items as DiscrepancyDocument[])
    .filter((discrepancy) => discrepancy.status === status);
const labels = async (documents: DocumentStore, status = 'open') => (await discrepancies(documents, status)).map(labelOf).sort();
const summary = (documents: DocumentStore) => documents.get<SummaryDocument & { [key: string]: never }>(collections.summary!, 'sandbox:EUR');

const expectRebuildIdentical = async (log: SqliteEventStore, documents: DocumentStore) => {
  const report = await rebuildProjection({ eventStore: log, documents, definition: reconciliationProjection, rebuildId: 'net' });
  expect(report.identical, JSON.stringify(report.checksums)).to.equal(true);
};

const row = (log: SqliteEventStore, rowKey: string, statementRow: StatementRow) => appendRowRecorded(log, { rowKey, file: 'report', row: statementRow }, at);

/** A row of an Adyen settlement batch for payment `n`, named by its PSP reference. */
const adyenRow = (n: number, category: string, amount: bigint): StatementRow => ({
  line: 2,
  category,
  gross: { amount, currency: 'EUR' },
  net: { amount, currency: 'EUR' },
  references: [{ kind: 'psp_reference', value: providerRefOf(n) }],
});

describe('reconciliation: what the provider holds of a payment, net of what it reversed', () => {
  const stores = useScenarioStores('folio-recon-net-');

  it('clears a Stripe chargeback once the dispute is won, and counts neither in the provider total', async () => {
    await appendPayment(stores.log, { n: 1, amount: 1000n, at, until: 'settled' });
    await row(stores.log, 'txn_1', chargeRow(1, 1000n));
    await row(stores.log, 'txn_du', chargeRow(1, -1000n, { category: 'dispute', fee: 1500n }));
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal([`STATUS_SUPERSEDED ${paymentIdOf(1)}`]);
    expect(await summary(stores.documents)).to.include({ delta: '1000' });
    expect((await discrepancies(stores.documents))[0]!.detail).to.include({ providerOutcome: 'dispute', reversed: '1000', currency: 'EUR' });

    await row(stores.log, 'txn_dr', chargeRow(1, 1000n, { category: 'dispute_reversal', fee: -1500n }));
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal([]);
    expect(await labels(stores.documents, 'cleared')).to.deep.equal([`STATUS_SUPERSEDED ${paymentIdOf(1)}`]);
    expect(await summary(stores.documents)).to.include({ matched: 1, delta: '0' });
    await expectRebuildIdentical(stores.log, stores.documents);
  });

  it('follows an Adyen chargeback through its reversal and a second chargeback', async () => {
    await appendPayment(stores.log, { n: 2, amount: 4000n, at, until: 'settled' });
    await row(stores.log, 'settled', adyenRow(2, 'Settled', 4000n));
    await row(stores.log, 'chargeback', adyenRow(2, 'Chargeback', -4000n));
    await row(stores.log, 'reversed', adyenRow(2, 'ChargebackReversed', 4000n));
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal([]);
    expect(await summary(stores.documents)).to.include({ delta: '0' });

    await row(stores.log, 'second', adyenRow(2, 'SecondChargeback', -4000n));
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal([`STATUS_SUPERSEDED ${paymentIdOf(2)}`]);
    expect(await summary(stores.documents)).to.include({ delta: '4000' });
    expect((await discrepancies(stores.documents))[0]!.detail, 'the second chargeback, the first given back').to.include({ reversed: '4000', currency: 'EUR' });
  });

  it('compares a Stripe partial capture with what the provider captured: the charge less its partial capture reversal', async () => {
    await appendPayment(stores.log, { n: 3, amount: 700n, at, until: 'captured' });
    await row(stores.log, 'txn_3', chargeRow(3, 1000n));
    await row(stores.log, 'txn_pcr', chargeRow(3, -300n, { category: 'partial_capture_reversal' }));
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal([]);
    expect(await summary(stores.documents)).to.include({ payments: 1, matched: 1, delta: '0' });
    await expectRebuildIdentical(stores.log, stores.documents);
  });

  it('matches a PayPal charge by its transaction id, the reference its refunds and chargebacks name it by', async () => {
    await appendPayment(stores.log, { n: 4, amount: 1000n, at, until: 'captured' });
    await appendPayment(stores.log, { n: 5, amount: 1000n, at, until: 'captured' });
    // As the PayPal importer writes a T0006 row: no payment id of ours, the amount fits both payments.
    await row(stores.log, '4VX12345AB678901C', {
      line: 5,
      category: 'T0006',
      gross: { amount: 1000n, currency: 'EUR' },
      fee: { amount: 0n, currency: 'EUR' },
      references: [
        { kind: 'transaction_id', value: providerRefOf(4) },
        { kind: 'invoice_id', value: 'ORD-4' },
      ],
      transactionDate: at,
    });
    await catchUpReconciliation(stores);
    expect(await labels(stores.documents)).to.deep.equal([]);
    expect(await summary(stores.documents)).to.include({ payments: 2, matched: 1, awaitingSettlement: 1 });
  });
});

import { expect } from 'chai';
import type { StatementRow } from '@folio/shared';
import { appendPayment, appendRowRecorded, chargeRow } from '@folio/shared/testing';
import { discrepancyLabels } from './openLabels.js';
import { appendFormatRow, catchUpReconciliation, expectSameAtBatchSizes, LOG_START, useScenarioStores } from './reconciliationScenario.js';

const at = new Date(LOG_START).toISOString();

/**
 * A payout row of Stripe's balance report: no `automatic_payout_id` (that names the payout a row
 * was paid out in), its `balance_transaction_id` first and the payout itself as `source_id`.
 */
const payoutRow = (paidOut: bigint): StatementRow => ({
  line: 9,
  category: 'payout',
  gross: { amount: -paidOut, currency: 'EUR' },
  fee: { amount: 0n, currency: 'EUR' },
  net: { amount: -paidOut, currency: 'EUR' },
  references: [
    { kind: 'balance_transaction', value: 'txn_1PbX7s' },
    { kind: 'source', value: 'po_9' },
  ],
  bookingDate: at,
});

const bankCredit: StatementRow = {
  line: 20,
  category: 'PMNT/RCDT/ESCT',
  net: { amount: 3000n, currency: 'EUR' },
  references: [{ kind: 'end_to_end_id', value: 'po_9' }],
  bookingDate: '2026-06-02',
  valueDate: '2026-06-02',
  status: 'BOOK',
};

const writePayout = async (stores: ReturnType<typeof useScenarioStores>, paidOut: bigint) => {
  await appendPayment(stores.log, { n: 1, amount: 1000n, at, until: 'captured' });
  await appendPayment(stores.log, { n: 2, amount: 2000n, at, until: 'captured' });
  await appendRowRecorded(stores.log, { rowKey: 'txn_1', file: 'recon', row: { ...chargeRow(1, 1000n, { date: at }), payoutId: 'po_9' } }, at);
  await appendRowRecorded(stores.log, { rowKey: 'txn_2', file: 'recon', row: { ...chargeRow(2, 2000n, { date: at }), payoutId: 'po_9' } }, at);
  await appendRowRecorded(stores.log, { rowKey: 'txn_1PbX7s', file: 'balance', row: payoutRow(paidOut) }, at);
};

describe('reconciliation: a Stripe payout row is the payout its source names', () => {
  const stores = useScenarioStores('folio-recon-stripe-payout-id-');

  it('checks the payout row against the lines paid out in it', async () => {
    await writePayout(stores, 2990n);
    await catchUpReconciliation(stores);
    expect(await discrepancyLabels(stores.documents)).to.deep.equal(['PAYOUT_LINES_MISMATCH po_9']);
    await expectSameAtBatchSizes(stores);
  });

  it('finds nothing when the payout, its lines and the bank credit naming it agree', async () => {
    await writePayout(stores, 3000n);
    await appendFormatRow(stores.log, 'bank', 'camt053', 'ACMEBANK-9', bankCredit);
    await catchUpReconciliation(stores);
    expect(await discrepancyLabels(stores.documents)).to.deep.equal([]);
    await expectSameAtBatchSizes(stores);
  });
});

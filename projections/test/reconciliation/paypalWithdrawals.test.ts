import { expect } from 'chai';
import type { StatementRow } from '@folio/shared';
import { discrepancyLabels } from './openLabels.js';
import { appendFormatRow, catchUpReconciliation, expectSameAtBatchSizes, useScenarioStores } from './reconciliationScenario.js';

/** A PayPal STL withdrawal (T0400) as the importer writes it: debited gross, no net, no payout id. */
const withdrawal: StatementRow = {
  line: 7,
  category: 'T0400',
  gross: { amount: -7200n, currency: 'USD' },
  fee: { amount: 0n, currency: 'USD' },
  references: [{ kind: 'transaction_id', value: '1JP00077QQ998877A' }],
  bookingDate: '2026-06-01T18:00:05-07:00',
  transactionDate: '2026-06-01T18:00:00-07:00',
};

/** The bank's credit for it, as the camt.053 importer writes it. */
const credit: StatementRow = {
  line: 20,
  category: 'PMNT/RCDT/ESCT',
  net: { amount: 7200n, currency: 'USD' },
  references: [],
  bookingDate: '2026-06-02',
  valueDate: '2026-06-02',
  status: 'BOOK',
};

describe('reconciliation: a PayPal withdrawal reaches the bank as a credit', () => {
  const stores = useScenarioStores('folio-recon-paypal-withdrawal-');

  for (const order of [
    ['withdrawal', 'credit'],
    ['credit', 'withdrawal'],
  ]) {
    it(`matches the withdrawal row and the bank credit for it (${order.join(' first, then ')})`, async () => {
      for (const side of order) {
        if (side === 'withdrawal') await appendFormatRow(stores.log, 'paypal', 'paypal-stl', '1JP00077QQ998877A', withdrawal);
        else await appendFormatRow(stores.log, 'bank', 'camt053', 'ACMEBANK-1', credit);
      }
      await catchUpReconciliation(stores);
      expect(await discrepancyLabels(stores.documents)).to.deep.equal([]);
      await expectSameAtBatchSizes(stores);
    });
  }
});

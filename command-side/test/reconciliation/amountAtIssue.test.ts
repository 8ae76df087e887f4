import { expect } from 'chai';
import type { DiscrepancyCode } from '@folio/projections';
import { amountAtIssue } from '../../src/reconciliation/amountAtIssue.js';

/** Details as the reconciliation projection writes them, amounts in minor units. */
const cases: [DiscrepancyCode, string, string | null, Record<string, string>, bigint | undefined][] = [
  ['PROVIDER_UNMATCHED', 'a ghost charge: its gross', 'EUR', { rowKey: 'txn_1', gross: '777', currency: 'EUR' }, 777n],
  ['PROVIDER_UNMATCHED', 'a bank credit no payout explains: the credit', 'EUR', { rowKey: 'bank_1', credited: '5000', currency: 'EUR' }, 5000n],
  ['PROVIDER_UNMATCHED', 'a row without amounts: none named', null, { rowKey: 'txn_2' }, undefined],
  ['INTERNAL_UNMATCHED', 'a capture the provider never reported: the capture', 'EUR', { paymentId: 'p', subclass: 'missing', captured: '1200', currency: 'EUR', capturedAt: 'x' }, 1200n],
  ['INTERNAL_UNMATCHED', 'a payout the bank never credited: the payout', 'EUR', { payoutId: 'po', subclass: 'missing_at_bank', paidOut: '9000', currency: 'EUR' }, 9000n],
  ['AMOUNT_MISMATCH', 'the provider charged less: the difference', 'EUR', { paymentId: 'p', captured: '1000', gross: '999', difference: '-1', currency: 'EUR' }, 1n],
  ['AMOUNT_MISMATCH', 'the bank credited more than the payout: the difference', 'EUR', { rowKey: 'b', payoutId: 'po', paidOut: '9000', credited: '9050', difference: '50', currency: 'EUR' }, 50n],
  ['UNIT_EXPONENT_MISMATCH', 'read with two decimals too many: the difference', 'EUR', { paymentId: 'p', captured: '1000', gross: '100000', currency: 'EUR', exponent: '2' }, 99000n],
  ['UNIT_EXPONENT_MISMATCH', 'a bank credit a factor 10 short: the difference', 'EUR', { rowKey: 'b', payoutId: 'po', paidOut: '9000', credited: '900', currency: 'EUR', exponent: '1' }, 8100n],
  ['CURRENCY_MISMATCH', 'charged in another currency: the capture, in the payment\'s', 'EUR', { paymentId: 'p', ledgerCurrency: 'EUR', providerCurrency: 'USD', captured: '1000', gross: '1100' }, 1000n],
  ['CURRENCY_MISMATCH', 'credited in another currency: the credit, in the bank\'s', 'USD', { rowKey: 'b', paidOut: '9000', credited: '9800', payoutCurrency: 'EUR', bankCurrency: 'USD' }, 9800n],
  ['NET_INCONSISTENT', 'gross − fee ≠ net: by how much', 'EUR', { rowKey: 'txn_1', gross: '500', fee: '10', net: '480', currency: 'EUR' }, 10n],
  ['FEE_MISMATCH', 'the provider took a larger fee: the difference', 'EUR', { paymentId: 'p', ledgerFee: '30', providerFee: '45', currency: 'EUR' }, 15n],
  ['PAYOUT_LINES_MISMATCH', 'the lines fall short of the payout: the difference', 'EUR', { payoutId: 'po', paidOut: '1000', linesTotal: '1200', difference: '-200', lines: '3', currency: 'EUR' }, 200n],
  ['STATEMENT_BALANCE_BREAK', 'the closing balance is off: the difference', 'EUR', { statementId: 's', opening: '0', entries: '100', closing: '90', difference: '-10', currency: 'EUR' }, 10n],
  ['DUPLICATE_CHARGE', 'charged three times: the charges beyond the payment\'s', 'EUR', { paymentId: 'p', charges: '3', duplicated: '2000', currency: 'EUR' }, 2000n],
  ['DUPLICATE_CHARGE', 'recorded before duplicates named an amount: none named', 'EUR', { paymentId: 'p', charges: '2' }, undefined],
  ['STATUS_SUPERSEDED', 'a failure the provider contradicts: what it captured', 'EUR', { paymentId: 'p', ledgerState: 'FAILED', providerOutcome: 'captured', gross: '1300', currency: 'EUR' }, 1300n],
  ['STATUS_SUPERSEDED', 'a chargeback after settlement: what the provider still holds back', 'EUR', { paymentId: 'p', ledgerState: 'SETTLED', providerOutcome: 'dispute', reversed: '600', currency: 'EUR' }, 600n],
  ['STATUS_SUPERSEDED', 'recorded before it named an amount: none named', 'EUR', { paymentId: 'p', ledgerState: 'FAILED', providerOutcome: 'captured' }, undefined],
  ['DUPLICATE_PROVIDER_ROW', 'a row delivered twice: no money', 'EUR', { rowKey: 'txn_1', repeats: '1' }, 0n],
  ['PROVIDER_ROW_RESTATED', 'a row changed: no money (the latest version is reconciled)', 'EUR', { rowKey: 'txn_1', changedFields: 'gross', previousGross: '500', gross: '700' }, 0n],
  ['STALE_PENDING', 'no outcome yet: no money', 'EUR', { paymentId: 'p', submittedAt: 'x', providerRows: '0' }, 0n],
  ['STATEMENT_GAP', 'a statement never imported: no money', 'EUR', { account: 'DE89', missingSequenceNumber: '7' }, 0n],
  ['AMBIGUOUS_MATCH', 'several payments fit the row: no money', 'EUR', { rowKey: 'txn_1', candidates: 'p1,p2' }, 0n],
];

describe('the amount a discrepancy leaves unexplained, the most a correction may move', () => {
  for (const [code, what, currency, detail, expected] of cases)
    it(`${code}, ${what}`, () => {
      expect(amountAtIssue({ code, currency, detail })).to.equal(expected);
    });

  it('names no amount when the detail lacks one the class needs', () => {
    expect(amountAtIssue({ code: 'AMOUNT_MISMATCH', currency: 'EUR', detail: { paymentId: 'p' } })).to.equal(undefined);
    expect(amountAtIssue({ code: 'CURRENCY_MISMATCH', currency: 'GBP', detail: { ledgerCurrency: 'EUR', providerCurrency: 'USD', captured: '1', gross: '1' } })).to.equal(undefined);
  });
});

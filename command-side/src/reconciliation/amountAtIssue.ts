import type { DiscrepancyCode } from '@folio/projections';
import type { KnownDiscrepancy } from './discrepancyLookup.js';

type Detail = KnownDiscrepancy['detail'];

/** A minor-unit amount of the detail, if it names one. */
const amountOf = (detail: Detail, field: string): bigint | undefined => {
  const text = detail[field];
  return text !== undefined && /^-?[0-9]+$/.test(text) ? BigInt(text) : undefined;
};

const magnitude = (amount: bigint | undefined): bigint | undefined => (amount === undefined || amount >= 0n ? amount : -amount);

/** |a − b|, when the detail names both. */
const gap = (detail: Detail, a: string, b: string): bigint | undefined => {
  const [first, second] = [amountOf(detail, a), amountOf(detail, b)];
  return first === undefined || second === undefined ? undefined : magnitude(first - second);
};

const noMoney = (): bigint => 0n;

/**
 * What each class of discrepancy leaves unexplained, from its detail as the projection writes it
 * (`classification.ts`, `bankCreditClassification.ts`): a provider payment's row, or a bank
 * credit against a provider payout.
 */
const unexplained: Readonly<Record<DiscrepancyCode, (detail: Detail, currency: string | null) => bigint | undefined>> = {
  // The ghost charge, or the bank credit no payout explains.
  PROVIDER_UNMATCHED: (detail) => magnitude(amountOf(detail, 'gross') ?? amountOf(detail, 'credited')),
  // The capture the provider never reported, or the payout the bank never credited.
  INTERNAL_UNMATCHED: (detail) => magnitude(amountOf(detail, 'captured') ?? amountOf(detail, 'paidOut')),
  AMOUNT_MISMATCH: (detail) => magnitude(amountOf(detail, 'difference')),
  UNIT_EXPONENT_MISMATCH: (detail) => gap(detail, 'gross', 'captured') ?? gap(detail, 'credited', 'paidOut'),
  // Two currencies: the side in the discrepancy's own, which a correction moves.
  CURRENCY_MISMATCH: (detail, currency) => {
    const sides: [string, string][] = [
      ['ledgerCurrency', 'captured'],
      ['providerCurrency', 'gross'],
      ['payoutCurrency', 'paidOut'],
      ['bankCurrency', 'credited'],
    ];
    const side = sides.find(([currencyField]) => detail[currencyField] !== undefined && detail[currencyField] === currency);
    return side === undefined ? undefined : magnitude(amountOf(detail, side[1]));
  },
  NET_INCONSISTENT: (detail) => {
    const [gross, fee, net] = [amountOf(detail, 'gross'), amountOf(detail, 'fee'), amountOf(detail, 'net')];
    return gross === undefined || fee === undefined || net === undefined ? undefined : magnitude(gross - fee - net);
  },
  FEE_MISMATCH: (detail) => gap(detail, 'providerFee', 'ledgerFee'),
  PAYOUT_LINES_MISMATCH: (detail) => magnitude(amountOf(detail, 'difference')),
  STATEMENT_BALANCE_BREAK: (detail) => magnitude(amountOf(detail, 'difference')),
  // The charges beyond the one the payment explains.
  DUPLICATE_CHARGE: (detail) => magnitude(amountOf(detail, 'duplicated')),
  // What the provider captured of a payment failed in the ledger, or still holds back of one it took back.
  STATUS_SUPERSEDED: (detail) => magnitude(amountOf(detail, 'gross') ?? amountOf(detail, 'reversed')),
  // Nothing to correct in the books: a match to make by hand, a file or statement to ask for, an outcome to apply.
  DUPLICATE_PROVIDER_ROW: noMoney,
  PROVIDER_ROW_RESTATED: noMoney,
  STALE_PENDING: noMoney,
  STATEMENT_GAP: noMoney,
  AMBIGUOUS_MATCH: noMoney,
};

/**
 * The most a correcting journal may move for a discrepancy, in minor units of its currency: the
 * amount it leaves unexplained (0 for a class with no money at issue), or `undefined` when its
 * detail names none (a row without amounts, a duplicate charge or superseded status found by a
 * read model version before 12), which, like a discrepancy without a currency, takes a correction
 * of any amount.
 */
export const amountAtIssue = ({ code, currency, detail }: Pick<KnownDiscrepancy, 'code' | 'currency' | 'detail'>): bigint | undefined =>
  unexplained[code](detail, currency);

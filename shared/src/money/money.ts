/**
 * An amount of one currency, in minor units (cents for USD), and the arithmetic a ledger needs.
 * Amounts are `bigint` end to end: a `number` loses exactness past 2^53 and invites fractions.
 */
import { type CurrencyCode, parseCurrencyCode } from './currencies.js';
import { describeValue } from './describeValue.js';
import { CurrencyMismatchError, InvalidAmountError, MoneyOutOfRangeError } from './errors.js';

/**
 * Largest absolute amount Folio accepts, in minor units: 18 decimal digits.
 *
 * Signed 64-bit integers (SQLite INTEGER, MongoDB Int64, PostgreSQL bigint) stop at about
 * 9.22 × 10^18, so every accepted amount fits them, and so does any sum of up to nine amounts
 * at the bound. Real amounts sit orders of magnitude lower (the bound is 10^16 US dollars), so a
 * store summing a long history of postings stays clear of overflow. A fixed number of digits
 * also lets parsers refuse an oversized input by its length, before building a bigint from it.
 */
export const MAX_MINOR_UNITS = 10n ** 18n - 1n;

export interface Money {
  /** Minor units of `currency`; negative amounts are allowed (a refund, a debit balance). */
  readonly amount: bigint;
  readonly currency: CurrencyCode;
}

const boundText = `±${MAX_MINOR_UNITS} minor units (18 digits)`;

/** Returns `value` if it is a bigint within ±MAX_MINOR_UNITS; throws otherwise. */
export function checkMinorUnits(value: unknown): bigint {
  if (typeof value !== 'bigint') {
    throw new InvalidAmountError(
      `an amount must be a bigint of minor units, got ${describeValue(value)}`,
    );
  }
  if (value > MAX_MINOR_UNITS || value < -MAX_MINOR_UNITS) {
    throw new MoneyOutOfRangeError(
      `amount out of range: got ${describeValue(value)}, but amounts are bounded by ${boundText}`,
    );
  }
  return value;
}

/** Builds a `Money`, refusing a non-bigint or out-of-range amount and an unknown currency. */
export function money(amount: bigint, currency: CurrencyCode): Money {
  return Object.freeze({ amount: checkMinorUnits(amount), currency: parseCurrencyCode(currency) });
}

export function zero(currency: CurrencyCode): Money {
  return money(0n, currency);
}

/** Re-checks an operand: a `Money` may have been built as a literal or come from untyped code. */
function checkOperand(value: Money): Money {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidAmountError(`expected a Money value, got ${describeValue(value)}`);
  }
  checkMinorUnits(value.amount);
  parseCurrencyCode(value.currency);
  return value;
}

function checkSameCurrency(a: Money, b: Money): CurrencyCode {
  checkOperand(a);
  checkOperand(b);
  if (a.currency !== b.currency) throw new CurrencyMismatchError(a.currency, b.currency);
  return a.currency;
}

function result(amount: bigint, currency: CurrencyCode, operation: string): Money {
  if (amount > MAX_MINOR_UNITS || amount < -MAX_MINOR_UNITS) {
    throw new MoneyOutOfRangeError(
      `${operation} gives ${amount} ${currency} minor units, beyond the bound of ${boundText}`,
    );
  }
  return Object.freeze({ amount, currency });
}

export function add(a: Money, b: Money): Money {
  const currency = checkSameCurrency(a, b);
  return result(a.amount + b.amount, currency, 'the addition');
}

export function subtract(a: Money, b: Money): Money {
  const currency = checkSameCurrency(a, b);
  return result(a.amount - b.amount, currency, 'the subtraction');
}

/** The opposite amount; always in range, since the bound is symmetric. */
export function negate(a: Money): Money {
  checkOperand(a);
  return Object.freeze({ amount: -a.amount, currency: a.currency });
}

export function isZero(a: Money): boolean {
  return checkOperand(a).amount === 0n;
}

export function isPositive(a: Money): boolean {
  return checkOperand(a).amount > 0n;
}

export function isNegative(a: Money): boolean {
  return checkOperand(a).amount < 0n;
}

/** -1, 0 or 1 as `a` is less than, equal to or greater than `b`; usable as a sort comparator. */
export function compare(a: Money, b: Money): -1 | 0 | 1 {
  checkSameCurrency(a, b);
  return a.amount < b.amount ? -1 : a.amount > b.amount ? 1 : 0;
}

/**
 * Total of `amounts`, all of which must be in `currency` (named so that an empty list has one).
 * Only the total is bounded, not the running sums, so the outcome does not depend on the order.
 */
export function sum(amounts: Iterable<Money>, currency: CurrencyCode): Money {
  parseCurrencyCode(currency);
  let total = 0n;
  for (const item of amounts) {
    checkOperand(item);
    if (item.currency !== currency) throw new CurrencyMismatchError(currency, item.currency);
    total += item.amount;
  }
  return result(total, currency, 'the sum');
}

import { ValidationError } from '../errors/folioError.js';
import type { CurrencyCode } from './currencies.js';

/** An amount that is not written the way its format requires, or cannot be represented exactly. */
export class InvalidAmountError extends ValidationError {}

/** Two amounts of different currencies met in one operation; Folio never converts implicitly. */
export class CurrencyMismatchError extends ValidationError {
  constructor(
    readonly expected: CurrencyCode,
    readonly actual: CurrencyCode,
  ) {
    super(`currency mismatch: expected an amount in ${expected}, got one in ${actual}`);
  }
}

/** An amount, or the result of an operation, beyond ±MAX_MINOR_UNITS. */
export class MoneyOutOfRangeError extends ValidationError {}

/** A currency code that is not an active ISO 4217 code with a minor unit. */
export class UnknownCurrencyError extends ValidationError {}

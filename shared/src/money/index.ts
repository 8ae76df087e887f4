export {
  type CurrencyCode,
  type MinorUnitExponent,
  currencyCodes,
  currencyCodeSchema,
  currencyExponent,
  isCurrencyCode,
  parseCurrencyCode,
} from './currencies.js';
export {
  type DecimalAmountOptions,
  type DecimalSeparator,
  formatDecimalAmount,
  parseDecimalAmount,
} from './decimalAmount.js';
export {
  CurrencyMismatchError,
  InvalidAmountError,
  MoneyOutOfRangeError,
  UnknownCurrencyError,
} from './errors.js';
export {
  formatMinorUnits,
  minorUnitsSchema,
  parseMinorUnits,
  parsePositiveMinorUnits,
  positiveMinorUnitsSchema,
} from './minorUnits.js';
export {
  type Money,
  MAX_MINOR_UNITS,
  add,
  checkMinorUnits,
  compare,
  isNegative,
  isPositive,
  isZero,
  money,
  negate,
  subtract,
  sum,
  zero,
} from './money.js';

/**
 * The statement form of an amount: a decimal in major units, "10.50" or "10,50", as bank and
 * payment-provider files write it. Parsing is exact or fails: an amount with more decimals than
 * its currency's minor unit is refused, never rounded, since a ledger must not invent or lose
 * a fraction of a cent. The decimal separator is the caller's to state, from the file's format,
 * because "1,050" means 1050 or 1.05 depending on it and no guess can tell which.
 */
import { type CurrencyCode, currencyExponent, parseCurrencyCode } from './currencies.js';
import { describeValue } from './describeValue.js';
import { InvalidAmountError, MoneyOutOfRangeError } from './errors.js';
import { checkMinorUnits, MAX_MINOR_UNITS } from './money.js';

export type DecimalSeparator = '.' | ',';

export interface DecimalAmountOptions {
  readonly decimalSeparator: DecimalSeparator;
}

const MAX_DIGITS = MAX_MINOR_UNITS.toString().length;

const AMOUNT_PATTERN: Readonly<Record<DecimalSeparator, RegExp>> = {
  '.': /^(-?)([0-9]+)(?:\.([0-9]+))?$/,
  ',': /^(-?)([0-9]+)(?:,([0-9]+))?$/,
};

const ALLOWED_CHARACTERS: Readonly<Record<DecimalSeparator, RegExp>> = {
  '.': /^-?[0-9.]*$/,
  ',': /^-?[0-9,]*$/,
};

function expectedForm(exponent: number, separator: DecimalSeparator): string {
  const example = exponent === 0 ? '"1050"' : `"10${separator}${'5'.padEnd(exponent, '0')}"`;
  const decimals = exponent === 0 ? '' : ` and up to ${exponent} decimals after "${separator}"`;
  return `expected digits with an optional leading "-"${decimals}, such as ${example}`;
}

function checkSeparator(separator: unknown): DecimalSeparator {
  if (separator !== '.' && separator !== ',') {
    throw new InvalidAmountError(
      `the decimal separator must be "." or ",", got ${describeValue(separator)}`,
    );
  }
  return separator;
}

/**
 * Reads a decimal amount of `currency` into minor units: "10.50" USD is 1050n, "10" JPY is 10n.
 * An optional leading "-", digits, and at most one `decimalSeparator` followed by no more
 * decimals than the currency has; leading zeros are accepted since fixed-width files pad with
 * them. Refused: a "+" sign, digit grouping, exponent notation, whitespace, and negative zero.
 */
export function parseDecimalAmount(
  text: unknown,
  currency: CurrencyCode,
  options: DecimalAmountOptions,
): bigint {
  const exponent = currencyExponent(parseCurrencyCode(currency));
  const separator = checkSeparator(options?.decimalSeparator);
  const other = separator === '.' ? ',' : '.';
  const invalid = (problem: string) =>
    new InvalidAmountError(
      `amount ${describeValue(text)} (${currency}) ${problem}: ${expectedForm(exponent, separator)}`,
    );

  if (typeof text !== 'string') {
    throw new InvalidAmountError(
      `a decimal amount must be a string, got ${describeValue(text)}: ` +
        expectedForm(exponent, separator),
    );
  }
  if (text === '') {
    throw new InvalidAmountError(
      `a decimal amount must not be empty: ${expectedForm(exponent, separator)}`,
    );
  }
  if (/\s/.test(text)) throw invalid('contains whitespace');
  if (text.startsWith('+')) throw invalid('carries a "+" sign');
  if (/^-?[0-9.,]+[eE][+-]?[0-9]+$/.test(text)) throw invalid('uses exponent notation');
  if (text.includes(other)) {
    throw invalid(
      `contains "${other}", which is not the decimal separator here ("${separator}"); ` +
        'digit grouping is not accepted',
    );
  }
  const match = AMOUNT_PATTERN[separator].exec(text);
  if (match === null) {
    if (!ALLOWED_CHARACTERS[separator].test(text)) throw invalid('contains characters that do not belong');
    if (!/[0-9]/.test(text)) throw invalid('has no digits');
    if (text.split(separator).length > 2) throw invalid(`has more than one "${separator}"`);
    throw invalid(`needs digits on both sides of "${separator}"`);
  }
  const [, sign = '', whole = '', fraction = ''] = match;
  if (fraction.length > exponent) {
    throw invalid(
      exponent === 0
        ? `has decimals, but ${currency} has no minor unit`
        : `has ${fraction.length} decimals, but ${currency} has ${exponent}, so it cannot be ` +
            'booked exactly (amounts are never rounded)',
    );
  }
  const digits = (whole + fraction.padEnd(exponent, '0')).replace(/^0+(?=[0-9])/, '');
  if (digits === '0' && sign === '-') throw invalid('is a negative zero (write it without "-")');
  if (digits.length > MAX_DIGITS) {
    throw new MoneyOutOfRangeError(
      `amount ${describeValue(text)} (${currency}) is out of range: it exceeds ` +
        `${MAX_MINOR_UNITS} minor units (${MAX_DIGITS} digits) in absolute value`,
    );
  }
  return BigInt(sign + digits);
}

/**
 * Writes `minorUnits` of `currency` as a decimal with exactly the currency's number of
 * decimals: 1050n USD is "10.50", -5n USD "-0.05", 1050n JPY "1050", 1050n OMR "1.050".
 */
export function formatDecimalAmount(
  minorUnits: bigint,
  currency: CurrencyCode,
  decimalSeparator: DecimalSeparator = '.',
): string {
  const amount = checkMinorUnits(minorUnits);
  const exponent = currencyExponent(parseCurrencyCode(currency));
  const separator = checkSeparator(decimalSeparator);
  const sign = amount < 0n ? '-' : '';
  const digits = (amount < 0n ? -amount : amount).toString().padStart(exponent + 1, '0');
  if (exponent === 0) return sign + digits;
  const split = digits.length - exponent;
  return `${sign}${digits.slice(0, split)}${separator}${digits.slice(split)}`;
}

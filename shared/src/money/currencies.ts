/**
 * The currencies Folio accepts: ISO 4217 List One (current currencies and funds), as amended
 * up to amendment 180 (Bulgaria's lev withdrawn on 2026-01-01), keyed by alphabetic code with
 * the minor unit exponent (the number of decimal digits of the smallest unit).
 *
 * Left out on purpose: List One entries whose minor unit is "N.A." (precious metals XAU, XAG,
 * XPD, XPT; units of account XDR, XSU, XUA, XBA–XBD; XTS and XXX), because an amount in minor
 * units means nothing without an exponent; and every code ISO has moved to the historic list
 * (ANG, BGN, CUC, HRK, SLL, ZWL among the recent ones), so a stale code is refused at the edge
 * rather than booked. The exponents are ISO's, not what a given market uses in practice
 * (ISO gives IQD 3 and ISK 0, for instance): a provider that differs must convert at its edge.
 *
 * Updating: when SIX publishes an amendment that adds, withdraws or re-scales a code, change
 * the lists below and the amendment number above.
 */
import { z } from 'zod';
import { describeValue } from './describeValue.js';
import { UnknownCurrencyError } from './errors.js';

const CODES_BY_EXPONENT = {
  0: [
    'BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF', 'UGX', 'UYI', 'VND',
    'VUV', 'XAF', 'XOF', 'XPF',
  ],
  2: [
    'AED', 'AFN', 'ALL', 'AMD', 'AOA', 'ARS', 'AUD', 'AWG', 'AZN', 'BAM', 'BBD', 'BDT', 'BMD',
    'BND', 'BOB', 'BOV', 'BRL', 'BSD', 'BTN', 'BWP', 'BYN', 'BZD', 'CAD', 'CDF', 'CHE', 'CHF',
    'CHW', 'CNY', 'COP', 'COU', 'CRC', 'CUP', 'CVE', 'CZK', 'DKK', 'DOP', 'DZD', 'EGP', 'ERN',
    'ETB', 'EUR', 'FJD', 'FKP', 'GBP', 'GEL', 'GHS', 'GIP', 'GMD', 'GTQ', 'GYD', 'HKD', 'HNL',
    'HTG', 'HUF', 'IDR', 'ILS', 'INR', 'IRR', 'JMD', 'KES', 'KGS', 'KHR', 'KPW', 'KYD', 'KZT',
    'LAK', 'LBP', 'LKR', 'LRD', 'LSL', 'MAD', 'MDL', 'MGA', 'MKD', 'MMK', 'MNT', 'MOP', 'MRU',
    'MUR', 'MVR', 'MWK', 'MXN', 'MXV', 'MYR', 'MZN', 'NAD', 'NGN', 'NIO', 'NOK', 'NPR', 'NZD',
    'PAB', 'PEN', 'PGK', 'PHP', 'PKR', 'PLN', 'QAR', 'RON', 'RSD', 'RUB', 'SAR', 'SBD', 'SCR',
    'SDG', 'SEK', 'SGD', 'SHP', 'SLE', 'SOS', 'SRD', 'SSP', 'STN', 'SVC', 'SYP', 'SZL', 'THB',
    'TJS', 'TMT', 'TOP', 'TRY', 'TTD', 'TWD', 'TZS', 'UAH', 'USD', 'USN', 'UYU', 'UZS', 'VED',
    'VES', 'WST', 'XAD', 'XCD', 'XCG', 'YER', 'ZAR', 'ZMW', 'ZWG',
  ],
  3: ['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND'],
  4: ['CLF', 'UYW'],
} as const;

/** Number of decimal digits in a currency's minor unit: 2 for USD (cents), 0 for JPY, 3 for KWD. */
export type MinorUnitExponent = keyof typeof CODES_BY_EXPONENT;

/** An active ISO 4217 alphabetic code, upper case, e.g. `'USD'`. */
export type CurrencyCode = (typeof CODES_BY_EXPONENT)[MinorUnitExponent][number];

const EXPONENTS: ReadonlyMap<string, MinorUnitExponent> = new Map(
  Object.entries(CODES_BY_EXPONENT).flatMap(([exponent, codes]) =>
    codes.map((code): [string, MinorUnitExponent] => [code, Number(exponent) as MinorUnitExponent]),
  ),
);

/** Every accepted code, in alphabetical order. */
export const currencyCodes: readonly CurrencyCode[] = Object.freeze(
  [...EXPONENTS.keys()].sort() as CurrencyCode[],
);

export function isCurrencyCode(value: unknown): value is CurrencyCode {
  return typeof value === 'string' && EXPONENTS.has(value);
}

/** Why `value` is not a currency code, phrased for the caller who sent it. */
function describeUnknownCurrency(value: unknown): string {
  const expected = 'expected an active ISO 4217 code such as "USD" or "EUR"';
  if (typeof value !== 'string') {
    return `currency must be a string, got ${describeValue(value)}: ${expected}`;
  }
  if (value !== value.toUpperCase() && EXPONENTS.has(value.toUpperCase())) {
    return `currency codes are upper case: got ${describeValue(value)}, expected "${value.toUpperCase()}"`;
  }
  return `unknown currency ${describeValue(value)}: ${expected}`;
}

/** Checks an untrusted value and returns it as a `CurrencyCode`; throws `UnknownCurrencyError`. */
export function parseCurrencyCode(value: unknown): CurrencyCode {
  if (!isCurrencyCode(value)) throw new UnknownCurrencyError(describeUnknownCurrency(value));
  return value;
}

/** The minor unit exponent of `code`; throws `UnknownCurrencyError` for a code not in the table. */
export function currencyExponent(code: CurrencyCode): MinorUnitExponent {
  const exponent = EXPONENTS.get(code);
  if (exponent === undefined) throw new UnknownCurrencyError(describeUnknownCurrency(code));
  return exponent;
}

/** A currency code on the wire: exact, upper case, active. */
export const currencyCodeSchema = z.enum(currencyCodes as [CurrencyCode, ...CurrencyCode[]], {
  error: (issue) => describeUnknownCurrency(issue.input),
});

import {
  InvalidAmountError,
  checkMinorUnits,
  currencyExponent,
  parseDecimalAmount,
  type CurrencyCode,
  type DecimalSeparator,
} from '@folio/shared';

export interface MajorUnitsOptions {
  decimalSeparator: DecimalSeparator;
  /**
   * How many decimals the provider writes for this currency when it differs from ISO 4217
   * (Stripe writes ISK with 2, MGA with none). The amount is still booked in ISO minor units,
   * exactly or not at all.
   */
  providerDecimals?: number;
}

/**
 * A decimal in major units ("10.50") as minor units of `currency` (1050n). More decimals than the
 * currency has are refused, never rounded: "10.505" EUR cannot be booked.
 */
export const parseMajorUnits = (text: string, currency: CurrencyCode, options: MajorUnitsOptions): bigint => {
  const { decimalSeparator, providerDecimals } = options;
  const iso = currencyExponent(currency);
  if (providerDecimals === undefined || providerDecimals === iso) return parseDecimalAmount(text, currency, { decimalSeparator });
  const [, fraction = ''] = text.split(decimalSeparator);
  if (fraction.length > providerDecimals) {
    throw new InvalidAmountError(
      `amount ${JSON.stringify(text)} (${currency}) has ${fraction.length} decimals, but the provider writes ${currency} with ${providerDecimals}`,
    );
  }
  if (providerDecimals > iso) {
    // The provider's extra decimals must be zeros: ISO has no unit for them.
    const extra = fraction.slice(iso);
    if (/[^0]/.test(extra)) {
      throw new InvalidAmountError(
        `amount ${JSON.stringify(text)} (${currency}) is not a whole number of ${currency} minor units (ISO 4217 gives it ${iso} decimals), so it cannot be booked exactly`,
      );
    }
    const trimmed = extra === '' ? text : text.slice(0, text.length - extra.length);
    return parseDecimalAmount(trimmed.endsWith(decimalSeparator) ? trimmed.slice(0, -1) : trimmed, currency, { decimalSeparator });
  }
  return parseDecimalAmount(text, currency, { decimalSeparator });
};

/**
 * PayPal's unsigned amounts: digits with two implied decimals whatever the currency, so "10000" is
 * 100.00 USD and also ¥100 (PayPal's report specifications say so of yen). Booked in ISO minor units
 * of `currency`, exactly or not at all: "10050" JPY is ¥100.50, which cannot be booked.
 */
export const parseImpliedHundredths = (text: string, currency: CurrencyCode): bigint => {
  if (!/^[0-9]+$/.test(text)) {
    throw new InvalidAmountError(`amount ${JSON.stringify(text)} (${currency}) must be unsigned digits with two implied decimals`);
  }
  const padded = text.padStart(3, '0');
  return checkMinorUnits(parseMajorUnits(`${padded.slice(0, -2)}.${padded.slice(-2)}`, currency, { decimalSeparator: '.', providerDecimals: 2 }));
};

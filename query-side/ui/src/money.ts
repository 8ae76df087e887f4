/** Amounts with their currency, formatted by the exponents the read API publishes. */
import { formatMinorUnits } from './amounts.js';
import type { Currency } from './api.js';

const exponents = new Map<string, number>();

export const knowCurrencies = (currencies: readonly Currency[]): void => {
  for (const { code, exponent } of currencies) exponents.set(code, exponent);
};

export const currencyCodes = (): string[] => [...exponents.keys()];

export const exponentOf = (currency: string): number | undefined => exponents.get(currency);

/** "1,234.56 EUR"; an amount of a currency the API did not list is shown in minor units, labelled so. */
export const money = (minorUnits: string, currency: string): string => {
  const exponent = exponents.get(currency);
  return exponent === undefined ? `${minorUnits} ${currency} (minor units)` : `${formatMinorUnits(minorUnits, exponent)} ${currency}`;
};

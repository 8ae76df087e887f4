import { expect } from 'chai';
import {
  type CurrencyCode,
  currencyCodes,
  currencyCodeSchema,
  currencyExponent,
  isCurrencyCode,
  parseCurrencyCode,
  UnknownCurrencyError,
} from '../../src/money/index.js';

describe('currencies', () => {
  it('lists every active ISO 4217 code once, upper case, in alphabetical order', () => {
    expect(currencyCodes.length).to.be.within(155, 180);
    expect(new Set(currencyCodes).size).to.equal(currencyCodes.length);
    expect([...currencyCodes].sort()).to.deep.equal(currencyCodes);
    for (const code of currencyCodes) expect(code).to.match(/^[A-Z]{3}$/);
  });

  it('gives the ISO minor unit exponent of each currency', () => {
    const expected: [CurrencyCode, number][] = [
      ['JPY', 0], ['KRW', 0], ['CLP', 0], ['ISK', 0], ['VND', 0], ['UGX', 0], ['XAF', 0],
      ['XOF', 0], ['USD', 2], ['EUR', 2], ['GBP', 2], ['CHF', 2], ['XCG', 2], ['ZWG', 2],
      ['BHD', 3], ['IQD', 3], ['JOD', 3], ['KWD', 3], ['LYD', 3], ['OMR', 3], ['TND', 3],
      ['CLF', 4], ['UYW', 4],
    ];
    for (const [code, exponent] of expected) {
      expect(currencyExponent(code), code).to.equal(exponent);
    }
  });

  it('has exponent 2 for every code but the known exceptions', () => {
    const exceptions = currencyCodes.filter((code) => currencyExponent(code) !== 2);
    expect(exceptions).to.deep.equal([
      'BHD', 'BIF', 'CLF', 'CLP', 'DJF', 'GNF', 'IQD', 'ISK', 'JOD', 'JPY', 'KMF', 'KRW', 'KWD',
      'LYD', 'OMR', 'PYG', 'RWF', 'TND', 'UGX', 'UYI', 'UYW', 'VND', 'VUV', 'XAF', 'XOF', 'XPF',
    ]);
  });

  it('includes recent additions and funds codes that have a minor unit', () => {
    for (const code of ['XCG', 'ZWG', 'SLE', 'VED', 'XAD', 'CLF', 'UYW', 'UYI', 'USN', 'CHE']) {
      expect(isCurrencyCode(code), code).to.equal(true);
    }
  });

  it('excludes codes without a minor unit and codes ISO has withdrawn', () => {
    const excluded = [
      'XAU', 'XAG', 'XPD', 'XPT', 'XDR', 'XSU', 'XUA', 'XBA', 'XXX', 'XTS',
      'ANG', 'BGN', 'CUC', 'HRK', 'SLL', 'ZWL', 'DEM', 'FRF',
    ];
    for (const code of excluded) expect(isCurrencyCode(code), code).to.equal(false);
  });

  it('recognises only exact upper-case codes given as strings', () => {
    for (const value of ['usd', 'Usd', ' USD', 'USD ', 'US', 'USDD', '', 'constructor', '__proto__', 840, null]) {
      expect(isCurrencyCode(value), String(value)).to.equal(false);
    }
  });

  describe('parseCurrencyCode', () => {
    it('returns a known code as is', () => {
      expect(parseCurrencyCode('EUR')).to.equal('EUR');
    });

    it('points a lower-case code to its upper-case form', () => {
      expect(() => parseCurrencyCode('eur')).to.throw(UnknownCurrencyError, /upper case.*"EUR"/);
    });

    it('refuses an unknown code, saying what is expected', () => {
      expect(() => parseCurrencyCode('ABC')).to.throw(UnknownCurrencyError, /unknown currency "ABC".*ISO 4217/);
    });

    it('refuses a non-string', () => {
      expect(() => parseCurrencyCode(978)).to.throw(UnknownCurrencyError, /must be a string, got the number 978/);
    });
  });

  it('currencyExponent refuses a code that is not in the table', () => {
    expect(() => currencyExponent('XAU' as CurrencyCode)).to.throw(UnknownCurrencyError, /"XAU"/);
  });

  describe('currencyCodeSchema', () => {
    it('accepts an active code', () => {
      expect(currencyCodeSchema.parse('GBP')).to.equal('GBP');
    });

    it('reports an unknown code, a lower-case code and a non-string with clear messages', () => {
      const message = (value: unknown) => currencyCodeSchema.safeParse(value).error?.issues[0]?.message;
      expect(message('XAU')).to.match(/unknown currency "XAU"/);
      expect(message('gbp')).to.match(/upper case.*"GBP"/);
      expect(message(826)).to.match(/must be a string, got the number 826/);
      expect(message(undefined)).to.match(/must be a string, got undefined/);
    });
  });
});

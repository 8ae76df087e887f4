import { expect } from 'chai';
import fc from 'fast-check';
import {
  type CurrencyCode,
  currencyCodes,
  currencyExponent,
  type DecimalSeparator,
  formatDecimalAmount,
  InvalidAmountError,
  MAX_MINOR_UNITS,
  MoneyOutOfRangeError,
  parseDecimalAmount,
  UnknownCurrencyError,
} from '../../src/money/index.js';

const MAX = MAX_MINOR_UNITS;
const dot = { decimalSeparator: '.' } as const;
const comma = { decimalSeparator: ',' } as const;

describe('decimal amounts (statement form)', () => {
  describe('parseDecimalAmount', () => {
    it('reads decimals into minor units of the currency', () => {
      const cases: [string, CurrencyCode, DecimalSeparator, bigint][] = [
        ['10.50', 'USD', '.', 1050n],
        ['10,50', 'USD', ',', 1050n],
        ['1000', 'USD', '.', 100000n],
        ['10.5', 'USD', '.', 1050n],
        ['0.05', 'USD', '.', 5n],
        ['-0.05', 'USD', '.', -5n],
        ['-10,5', 'EUR', ',', -1050n],
        ['0', 'USD', '.', 0n],
        ['0.00', 'USD', '.', 0n],
        ['10', 'JPY', '.', 10n],
        ['-10', 'KRW', ',', -10n],
        ['1.050', 'OMR', '.', 1050n],
        ['1,5', 'KWD', ',', 1500n],
        ['0.0001', 'CLF', '.', 1n],
        ['007.50', 'USD', '.', 750n],
        ['9999999999999999.99', 'USD', '.', MAX],
        ['-999999999999999999', 'JPY', '.', -MAX],
        ['99999999999999.9999', 'UYW', '.', MAX],
      ];
      for (const [text, currency, decimalSeparator, minor] of cases) {
        expect(parseDecimalAmount(text, currency, { decimalSeparator }), `${text} ${currency}`).to.equal(minor);
      }
    });

    const rejected: [string, CurrencyCode, DecimalSeparator, RegExp][] = [
      ['0.001', 'USD', '.', /"0\.001" \(USD\) has 3 decimals, but USD has 2, so it cannot be booked exactly/],
      ['10.500', 'USD', '.', /has 3 decimals, but USD has 2/],
      ['10.5', 'JPY', '.', /JPY has no minor unit: expected digits with an optional leading "-", such as "1050"/],
      ['10,0', 'JPY', ',', /JPY has no minor unit/],
      ['1.0501', 'OMR', '.', /has 4 decimals, but OMR has 3/],
      ['-0', 'USD', '.', /"-0" \(USD\) is a negative zero \(write it without "-"\)/],
      ['-0.00', 'USD', '.', /negative zero/],
      ['-0,0', 'EUR', ',', /negative zero/],
      ['-000', 'JPY', '.', /negative zero/],
      ['+5', 'USD', '.', /"\+5" \(USD\) carries a "\+" sign/],
      ['1,000.50', 'USD', '.', /contains ",", which is not the decimal separator here \("\."\); digit grouping/],
      ['1.000,50', 'EUR', ',', /contains "\.", which is not the decimal separator here \(","\)/],
      ['1,050', 'USD', '.', /digit grouping is not accepted/],
      ['10.50', 'USD', ',', /not the decimal separator here/],
      ['1e3', 'USD', '.', /uses exponent notation/],
      ['1.5E2', 'USD', '.', /uses exponent notation/],
      ['1 000.00', 'USD', '.', /contains whitespace/],
      [' 10.50', 'USD', '.', /contains whitespace/],
      ['10.50\t', 'USD', '.', /contains whitespace/],
      ['1.2.3', 'USD', '.', /has more than one "\."/],
      ['1,2,3', 'EUR', ',', /has more than one ","/],
      ['10.', 'USD', '.', /needs digits on both sides of "\."/],
      ['.50', 'USD', '.', /needs digits on both sides/],
      ['-.50', 'USD', '.', /needs digits on both sides/],
      ['-', 'USD', '.', /"-" \(USD\) has no digits/],
      ['.', 'USD', '.', /has no digits/],
      ['--5', 'USD', '.', /characters that do not belong/],
      ['$10.50', 'USD', '.', /characters that do not belong/],
      ['10.50USD', 'USD', '.', /characters that do not belong/],
      ['1_000', 'USD', '.', /characters that do not belong/],
      ['١٠', 'USD', '.', /characters that do not belong/],
    ];
    for (const [text, currency, decimalSeparator, message] of rejected) {
      it(`refuses ${JSON.stringify(text)} ${currency} with "${decimalSeparator}", saying why`, () => {
        expect(() => parseDecimalAmount(text, currency, { decimalSeparator })).to.throw(InvalidAmountError, message);
      });
    }

    it('refuses empty text, saying what is expected for the currency', () => {
      expect(() => parseDecimalAmount('', 'USD', dot)).to.throw(InvalidAmountError, /must not be empty.*"10\.50"/);
      expect(() => parseDecimalAmount('', 'OMR', comma)).to.throw(
        InvalidAmountError,
        /up to 3 decimals after ",".*"10,500"/,
      );
      expect(() => parseDecimalAmount('', 'JPY', dot)).to.throw(InvalidAmountError, /such as "1050"/);
    });

    it('refuses a non-string', () => {
      expect(() => parseDecimalAmount(10.5, 'USD', dot)).to.throw(
        InvalidAmountError,
        /must be a string, got the number 10\.5/,
      );
      expect(() => parseDecimalAmount(null, 'USD', dot)).to.throw(InvalidAmountError, /got null/);
    });

    it('refuses amounts beyond the bound', () => {
      expect(() => parseDecimalAmount('10000000000000000.00', 'USD', dot)).to.throw(
        MoneyOutOfRangeError,
        /out of range: it exceeds 999999999999999999 minor units/,
      );
      expect(() => parseDecimalAmount('-10000000000000000', 'USD', dot)).to.throw(MoneyOutOfRangeError);
      expect(() => parseDecimalAmount('1000000000000000000', 'JPY', dot)).to.throw(MoneyOutOfRangeError);
      expect(() => parseDecimalAmount('100000000000000', 'CLF', dot)).to.throw(MoneyOutOfRangeError);
      expect(() => parseDecimalAmount('9'.repeat(10_000), 'USD', dot)).to.throw(MoneyOutOfRangeError);
    });

    it('refuses an unknown currency and an unknown separator', () => {
      expect(() => parseDecimalAmount('1', 'XAU' as CurrencyCode, dot)).to.throw(UnknownCurrencyError, /"XAU"/);
      expect(() => parseDecimalAmount('1', 'usd' as CurrencyCode, dot)).to.throw(UnknownCurrencyError, /"USD"/);
      const semicolon = { decimalSeparator: ';' as DecimalSeparator };
      expect(() => parseDecimalAmount('1', 'USD', semicolon)).to.throw(
        InvalidAmountError,
        /separator must be "\." or ","/,
      );
    });
  });

  describe('formatDecimalAmount', () => {
    it('writes exactly the currency’s number of decimals', () => {
      const cases: [bigint, CurrencyCode, DecimalSeparator | undefined, string][] = [
        [1050n, 'USD', undefined, '10.50'],
        [-5n, 'USD', undefined, '-0.05'],
        [0n, 'USD', undefined, '0.00'],
        [1050n, 'EUR', ',', '10,50'],
        [1050n, 'JPY', undefined, '1050'],
        [-1050n, 'JPY', ',', '-1050'],
        [1050n, 'OMR', undefined, '1.050'],
        [5n, 'KWD', ',', '0,005'],
        [1n, 'CLF', undefined, '0.0001'],
        [MAX, 'USD', undefined, '9999999999999999.99'],
        [-MAX, 'UYW', undefined, '-99999999999999.9999'],
      ];
      for (const [minor, currency, separator, text] of cases) {
        expect(formatDecimalAmount(minor, currency, separator), `${minor} ${currency}`).to.equal(text);
      }
    });

    it('refuses out-of-range amounts, non-bigints, unknown currencies and separators', () => {
      expect(() => formatDecimalAmount(MAX + 1n, 'USD')).to.throw(MoneyOutOfRangeError);
      expect(() => formatDecimalAmount(10.5 as unknown as bigint, 'USD')).to.throw(InvalidAmountError, /bigint/);
      expect(() => formatDecimalAmount(1n, 'XXX' as CurrencyCode)).to.throw(UnknownCurrencyError);
      expect(() => formatDecimalAmount(1n, 'USD', ' ' as DecimalSeparator)).to.throw(InvalidAmountError, /separator/);
    });
  });

  describe('properties', () => {
    const currency = fc.constantFrom(...currencyCodes);
    const separator = fc.constantFrom<DecimalSeparator>('.', ',');
    const bounded = fc.bigInt({ min: -MAX, max: MAX });

    it('format then parse gives back the amount, for every currency and separator', () => {
      fc.assert(
        fc.property(bounded, currency, separator, (minor, code, decimalSeparator) => {
          const text = formatDecimalAmount(minor, code, decimalSeparator);
          expect(parseDecimalAmount(text, code, { decimalSeparator })).to.equal(minor);
        }),
        { numRuns: 2000 },
      );
    });

    it('parse reads any decimal with up to the currency’s decimals exactly', () => {
      const decimal = currency.chain((code) =>
        fc.record({
          code: fc.constant(code),
          whole: fc.bigInt({ min: 0n, max: 10n ** 12n }),
          fraction: fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: currencyExponent(code) }),
          negative: fc.boolean(),
          decimalSeparator: separator,
        }),
      );
      fc.assert(
        fc.property(decimal, ({ code, whole, fraction, negative, decimalSeparator }) => {
          const exponent = currencyExponent(code);
          const magnitude = whole * 10n ** BigInt(exponent) + BigInt(fraction.padEnd(exponent, '0') || '0');
          fc.pre(!(negative && magnitude === 0n));
          const text = `${negative ? '-' : ''}${whole}${fraction === '' ? '' : decimalSeparator + fraction}`;
          expect(parseDecimalAmount(text, code, { decimalSeparator })).to.equal(negative ? -magnitude : magnitude);
        }),
        { numRuns: 1000 },
      );
    });

    it('always refuses more decimals than the currency has', () => {
      const tooPrecise = currency.chain((code) =>
        fc.record({
          code: fc.constant(code),
          fraction: fc.string({
            unit: fc.constantFrom(...'0123456789'),
            minLength: currencyExponent(code) + 1,
            maxLength: currencyExponent(code) + 4,
          }),
          decimalSeparator: separator,
        }),
      );
      fc.assert(
        fc.property(tooPrecise, ({ code, fraction, decimalSeparator }) => {
          const text = `1${decimalSeparator}${fraction}`;
          expect(() => parseDecimalAmount(text, code, { decimalSeparator })).to.throw(InvalidAmountError);
        }),
      );
    });

    it('always refuses amounts beyond the bound', () => {
      fc.assert(
        fc.property(fc.bigInt({ min: MAX + 1n, max: 10n ** 30n }), currency, (beyond, code) => {
          const exponent = currencyExponent(code);
          const scale = 10n ** BigInt(exponent);
          const fraction = `${beyond % scale}`.padStart(exponent, '0');
          const text = exponent === 0 ? `${beyond}` : `${beyond / scale}.${fraction}`;
          expect(() => parseDecimalAmount(text, code, dot)).to.throw(MoneyOutOfRangeError);
          expect(() => parseDecimalAmount(`-${text}`, code, dot)).to.throw(MoneyOutOfRangeError);
        }),
      );
    });
  });
});

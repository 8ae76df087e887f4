import { InvalidAmountError, currencyCodes, currencyExponent, formatDecimalAmount, type CurrencyCode } from '@folio/shared';
import { expect } from 'chai';
import fc from 'fast-check';
import { parseMajorUnits } from '../../src/statements/importers/statementAmounts.js';

const currency = fc.constantFrom(...currencyCodes);
const amount = fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n });

describe('statement amounts in major units', () => {
  it('reads back exactly what the currency can hold, with either decimal separator', () => {
    fc.assert(
      fc.property(currency, amount, fc.constantFrom('.' as const, ',' as const), (code, minor, separator) => {
        expect(parseMajorUnits(formatDecimalAmount(minor, code, separator), code, { decimalSeparator: separator })).to.equal(minor);
      }),
    );
  });

  it('refuses one decimal more than the currency has, whatever the digit', () => {
    fc.assert(
      fc.property(currency, amount, fc.integer({ min: 1, max: 9 }), (code, minor, digit) => {
        const text = formatDecimalAmount(minor, code) + (currencyExponent(code) === 0 ? `.${digit}` : String(digit));
        expect(() => parseMajorUnits(text, code, { decimalSeparator: '.' })).to.throw(InvalidAmountError);
      }),
    );
  });

  it("takes a provider's extra decimals only when they are zeros", () => {
    const isk: CurrencyCode = 'ISK';
    fc.assert(
      fc.property(amount, fc.integer({ min: 0, max: 99 }), (minor, cents) => {
        const text = `${formatDecimalAmount(minor, isk)}.${String(cents).padStart(2, '0')}`;
        const read = () => parseMajorUnits(text, isk, { decimalSeparator: '.', providerDecimals: 2 });
        if (cents === 0) expect(read()).to.equal(minor);
        else expect(read).to.throw(InvalidAmountError, /not a whole number of ISK minor units/);
      }),
    );
  });
});

import { expect } from 'chai';
import fc from 'fast-check';
import { currencyCodes, currencyExponent, formatDecimalAmount, MAX_MINOR_UNITS } from '@folio/shared';
import { formatMinorUnits, formatMoney, parseAmountInput } from '../ui/src/amounts.js';

describe('UI amounts: exact per currency, never through a float', () => {
  it('formats JPY without decimals, EUR with two, OMR with three, grouped in thousands', () => {
    expect(formatMoney('1050', 'JPY', 0)).to.equal('1,050 JPY');
    expect(formatMoney('123456', 'EUR', 2)).to.equal('1,234.56 EUR');
    expect(formatMoney('5', 'OMR', 3)).to.equal('0.005 OMR');
    expect(formatMoney('1234567', 'OMR', 3)).to.equal('1,234.567 OMR');
    expect(formatMinorUnits('-7', 2)).to.equal('-0.07');
    expect(formatMinorUnits('0', 0)).to.equal('0');
  });

  it('keeps amounts beyond 2^53 exact', () => {
    expect(formatMinorUnits('9007199254740993', 2)).to.equal('90,071,992,547,409.93');
    expect(formatMinorUnits('999999999999999999', 3)).to.equal('999,999,999,999,999.999');
  });

  it('refuses what is not minor units rather than guessing', () => {
    for (const bad of ['10.5', '1e3', '', '-', ' 5', '007', 'abc']) {
      expect(() => formatMinorUnits(bad, 2), bad).to.throw(TypeError);
    }
  });

  it("agrees with the ledger's own decimal formatting for every currency (grouping aside)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...currencyCodes), fc.bigInt({ min: -MAX_MINOR_UNITS, max: MAX_MINOR_UNITS }), (currency, amount) => {
        const shown = formatMinorUnits(amount.toString(), currencyExponent(currency));
        expect(shown.replaceAll(',', '')).to.equal(formatDecimalAmount(amount, currency));
      }),
    );
  });

  it('reads typed amounts in major units into minor units exactly', () => {
    expect(parseAmountInput('10.5', 2)).to.deep.equal({ ok: true, minorUnits: '1050' });
    expect(parseAmountInput('1,050', 0)).to.deep.equal({ ok: true, minorUnits: '1050' });
    expect(parseAmountInput('0.005', 3)).to.deep.equal({ ok: true, minorUnits: '5' });
    expect(parseAmountInput('.5', 2)).to.deep.equal({ ok: true, minorUnits: '50' });
    expect(parseAmountInput('0', 2)).to.deep.equal({ ok: true, minorUnits: '0' });
    expect(parseAmountInput('12.', 3)).to.deep.equal({ ok: true, minorUnits: '12000' });
  });

  it('refuses more decimals than the currency has, and anything that is not an amount', () => {
    expect(parseAmountInput('10.5', 0)).to.deep.equal({ ok: false, message: 'this currency has no decimals' });
    expect(parseAmountInput('1.2345', 3)).to.deep.equal({ ok: false, message: 'at most 3 decimals in this currency' });
    for (const bad of ['-5', '1e3', 'ten', '.', '1.2.3', '+5']) expect(parseAmountInput(bad, 2).ok, bad).to.equal(false);
    expect(parseAmountInput('1'.repeat(19), 0).ok).to.equal(false);
  });

  it('reads back what it formats', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), fc.bigInt({ min: 0n, max: MAX_MINOR_UNITS }), (exponent, amount) => {
        expect(parseAmountInput(formatMinorUnits(amount.toString(), exponent), exponent)).to.deep.equal({ ok: true, minorUnits: amount.toString() });
      }),
    );
  });
});

import { expect } from 'chai';
import { parseAmountInput } from '../ui/src/amounts.js';

describe('UI amount input: separators', () => {
  it('refuses a comma that cannot be a thousands separator rather than dropping it', () => {
    // "10,50" is ten and a half euros to many readers: reading it as 1050.00 would filter on a hundred times the amount.
    for (const text of ['10,50', '1,5', '12,3456', '1,05,000', ',500', '0,500', '1,000.0,5']) {
      expect(parseAmountInput(text, 2).ok, text).to.equal(false);
    }
    expect(parseAmountInput('10,50', 2)).to.deep.equal({ ok: false, message: 'use a point for decimals, such as 10.50; commas group thousands' });
  });

  it('refuses a single comma before three digits in a currency of three decimals, where it could mean either', () => {
    expect(parseAmountInput('10,500', 3)).to.deep.equal({
      ok: false,
      message: 'write 10.500 or 10500: with three decimals a single comma could mean either',
    });
    expect(parseAmountInput('10,500', 2)).to.deep.equal({ ok: true, minorUnits: '1050000' });
    expect(parseAmountInput('1,234,567', 3)).to.deep.equal({ ok: true, minorUnits: '1234567000' });
    expect(parseAmountInput('10,500.250', 3)).to.deep.equal({ ok: true, minorUnits: '10500250' });
  });

  it('still reads thousands grouped by commas or spaces', () => {
    expect(parseAmountInput('1,000', 2)).to.deep.equal({ ok: true, minorUnits: '100000' });
    expect(parseAmountInput('12,345,678.9', 2)).to.deep.equal({ ok: true, minorUnits: '1234567890' });
    expect(parseAmountInput('1 000 000', 0)).to.deep.equal({ ok: true, minorUnits: '1000000' });
    expect(parseAmountInput(' 10.5 ', 2)).to.deep.equal({ ok: true, minorUnits: '1050' });
    expect(parseAmountInput('1.234', 3)).to.deep.equal({ ok: true, minorUnits: '1234' });
    expect(parseAmountInput('100', 0)).to.deep.equal({ ok: true, minorUnits: '100' });
  });
});

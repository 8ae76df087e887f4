import { expect } from 'chai';
import fc from 'fast-check';
import { z } from 'zod';
import {
  formatMinorUnits,
  InvalidAmountError,
  MAX_MINOR_UNITS,
  minorUnitsSchema,
  MoneyOutOfRangeError,
  parseMinorUnits,
  parsePositiveMinorUnits,
  positiveMinorUnitsSchema,
} from '../../src/money/index.js';

const MAX = MAX_MINOR_UNITS;
const CANONICAL = /^(0|-?[1-9][0-9]{0,17})$/;

describe('minor units (wire form)', () => {
  describe('parseMinorUnits', () => {
    it('reads canonical integers, negatives included', () => {
      const cases: [string, bigint][] = [
        ['0', 0n],
        ['1050', 1050n],
        ['-25', -25n],
        ['999999999999999999', MAX],
        ['-999999999999999999', -MAX],
      ];
      for (const [text, value] of cases) expect(parseMinorUnits(text), text).to.equal(value);
    });

    const rejected: [unknown, RegExp][] = [
      ['-0', /"-0" are a negative zero: write "0"/],
      ['-00', /leading zeros: write "0"/],
      ['+1', /"\+1" carry a "\+" sign/],
      ['1e3', /"1e3" use exponent notation.*"1000"/],
      ['1E3', /exponent notation/],
      ['10.5', /"10\.5" contain a decimal point or digit grouping.*"1050" for 10\.50 USD/],
      ['1,050', /"1,050" contain a decimal point or digit grouping/],
      ['1.000.000', /decimal point or digit grouping/],
      ['007', /"007" have leading zeros: write "7"/],
      ['-007', /leading zeros: write "-7"/],
      ['', /must not be empty: expected a whole number of minor units/],
      [' 1050', /contain whitespace/],
      ['1050 ', /contain whitespace/],
      ['10 50', /contain whitespace/],
      ['1050\n', /contain whitespace/],
      ['\u00a01050', /contain whitespace/],
      ['-', /"-" have no digits/],
      ['--5', /characters other than digits and a leading "-"/],
      ['5-', /characters other than digits/],
      ['0x10', /characters other than digits/],
      ['1_000', /characters other than digits/],
      ['Infinity', /characters other than digits/],
      ['NaN', /characters other than digits/],
      ['١٢٣', /characters other than digits/],
      ['１２', /characters other than digits/],
      [1050, /must be a string, got the number 1050: send it as a string, such as "1050"/],
      [10.5, /must be a string, got the number 10\.5: expected a whole number of minor units/],
      [1050n, /must be a string, got the bigint 1050n/],
      [null, /must be a string, got null: expected/],
      [undefined, /must be a string, got undefined/],
      [{ amount: '1' }, /must be a string, got an object/],
      [['1'], /must be a string, got an array/],
    ];
    for (const [input, message] of rejected) {
      it(`refuses ${typeof input === 'string' ? JSON.stringify(input) : String(input)}, saying why`, () => {
        expect(() => parseMinorUnits(input)).to.throw(InvalidAmountError, message);
      });
    }

    it('refuses values beyond the bound, naming it', () => {
      for (const text of ['1000000000000000000', '-1000000000000000000', '9'.repeat(40)]) {
        expect(() => parseMinorUnits(text), text).to.throw(MoneyOutOfRangeError, /at most 18 digits/);
      }
    });

    it('keeps error messages short for huge inputs', () => {
      expect(() => parseMinorUnits('1'.repeat(100_000)))
        .to.throw(MoneyOutOfRangeError)
        .with.property('message')
        .that.has.length.below(300);
    });
  });

  describe('parsePositiveMinorUnits', () => {
    it('reads amounts greater than zero', () => {
      expect(parsePositiveMinorUnits('1')).to.equal(1n);
      expect(parsePositiveMinorUnits('999999999999999999')).to.equal(MAX);
    });

    it('refuses zero and negatives', () => {
      expect(() => parsePositiveMinorUnits('0')).to.throw(InvalidAmountError, /must be positive.*got "0"/);
      expect(() => parsePositiveMinorUnits('-5')).to.throw(InvalidAmountError, /must be positive.*got "-5"/);
    });

    it('applies the rules of parseMinorUnits first', () => {
      expect(() => parsePositiveMinorUnits('+5')).to.throw(InvalidAmountError, /"\+" sign/);
      expect(() => parsePositiveMinorUnits(5)).to.throw(InvalidAmountError, /must be a string/);
      expect(() => parsePositiveMinorUnits('1000000000000000000')).to.throw(MoneyOutOfRangeError);
    });
  });

  describe('formatMinorUnits', () => {
    it('writes the canonical form', () => {
      expect([0n, 1050n, -25n, MAX, -MAX].map(formatMinorUnits)).to.deep.equal([
        '0',
        '1050',
        '-25',
        '999999999999999999',
        '-999999999999999999',
      ]);
    });

    it('refuses values beyond the bound and non-bigints', () => {
      expect(() => formatMinorUnits(MAX + 1n)).to.throw(MoneyOutOfRangeError);
      expect(() => formatMinorUnits(1050 as unknown as bigint)).to.throw(InvalidAmountError, /bigint/);
    });
  });

  describe('schemas', () => {
    it('minorUnitsSchema turns a wire string into a bigint', () => {
      expect(minorUnitsSchema.parse('-1050')).to.equal(-1050n);
      expect(minorUnitsSchema.parse('0')).to.equal(0n);
    });

    it('minorUnitsSchema reports one clear issue at the field', () => {
      const result = minorUnitsSchema.safeParse('10.50');
      expect(result.success).to.equal(false);
      expect(result.error?.issues).to.have.length(1);
      expect(result.error?.issues[0]?.message).to.match(/"10\.50" contain a decimal point/);
    });

    it('minorUnitsSchema refuses a JSON number, telling to send a string', () => {
      const issue = minorUnitsSchema.safeParse(1050).error?.issues[0];
      expect(issue?.message).to.match(/must be a string, got the number 1050: send it as a string/);
    });

    it('minorUnitsSchema reports the bound and the path inside an object', () => {
      const body = z.object({ amount: minorUnitsSchema });
      const issue = body.safeParse({ amount: '1000000000000000000' }).error?.issues[0];
      expect(issue?.path).to.deep.equal(['amount']);
      expect(issue?.message).to.match(/out of range: at most 18 digits/);
      expect(body.safeParse({}).error?.issues[0]?.message).to.match(/must be a string, got undefined/);
    });

    it('positiveMinorUnitsSchema refuses zero and negatives', () => {
      expect(positiveMinorUnitsSchema.parse('1')).to.equal(1n);
      expect(positiveMinorUnitsSchema.safeParse('0').error?.issues[0]?.message).to.match(/must be positive/);
      expect(positiveMinorUnitsSchema.safeParse('-1').error?.issues[0]?.message).to.match(/must be positive/);
      expect(positiveMinorUnitsSchema.safeParse('-0').error?.issues[0]?.message).to.match(/negative zero/);
    });
  });

  describe('properties', () => {
    it('format then parse gives back every value of the bounded range', () => {
      fc.assert(
        fc.property(fc.bigInt({ min: -MAX, max: MAX }), (value) => {
          const text = formatMinorUnits(value);
          expect(text).to.match(CANONICAL);
          expect(parseMinorUnits(text)).to.equal(value);
          expect(minorUnitsSchema.parse(text)).to.equal(value);
        }),
        { numRuns: 2000 },
      );
    });

    it('every accepted text is canonical: parse then format gives the same text', () => {
      const digitLike = fc.string({
        unit: fc.constantFrom('0', '1', '9', '-', '+', '.', ',', 'e', ' '),
        maxLength: 22,
      });
      fc.assert(
        fc.property(fc.oneof(digitLike, fc.string()), (text) => {
          let value: bigint;
          try {
            value = parseMinorUnits(text);
          } catch (error) {
            expect(error instanceof InvalidAmountError || error instanceof MoneyOutOfRangeError).to.equal(true);
            expect(text).not.to.match(CANONICAL);
            return;
          }
          expect(formatMinorUnits(value)).to.equal(text);
        }),
        { numRuns: 2000 },
      );
    });

    it('every integer beyond the bound is refused as out of range', () => {
      fc.assert(
        fc.property(fc.bigInt({ min: MAX + 1n, max: 10n ** 30n }), fc.boolean(), (magnitude, negative) => {
          const text = (negative ? -magnitude : magnitude).toString();
          expect(() => parseMinorUnits(text)).to.throw(MoneyOutOfRangeError);
          expect(minorUnitsSchema.safeParse(text).success).to.equal(false);
        }),
      );
    });
  });
});

import { expect } from 'chai';
import fc from 'fast-check';
import {
  add,
  compare,
  type CurrencyCode,
  CurrencyMismatchError,
  currencyCodes,
  InvalidAmountError,
  isNegative,
  isPositive,
  isZero,
  MAX_MINOR_UNITS,
  type Money,
  money,
  MoneyOutOfRangeError,
  negate,
  subtract,
  sum,
  UnknownCurrencyError,
  zero,
} from '../../src/money/index.js';

const MAX = MAX_MINOR_UNITS;
const usd = (amount: bigint) => money(amount, 'USD');

const boundedAmount = (limit = MAX) => fc.bigInt({ min: -limit, max: limit });
const currency = fc.constantFrom(...currencyCodes);
const twoCurrencies = fc
  .tuple(currency, currency)
  .filter(([a, b]) => a !== b) as fc.Arbitrary<[CurrencyCode, CurrencyCode]>;

describe('money', () => {
  it('bounds amounts by 18 digits', () => {
    expect(MAX_MINOR_UNITS).to.equal(999_999_999_999_999_999n);
    expect(MAX_MINOR_UNITS < 2n ** 63n - 1n).to.equal(true);
  });

  describe('money()', () => {
    it('builds an immutable amount of one currency', () => {
      const amount = money(1050n, 'USD');
      expect(amount).to.deep.equal({ amount: 1050n, currency: 'USD' });
      expect(Object.isFrozen(amount)).to.equal(true);
    });

    it('accepts the bound itself, on both sides', () => {
      expect(usd(MAX).amount).to.equal(MAX);
      expect(usd(-MAX).amount).to.equal(-MAX);
    });

    it('refuses an amount beyond the bound', () => {
      expect(() => usd(MAX + 1n)).to.throw(MoneyOutOfRangeError, /out of range.*999999999999999999/);
      expect(() => usd(-MAX - 1n)).to.throw(MoneyOutOfRangeError);
    });

    it('refuses an amount that is not a bigint', () => {
      expect(() => money(1050 as unknown as bigint, 'USD')).to.throw(InvalidAmountError, /bigint.*the number 1050/);
      expect(() => money('1050' as unknown as bigint, 'USD')).to.throw(InvalidAmountError, /bigint.*"1050"/);
    });

    it('refuses an unknown currency', () => {
      expect(() => money(1n, 'XAU' as CurrencyCode)).to.throw(UnknownCurrencyError, /"XAU"/);
    });

    it('zero() is the zero amount of a currency', () => {
      expect(zero('JPY')).to.deep.equal({ amount: 0n, currency: 'JPY' });
    });
  });

  describe('arithmetic', () => {
    it('adds and subtracts amounts of one currency', () => {
      expect(add(usd(1050n), usd(-50n))).to.deep.equal(usd(1000n));
      expect(subtract(usd(1000n), usd(1050n))).to.deep.equal(usd(-50n));
    });

    it('negates', () => {
      expect(negate(usd(5n))).to.deep.equal(usd(-5n));
      expect(negate(usd(-MAX))).to.deep.equal(usd(MAX));
      expect(negate(usd(0n)).amount).to.equal(0n);
    });

    it('tells the sign of an amount', () => {
      expect([isZero(usd(0n)), isZero(usd(1n)), isZero(usd(-1n))]).to.deep.equal([true, false, false]);
      expect([isPositive(usd(0n)), isPositive(usd(1n)), isPositive(usd(-1n))]).to.deep.equal([false, true, false]);
      expect([isNegative(usd(0n)), isNegative(usd(1n)), isNegative(usd(-1n))]).to.deep.equal([false, false, true]);
    });

    it('compares, and sorts with compare', () => {
      expect(compare(usd(1n), usd(2n))).to.equal(-1);
      expect(compare(usd(2n), usd(2n))).to.equal(0);
      expect(compare(usd(2n), usd(-3n))).to.equal(1);
      const sorted = [usd(3n), usd(-1n), usd(2n)].sort(compare).map((m) => m.amount);
      expect(sorted).to.deep.equal([-1n, 2n, 3n]);
    });

    it('sums a list, an empty one to zero', () => {
      expect(sum([usd(1n), usd(2n), usd(-10n)], 'USD')).to.deep.equal(usd(-7n));
      expect(sum([], 'EUR')).to.deep.equal(zero('EUR'));
    });

    it('sums any iterable', () => {
      function* postings(): Generator<Money> {
        yield usd(100n);
        yield usd(250n);
      }
      expect(sum(postings(), 'USD').amount).to.equal(350n);
    });

    it('bounds a sum by its total, not its running sums, so order does not matter', () => {
      expect(sum([usd(MAX), usd(1n), usd(-1n)], 'USD').amount).to.equal(MAX);
      expect(() => sum([usd(MAX), usd(1n)], 'USD')).to.throw(MoneyOutOfRangeError, /sum/);
    });

    it('refuses results beyond the bound', () => {
      expect(() => add(usd(MAX), usd(1n))).to.throw(MoneyOutOfRangeError, /addition/);
      expect(() => subtract(usd(-MAX), usd(1n))).to.throw(MoneyOutOfRangeError, /subtraction/);
    });

    it('refuses to mix currencies, naming both', () => {
      expect(() => add(usd(1n), money(1n, 'EUR')))
        .to.throw(CurrencyMismatchError)
        .that.includes({ expected: 'USD', actual: 'EUR' });
      expect(() => subtract(usd(1n), money(1n, 'EUR'))).to.throw(CurrencyMismatchError);
      expect(() => compare(usd(1n), money(1n, 'JPY'))).to.throw(CurrencyMismatchError);
      expect(() => sum([usd(1n), money(1n, 'GBP')], 'USD')).to.throw(CurrencyMismatchError, /USD.*GBP/);
      expect(() => sum([money(1n, 'GBP')], 'USD')).to.throw(CurrencyMismatchError);
    });

    it('re-checks operands not built with money()', () => {
      const literal = (amount: unknown, currency: unknown) => ({ amount, currency }) as Money;
      expect(() => add(literal(1, 'USD'), usd(1n))).to.throw(InvalidAmountError, /bigint/);
      expect(() => add(usd(1n), literal(MAX + 1n, 'USD'))).to.throw(MoneyOutOfRangeError);
      expect(() => negate(literal(5n, 'usd'))).to.throw(UnknownCurrencyError);
      expect(() => isZero(null as unknown as Money)).to.throw(InvalidAmountError, /Money value, got null/);
      expect(() => sum([literal(1n, 'USD'), literal(2.5, 'USD')], 'USD')).to.throw(InvalidAmountError);
    });
  });

  describe('properties', () => {
    const half = MAX / 2n;
    const third = MAX / 3n;

    it('add is commutative and exact within bounds', () => {
      fc.assert(
        fc.property(boundedAmount(half), boundedAmount(half), currency, (a, b, c) => {
          const ab = add(money(a, c), money(b, c));
          expect(ab).to.deep.equal(add(money(b, c), money(a, c)));
          expect(ab).to.deep.equal({ amount: a + b, currency: c });
        }),
      );
    });

    it('add is associative within bounds', () => {
      fc.assert(
        fc.property(boundedAmount(third), boundedAmount(third), boundedAmount(third), (a, b, c) => {
          expect(add(add(usd(a), usd(b)), usd(c))).to.deep.equal(add(usd(a), add(usd(b), usd(c))));
        }),
      );
    });

    it('subtract undoes add, and an amount minus itself is zero', () => {
      fc.assert(
        fc.property(boundedAmount(half), boundedAmount(half), (a, b) => {
          expect(subtract(add(usd(a), usd(b)), usd(b))).to.deep.equal(usd(a));
          expect(add(usd(a), negate(usd(a)))).to.deep.equal(zero('USD'));
          expect(isZero(subtract(usd(a), usd(a)))).to.equal(true);
          expect(subtract(usd(a), usd(b))).to.deep.equal(add(usd(a), negate(usd(b))));
        }),
      );
    });

    it('add returns the exact total when it is within bounds and refuses it otherwise', () => {
      fc.assert(
        fc.property(boundedAmount(), boundedAmount(), (a, b) => {
          const total = a + b;
          if (total > MAX || total < -MAX) {
            expect(() => add(usd(a), usd(b))).to.throw(MoneyOutOfRangeError);
          } else {
            expect(add(usd(a), usd(b)).amount).to.equal(total);
          }
        }),
      );
    });

    it('always refuses results beyond the bound', () => {
      // `a` in [1, MAX] and `b` in [MAX - a + 1, MAX] make a + b > MAX by construction.
      const overflowingPair = fc
        .bigInt({ min: 1n, max: MAX })
        .chain((a) => fc.tuple(fc.constant(a), fc.bigInt({ min: MAX - a + 1n, max: MAX })));
      fc.assert(
        fc.property(overflowingPair, currency, ([a, b], c) => {
          expect(() => add(money(a, c), money(b, c))).to.throw(MoneyOutOfRangeError);
          expect(() => add(money(-a, c), money(-b, c))).to.throw(MoneyOutOfRangeError);
          expect(() => subtract(money(a, c), money(-b, c))).to.throw(MoneyOutOfRangeError);
          expect(() => subtract(money(-a, c), money(b, c))).to.throw(MoneyOutOfRangeError);
          expect(() => sum([money(a, c), money(b, c)], c)).to.throw(MoneyOutOfRangeError);
        }),
      );
    });

    it('always refuses to build an amount beyond the bound', () => {
      fc.assert(
        fc.property(fc.bigInt({ min: MAX + 1n, max: 10n ** 40n }), (beyond) => {
          expect(() => usd(beyond)).to.throw(MoneyOutOfRangeError);
          expect(() => usd(-beyond)).to.throw(MoneyOutOfRangeError);
        }),
      );
    });

    it('always refuses to mix currencies', () => {
      fc.assert(
        fc.property(twoCurrencies, boundedAmount(), boundedAmount(), ([c1, c2], a, b) => {
          const x = money(a, c1);
          const y = money(b, c2);
          expect(() => add(x, y)).to.throw(CurrencyMismatchError);
          expect(() => subtract(x, y)).to.throw(CurrencyMismatchError);
          expect(() => compare(x, y)).to.throw(CurrencyMismatchError);
          expect(() => sum([x, y], c1)).to.throw(CurrencyMismatchError);
        }),
      );
    });

    it('sum equals repeated add, whatever the order', () => {
      fc.assert(
        fc.property(fc.array(boundedAmount(MAX / 64n), { maxLength: 50 }), (amounts) => {
          const items = amounts.map(usd);
          const folded = items.reduce(add, zero('USD'));
          expect(sum(items, 'USD')).to.deep.equal(folded);
          expect(sum([...items].reverse(), 'USD')).to.deep.equal(folded);
        }),
      );
    });
  });
});

import { expect } from 'chai';
import fc from 'fast-check';
import { sortableBigint } from '../../src/documents/documentStore.js';

const LIMIT = 10n ** 19n - 1n;
const inRange = fc.bigInt({ min: -LIMIT, max: LIMIT });
const sign = (n: number | bigint): number => (n > 0 ? 1 : n < 0 ? -1 : 0);
/** What SQLite's BINARY collation and MongoDB's simple collation both do with these ASCII strings. */
const compareStrings = (a: string, b: string): number => sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));

describe('sortableBigint', () => {
  it('orders strings exactly as the bigints, negatives included, within ±(10^19 − 1)', () => {
    fc.assert(
      fc.property(inRange, inRange, (a, b) => {
        expect(compareStrings(sortableBigint(a), sortableBigint(b)), `${a} vs ${b}`).to.equal(sign(a - b));
      }),
      { numRuns: 2000 },
    );
  });

  it('orders the edges and neighbours of zero', () => {
    const values = [-LIMIT, -LIMIT + 1n, -(10n ** 18n), -2n, -1n, 0n, 1n, 2n, 10n ** 18n, LIMIT - 1n, LIMIT];
    const strings = values.map(sortableBigint);
    expect([...strings].sort(compareStrings)).to.deep.equal(strings);
    expect(new Set(strings).size).to.equal(values.length);
  });

  it('gives every value the same width, and each value one string', () => {
    fc.assert(
      fc.property(inRange, (value) => {
        expect(sortableBigint(value)).to.have.length(20).and.match(/^[-0][0-9]{19}$/);
      }),
    );
    expect(sortableBigint(0n)).to.equal('00000000000000000000');
    expect(sortableBigint(-1n)).to.equal('-9999999999999999999');
  });

  it('refuses values of more than 19 digits', () => {
    for (const value of [LIMIT + 1n, -LIMIT - 1n, 2n ** 64n, -(2n ** 64n)]) {
      expect(() => sortableBigint(value), String(value)).to.throw(RangeError);
    }
  });
});

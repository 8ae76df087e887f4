import { expect } from 'chai';
import fc from 'fast-check';
import { z } from 'zod';
import { bigintString } from '../../src/events/index.js';

describe('bigintString', () => {
  it('decodes canonical decimal strings into bigints, beyond the safe number range', () => {
    expect(bigintString.parse('0')).to.equal(0n);
    expect(bigintString.parse('1050')).to.equal(1050n);
    expect(bigintString.parse('-12')).to.equal(-12n);
    expect(bigintString.parse('123456789012345678901234567890')).to.equal(123456789012345678901234567890n);
  });

  it('rejects non-canonical spellings and non-strings', () => {
    const inputs = ['01', '+1', '1.0', ' 1', '1 ', '-0', '1e3', '', '-', '0x10', '1_000', '1,050', 10, 10n, null];
    for (const input of inputs) {
      const result = bigintString.safeParse(input);
      expect(result.success, JSON.stringify(String(input))).to.equal(false);
    }
    expect(bigintString.safeParse('01').error?.issues[0]?.message).to.match(/canonical decimal string/);
  });

  it('encodes bigints to their decimal string and refuses other values', () => {
    expect(z.encode(bigintString, 1050n)).to.equal('1050');
    expect(z.encode(bigintString, -7n)).to.equal('-7');
    expect(bigintString.safeEncode(10 as unknown as bigint).success).to.equal(false);
  });

  it('round-trips any bigint through its canonical string', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }), (value) => {
        const text = z.encode(bigintString, value);
        return text === value.toString() && bigintString.parse(text) === value;
      }),
    );
  });

  it('works inside an object schema in both directions', () => {
    const schema = z.object({ amount: bigintString, memo: z.string() });
    const encoded = z.encode(schema, { amount: 9007199254740993n, memo: 'x' });
    expect(encoded).to.deep.equal({ amount: '9007199254740993', memo: 'x' });
    expect(schema.parse(JSON.parse(JSON.stringify(encoded)))).to.deep.equal({ amount: 9007199254740993n, memo: 'x' });
  });
});

import { expect } from 'chai';
import type { z } from 'zod';
import {
  accountIdSchema,
  amountSchema,
  currencySchema,
  descriptionSchema,
  idempotencyKeySchema,
  metadataSchema,
  referenceSchema,
} from '../../src/http/wireSchemas.js';
import { MAX_MINOR_UNITS } from '../../src/money/index.js';

const messagesOf = (schema: z.ZodType, value: unknown): string[] => {
  const result = schema.safeParse(value);
  if (result.success) return [];
  // A record's key issue says only "Invalid key"; the reason is in its inner issues.
  return result.error.issues.flatMap((issue) =>
    issue.code === 'invalid_key' ? issue.issues.map((inner) => inner.message) : [issue.message],
  );
};

const accepts = (schema: z.ZodType, value: unknown): unknown => {
  const result = schema.safeParse(value);
  expect(result.success, `${JSON.stringify(value)}: ${JSON.stringify(result.error?.issues)}`).to.equal(true);
  return result.data;
};

const rejects = (schema: z.ZodType, value: unknown): string => {
  const messages = messagesOf(schema, value);
  expect(messages, `${String(value)} should be rejected`).not.to.deep.equal([]);
  return messages.join('; ');
};

describe('wire schemas', () => {
  describe('amountSchema', () => {
    it('accepts positive minor units as a string of digits, to a bigint', () => {
      expect(accepts(amountSchema, '1050')).to.equal(1050n);
      expect(accepts(amountSchema, '1')).to.equal(1n);
      expect(accepts(amountSchema, MAX_MINOR_UNITS.toString())).to.equal(MAX_MINOR_UNITS);
    });

    const rejected: [value: unknown, why: RegExp][] = [
      [10.5, /must be a string/],
      [1050, /send it as a string, such as "1050"/],
      ['10.5', /decimal point/],
      ['1,050', /decimal point or digit grouping/],
      ['1e3', /exponent/],
      ['-0', /negative zero/],
      ['0', /positive/],
      ['-5', /positive/],
      ['01050', /leading zeros/],
      [' 1050', /whitespace/],
      ['', /empty/],
      [(MAX_MINOR_UNITS + 1n).toString(), /./],
      [null, /must be a string/],
    ];
    for (const [value, why] of rejected) {
      it(`rejects ${JSON.stringify(value)}`, () => {
        expect(rejects(amountSchema, value)).to.match(why);
      });
    }
  });

  it('currencySchema accepts active ISO codes only, upper case', () => {
    expect(accepts(currencySchema, 'EUR')).to.equal('EUR');
    rejects(currencySchema, 'eur');
    rejects(currencySchema, 'HRK');
    rejects(currencySchema, 'XAU');
  });

  it('accountIdSchema accepts canonical Snowflake ids and keeps them as strings', () => {
    expect(accepts(accountIdSchema, '1234567890123456789')).to.equal('1234567890123456789');
    rejects(accountIdSchema, '0123');
    rejects(accountIdSchema, '-1');
    rejects(accountIdSchema, 123);
  });

  describe('referenceSchema', () => {
    it('normalises to NFC and trims', () => {
      const decomposed = 'Cafe\u0301 order';
      const composed = 'Caf\u00e9 order';
      expect(accepts(referenceSchema, `  ${decomposed}  `)).to.equal(composed);
      expect(accepts(referenceSchema, composed)).to.equal(composed);
    });

    it('takes 1 to 140 characters, counted after normalisation, as code points', () => {
      expect(accepts(referenceSchema, 'r')).to.equal('r');
      expect(accepts(referenceSchema, 'x'.repeat(140))).to.have.length(140);
      expect(rejects(referenceSchema, 'x'.repeat(141))).to.include('at most 140 characters, got 141');
      expect(accepts(referenceSchema, '\u{1F4B6}'.repeat(140))).to.have.length(280);
      // 140 decomposed letters are 280 code points before NFC and 140 after.
      expect(accepts(referenceSchema, 'e\u0301'.repeat(140))).to.equal('\u00e9'.repeat(140));
      expect(rejects(referenceSchema, '')).to.include('must not be empty');
      expect(rejects(referenceSchema, '   ')).to.include('must not be empty');
    });

    it('refuses control characters, lone surrogates and bidirectional overrides', () => {
      expect(rejects(referenceSchema, 'a\u0000b')).to.include('U+0000 at index 1');
      expect(rejects(referenceSchema, 'line\nbreak')).to.include('U+000A');
      expect(rejects(referenceSchema, 'tab\t')).to.include('U+0009');
      expect(rejects(referenceSchema, 'del\u007f')).to.include('U+007F');
      expect(rejects(referenceSchema, 'c1\u0085')).to.include('U+0085');
      expect(rejects(referenceSchema, 'half \ud800 pair')).to.include('U+D800');
      expect(rejects(referenceSchema, 'invoice \u202Efdp.exe')).to.include('U+202E');
      expect(accepts(referenceSchema, 'emoji \u{1F600} ok')).to.equal('emoji \u{1F600} ok');
    });

    it('refuses a value that is not a string', () => {
      rejects(referenceSchema, 42);
      rejects(referenceSchema, null);
    });
  });

  describe('descriptionSchema', () => {
    it('takes up to 500 characters, possibly none, NFC and trimmed', () => {
      expect(accepts(descriptionSchema, '')).to.equal('');
      expect(accepts(descriptionSchema, 'd'.repeat(500))).to.have.length(500);
      expect(rejects(descriptionSchema, 'd'.repeat(501))).to.include('at most 500');
      expect(accepts(descriptionSchema, ' Zu\u0308rich ')).to.equal('Z\u00fcrich');
    });

    it('refuses every control character, newlines included', () => {
      rejects(descriptionSchema, 'two\r\nlines');
      rejects(descriptionSchema, 'bell\u0007');
    });
  });

  describe('metadataSchema', () => {
    const keys = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`key_${i}`, 'v']));

    it('accepts a flat object of up to 50 string values', () => {
      expect(accepts(metadataSchema, {})).to.deep.equal({});
      expect(accepts(metadataSchema, { order_id: '6735', 'source.system': 'shop-1' })).to.deep.equal({
        order_id: '6735',
        'source.system': 'shop-1',
      });
      expect(Object.keys(accepts(metadataSchema, keys(50)) as object)).to.have.length(50);
    });

    it('refuses more than 50 keys', () => {
      expect(rejects(metadataSchema, keys(51))).to.include('at most 50 keys, got 51');
    });

    it('takes keys of 1 to 40 characters of [A-Za-z0-9_.-]', () => {
      accepts(metadataSchema, { ['k'.repeat(40)]: 'v' });
      rejects(metadataSchema, { ['k'.repeat(41)]: 'v' });
      rejects(metadataSchema, { '': 'v' });
      rejects(metadataSchema, { 'with space': 'v' });
      rejects(metadataSchema, { 'ключ': 'v' });
      rejects(metadataSchema, { 'a/b': 'v' });
    });

    it('takes string values of at most 500 characters', () => {
      accepts(metadataSchema, { k: 'v'.repeat(500) });
      expect(rejects(metadataSchema, { k: 'v'.repeat(501) })).to.include('at most 500');
      rejects(metadataSchema, { k: 5 });
      rejects(metadataSchema, { k: null });
      rejects(metadataSchema, { k: { nested: 'no' } });
      rejects(metadataSchema, { k: ['no'] });
      rejects(metadataSchema, { k: 'nul\u0000' });
    });

    it('refuses anything but an object', () => {
      rejects(metadataSchema, []);
      rejects(metadataSchema, 'k=v');
      rejects(metadataSchema, null);
    });

    it('refuses keys that reach the prototype, which the key pattern alone would admit', () => {
      const parsed: unknown = JSON.parse('{"__proto__":{"isAdmin":"yes"}}');
      expect(rejects(metadataSchema, parsed)).to.include('reserved');
      expect(rejects(metadataSchema, { constructor: 'x' })).to.include('reserved');
      expect(rejects(metadataSchema, { prototype: 'x' })).to.include('reserved');
    });
  });

  describe('idempotencyKeySchema', () => {
    it('accepts 1 to 255 printable ASCII characters', () => {
      accepts(idempotencyKeySchema, 'a');
      accepts(idempotencyKeySchema, '5f0c7a52-3d1b-4c1e-9f62-0c2f0d9a1b7e');
      accepts(idempotencyKeySchema, 'order 6735/attempt~1');
      accepts(idempotencyKeySchema, 'k'.repeat(255));
    });

    it('refuses empty, too long, non-ASCII, control characters and edge spaces', () => {
      for (const bad of ['', 'k'.repeat(256), 'clé', 'tab\tkey', 'new\nline', ' lead', 'trail ', '\u0000']) {
        rejects(idempotencyKeySchema, bad);
      }
      rejects(idempotencyKeySchema, 12345);
    });
  });
});

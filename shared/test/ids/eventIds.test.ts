import { expect } from 'chai';
import fc from 'fast-check';
import { v5 as uuidv5, validate, version } from 'uuid';
import {
  type EventIdGenerator,
  FOLIO_EVENT_ID_NAMESPACE,
  deterministicEventId,
  isEventId,
} from '../../src/ids/index.js';

describe('event ids', () => {
  it('has a fixed, valid namespace', () => {
    expect(FOLIO_EVENT_ID_NAMESPACE).to.equal('c4883a54-160a-4cbe-bf0e-cf069a8ade5c');
    expect(validate(FOLIO_EVENT_ID_NAMESPACE)).to.equal(true);
  });

  it('derives the same version 5 UUID from the same parts, every time', () => {
    const id = deterministicEventId('transfer', '1234567890', 'debited');
    expect(validate(id)).to.equal(true);
    expect(version(id)).to.equal(5);
    expect(deterministicEventId('transfer', '1234567890', 'debited')).to.equal(id);
  });

  it('pins the encoding, so ids survive code changes', () => {
    // Changing how parts are encoded would silently break idempotent retries of in-flight commands.
    // Expected value: SHA-1 over the namespace bytes and the UTF-8 of '["payment","42"]', computed apart.
    expect(deterministicEventId('payment', '42')).to.equal('582fad55-3b3c-5f5f-9776-819b35011f4a');
  });

  it('is the uuid v5 of the JSON array of the parts in the Folio namespace, for any parts and length', () => {
    const parts = fc.array(fc.string({ unit: 'binary', maxLength: 400 }), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(parts, (given) => deterministicEventId(...given) === uuidv5(JSON.stringify(given), FOLIO_EVENT_ID_NAMESPACE)),
      { numRuns: 300 },
    );
  });

  it('keeps part boundaries: ("a", "bc") differs from ("ab", "c") and from ("abc")', () => {
    const ids = [
      deterministicEventId('a', 'bc'),
      deterministicEventId('ab', 'c'),
      deterministicEventId('abc'),
      deterministicEventId('a', 'b', 'c'),
      deterministicEventId('a,bc'),
      deterministicEventId('a', '', 'bc'),
    ];
    expect(new Set(ids).size).to.equal(ids.length);
  });

  it('gives distinct ids for distinct part lists', () => {
    const parts = fc.array(fc.string({ unit: 'binary' }), { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(parts, parts, (a, b) => {
        const same = a.length === b.length && a.every((part, i) => part === b[i]);
        return (deterministicEventId(...a) === deterministicEventId(...b)) === same;
      }),
      { numRuns: 500 },
    );
  });

  it('distinguishes parts that differ only in a lone surrogate', () => {
    expect(deterministicEventId('\ud800')).to.not.equal(deterministicEventId('\udc00'));
  });

  it('needs at least one part', () => {
    expect(() => deterministicEventId()).to.throw(RangeError, /at least one part/);
  });

  it('recognises UUIDs', () => {
    const generate: EventIdGenerator = () => deterministicEventId('fixed');
    expect(isEventId(generate())).to.equal(true);
    expect(isEventId('not-a-uuid')).to.equal(false);
    expect(isEventId(42)).to.equal(false);
  });
});

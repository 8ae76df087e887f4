/**
 * Event ids are UUIDs. Where a retried command must not append its events twice, the ids are
 * derived from the command (uuid v5), so the store recognises the retry as the same append.
 * Random ids are not made here: whoever needs one injects an `EventIdGenerator`, keeping domain
 * code deterministic under test.
 */
import { hash } from 'node:crypto';
import { parse as parseUuid, validate } from 'uuid';

/**
 * Folio's uuid v5 namespace, generated once at random and fixed forever: changing it would give
 * every retried command new event ids and so break idempotent appends of commands in flight.
 */
export const FOLIO_EVENT_ID_NAMESPACE = 'c4883a54-160a-4cbe-bf0e-cf069a8ade5c';

/**
 * uuid v5 (RFC 9562 §5.5): SHA-1 of the namespace's 16 bytes then the name's UTF-8. The
 * namespace is parsed once and the buffer reused, since every appended event needs an id.
 */
const NAMESPACE_BYTES = 16;
let scratch = Buffer.alloc(512);
scratch.set(parseUuid(FOLIO_EVENT_ID_NAMESPACE));

const uuidV5 = (name: string): string => {
  const needed = NAMESPACE_BYTES + Buffer.byteLength(name, 'utf8');
  if (needed > scratch.length) {
    const larger = Buffer.alloc(needed * 2);
    scratch.copy(larger, 0, 0, NAMESPACE_BYTES);
    scratch = larger;
  }
  scratch.write(name, NAMESPACE_BYTES, 'utf8');
  const digest = hash('sha1', scratch.subarray(0, needed), 'hex');
  // The version (5) replaces the high nibble of byte 6; the variant (binary 10) the top bits of byte 8.
  const variant = ((parseInt(digest[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${digest.slice(0, 8)}-${digest.slice(8, 12)}-5${digest.slice(13, 16)}-${variant}${digest.slice(17, 20)}-${digest.slice(20, 32)}`;
};

/** Produces a fresh event id (a UUID) on each call. */
export type EventIdGenerator = () => string;

/**
 * The same parts always give the same UUID, and different part lists give different ones:
 * the parts are encoded as a JSON array, which keeps boundaries (`('a', 'bc')` differs from
 * `('ab', 'c')`) and escapes lone surrogates that UTF-8 encoding would otherwise merge.
 */
export const deterministicEventId = (...parts: string[]): string => {
  if (parts.length === 0) {
    throw new RangeError('deterministicEventId needs at least one part');
  }
  for (const part of parts) {
    if (typeof part !== 'string') {
      throw new TypeError(`deterministicEventId parts must be strings, got ${typeof part}`);
    }
  }
  return uuidV5(JSON.stringify(parts));
};

/** Whether `value` is a UUID in its canonical text form, as the event store requires. */
export const isEventId = (value: unknown): value is string => typeof value === 'string' && validate(value);

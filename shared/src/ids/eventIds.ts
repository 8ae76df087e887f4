/**
 * Event ids are UUIDs. Where a retried command must not append its events twice, the ids are
 * derived from the command (uuid v5), so the store recognises the retry as the same append.
 * Random ids are not made here: whoever needs one injects an `EventIdGenerator`, keeping domain
 * code deterministic under test.
 */
import { v5 as uuidv5, validate } from 'uuid';

/**
 * Folio's uuid v5 namespace, generated once at random and fixed forever: changing it would give
 * every retried command new event ids and so break idempotent appends of commands in flight.
 */
export const FOLIO_EVENT_ID_NAMESPACE = 'c4883a54-160a-4cbe-bf0e-cf069a8ade5c';

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
  return uuidv5(JSON.stringify(parts), FOLIO_EVENT_ID_NAMESPACE);
};

/** Whether `value` is a UUID in its canonical text form, as the event store requires. */
export const isEventId = (value: unknown): value is string => typeof value === 'string' && validate(value);

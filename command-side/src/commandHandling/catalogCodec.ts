import { InvalidRecordedEventError, type AnyEventCatalog, type RecordedEvent } from '@folio/shared';
import type { DecidedEvent, EventCodec } from './commandHandler.js';

/**
 * The part of a catalog one aggregate speaks: encodes its events and decodes its stream, and
 * refuses an event of another aggregate found in the stream (a bug, never to be folded silently).
 * What it encodes a decider made from a validated command, so it takes the catalog's trusted
 * path; what it decodes comes from the store and is validated in full.
 */
export const catalogCodec = <Event extends DecidedEvent>(
  catalog: AnyEventCatalog,
  types: readonly Event['type'][],
): EventCodec<Event> => {
  const accepted = new Set<string>(types);
  return {
    encode: (envelope) => catalog.encodeTrusted(envelope as Parameters<AnyEventCatalog['encodeTrusted']>[0]),
    decode: (recorded: RecordedEvent) => {
      if (!accepted.has(recorded.type)) {
        throw new InvalidRecordedEventError(
          recorded.id,
          recorded.type,
          undefined,
          `does not belong in ${recorded.streamName} (expected one of ${types.join(', ')})`,
        );
      }
      return catalog.decode(recorded) as unknown as Event & { metadata: object };
    },
    definitionOf: (type) => catalog.definitionOf(type),
  };
};

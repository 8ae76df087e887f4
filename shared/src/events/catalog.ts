/**
 * The catalog of every event type a part of Folio reads or writes. Its type carries the
 * definitions, so `CatalogEvent<typeof catalog>` is a union discriminated by `type`, and a
 * `switch (event.type)` narrows `event.data` to that event's schema.
 */
import type { EventToAppend, RecordedEvent } from '../eventStore/eventStore.js';
import { fromRecordedEvent, toEventToAppend, toTrustedEventToAppend, type EventOf } from './envelope.js';
import { EventDefinitionError, InvalidEventError } from './errors.js';
import type { AnyEventDefinition } from './eventDefinition.js';

export interface EventCatalog<Definitions extends readonly AnyEventDefinition[]> {
  readonly definitions: Definitions;
  readonly types: readonly Definitions[number]['type'][];
  definitionOf(type: string): Definitions[number] | undefined;
  /** Validates and encodes a current-version event for `EventStore.appendToStream`. */
  encode(event: EventOf<Definitions[number]>): EventToAppend;
  /**
   * `encode` for an event this process built from validated input (a decider's, a process's):
   * no zod pass over its data (see `toTrustedEventToAppend`). Never for data from outside.
   */
  encodeTrusted(event: EventOf<Definitions[number]>): EventToAppend;
  /** Decodes (upcasting if needed) and validates a recorded event. */
  decode(recorded: RecordedEvent): EventOf<Definitions[number]>;
}

export type AnyEventCatalog = EventCatalog<readonly AnyEventDefinition[]>;

/** The union of the domain events of a catalog. */
export type CatalogEvent<C extends AnyEventCatalog> = C extends EventCatalog<infer Definitions>
  ? EventOf<Definitions[number]>
  : never;

/** The event types of a catalog, as a union of string literals. */
export type CatalogEventType<C extends AnyEventCatalog> = CatalogEvent<C>['type'];

/** One event of a catalog, by type. */
export type CatalogEventOfType<C extends AnyEventCatalog, Type extends CatalogEventType<C>> = Extract<
  CatalogEvent<C>,
  { type: Type }
>;

export const createEventCatalog = <const Definitions extends readonly AnyEventDefinition[]>(
  definitions: Definitions,
): EventCatalog<Definitions> => {
  const byType = new Map<string, Definitions[number]>();
  for (const definition of definitions) {
    if (byType.has(definition.type)) {
      throw new EventDefinitionError(`event type ${definition.type} is defined twice in the catalog`);
    }
    byType.set(definition.type, definition);
  }
  const definitionFor = (type: string): Definitions[number] => {
    const definition = byType.get(type);
    if (definition === undefined) throw new InvalidEventError(type, 'the type is not in the event catalog');
    return definition;
  };
  const catalog: EventCatalog<Definitions> = {
    definitions,
    types: [...byType.keys()],
    definitionOf: (type) => byType.get(type),
    encode: (event) => toEventToAppend(event, definitionFor(event.type)),
    encodeTrusted: (event) => toTrustedEventToAppend(event, definitionFor(event.type)),
    decode: (recorded) => fromRecordedEvent(recorded, catalog),
  };
  return Object.freeze(catalog);
};

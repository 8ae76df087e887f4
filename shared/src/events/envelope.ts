/**
 * The envelope every domain event travels in, and how it maps onto the event store.
 *
 * In the store, `EventToAppend.data` is the event's data encoded to JSON (bigints as decimal
 * strings) and `EventToAppend.metadata` is
 * `{ $correlationId, $causationId?, actor, occurredAt, commandId?, commandDigest?, schemaVersion, ...extra }`:
 * the store's own correlation keys, who did it, the business time, the command that decided the
 * event and a digest of what that command asked (so a retry is told from another command reusing
 * its id), and the version of the data's schema (so old events can be upcast). Extra metadata keys
 * may not start with `$` (the store reserves them) nor be `schemaVersion`.
 */
import { z } from 'zod';
import type { EventToAppend, JsonObject, JsonValue, RecordedEvent } from '../eventStore/eventStore.js';
import { isEventId } from '../ids/eventIds.js';
import type { AnyEventCatalog, CatalogEvent } from './catalog.js';
import {
  type EventIssue,
  InvalidEventError,
  InvalidRecordedEventError,
  UnknownEventTypeError,
  UnsupportedEventVersionError,
} from './errors.js';
import {
  type AnyEventDefinition,
  type EventDataOf,
  decodeEventData,
  encodeEventData,
  encodeTrustedEventData,
  issuesOf,
  toJson,
} from './eventDefinition.js';

export interface EventMetadata {
  /** The request or process this event belongs to; shared by everything it caused. */
  readonly $correlationId: string;
  /** The id of the command or event that directly caused this one. */
  readonly $causationId?: string;
  /** Who did it (a user, a service, a provider callback). */
  readonly actor: string;
  /** Business time, ISO-8601 in UTC (`2024-05-01T12:00:00.000Z`); the store keeps its own commit time. */
  readonly occurredAt: string;
  /** The command that decided the event; a command retried keeps its id. */
  readonly commandId?: string;
  /**
   * Lowercase hex SHA-256 of what the command asked (see the command handler): a command reusing
   * a recorded command id is a retry only when its digest is the same. Absent on events written
   * before digests were recorded.
   */
  readonly commandDigest?: string;
  readonly [extra: string]: JsonValue | undefined;
}

export interface EventEnvelope<Type extends string = string, Data = unknown> {
  /** A UUID; deterministic (uuid v5) where a retried command must not duplicate the event. */
  readonly id: string;
  readonly type: Type;
  /** Schema version of `data`; decoded events are always at their definition's current version. */
  readonly version: number;
  readonly data: Data;
  readonly metadata: EventMetadata;
}

/** The envelope of a definition's events; distributes over a union of definitions. */
export type EventOf<D> = D extends AnyEventDefinition ? EventEnvelope<D['type'], EventDataOf<D>> : never;

/** Store metadata key holding the schema version of the event's data. */
export const SCHEMA_VERSION_KEY = 'schemaVersion';

const nonEmpty = z.string().min(1, { error: 'must not be empty' });

const COMMAND_DIGEST = /^[0-9a-f]{64}$/;

const metadataSchema = z.object({
  $correlationId: nonEmpty,
  $causationId: nonEmpty.optional(),
  actor: nonEmpty,
  occurredAt: z.iso.datetime({ error: 'expected an ISO-8601 UTC timestamp such as 2024-01-01T00:00:00.000Z' }),
  commandId: nonEmpty.optional(),
  commandDigest: z.string().regex(COMMAND_DIGEST, { error: 'expected a lowercase hex SHA-256 digest' }).optional(),
});

const storedMetadataSchema = metadataSchema.extend({
  [SCHEMA_VERSION_KEY]: z.number().int().positive(),
});

const ENVELOPE_KEYS: ReadonlySet<string> = new Set(Object.keys(metadataSchema.shape));
const STORED_KEYS: ReadonlySet<string> = new Set(Object.keys(storedMetadataSchema.shape));

/** Builds an envelope at the definition's current type and version. */
export const createEnvelope = <D extends AnyEventDefinition>(
  definition: D,
  fields: { id: string; data: EventDataOf<D>; metadata: EventMetadata },
): EventOf<D> =>
  ({
    id: fields.id,
    type: definition.type,
    version: definition.version,
    data: fields.data,
    metadata: fields.metadata,
  }) as EventOf<D>;

/** Validates an envelope against its definition and maps it to what the store appends. */
export const toEventToAppend = <D extends AnyEventDefinition>(envelope: EventOf<D>, definition: D): EventToAppend => {
  const { type } = definition;
  checkTypeAndVersion(envelope, definition);
  if (!isEventId(envelope.id)) {
    throw new InvalidEventError(type, `event id ${JSON.stringify(envelope.id)} is not a UUID`, [
      { path: 'id', message: 'expected a UUID' },
    ]);
  }
  const known = metadataSchema.safeParse(envelope.metadata);
  if (!known.success) {
    throw new InvalidEventError(type, 'metadata is invalid', issuesOf(known.error, 'metadata'));
  }
  const metadata = storedMetadata(definition, envelope.metadata, known.data);
  const data = encodeEventData(definition, envelope.data as EventDataOf<D>);
  return { id: envelope.id, type, data, metadata };
};

/**
 * `toEventToAppend` for an envelope this process built itself from input validated at its
 * boundary (what deciders and processes emit, with ids it derived and the clock's time): the data
 * skips its zod pass (see `encodeTrustedEventData`) and the metadata is checked for presence
 * only. Events whose data came from outside go through `toEventToAppend`.
 */
export const toTrustedEventToAppend = (envelope: EventEnvelope, definition: AnyEventDefinition): EventToAppend => {
  checkTypeAndVersion(envelope, definition);
  const { metadata } = envelope;
  if (
    !isNonEmptyString(metadata.$correlationId) ||
    !isNonEmptyString(metadata.actor) ||
    !isNonEmptyString(metadata.occurredAt) ||
    (metadata.$causationId !== undefined && !isNonEmptyString(metadata.$causationId)) ||
    (metadata.commandId !== undefined && !isNonEmptyString(metadata.commandId)) ||
    (metadata.commandDigest !== undefined && !(typeof metadata.commandDigest === 'string' && COMMAND_DIGEST.test(metadata.commandDigest)))
  ) {
    throw new InvalidEventError(
      definition.type,
      'metadata is invalid: $correlationId, actor, occurredAt (and $causationId and commandId when given) must be ' +
        'non-empty strings, and commandDigest when given a lowercase hex SHA-256 digest',
    );
  }
  const stored = storedMetadata(definition, metadata, metadata);
  const data = encodeTrustedEventData(definition, envelope.data);
  return { id: envelope.id, type: definition.type, data, metadata: stored };
};

const isNonEmptyString = (value: unknown): boolean => typeof value === 'string' && value !== '';

const checkTypeAndVersion = (envelope: EventEnvelope, { type, version }: AnyEventDefinition): void => {
  if (envelope.type !== type || envelope.version !== version) {
    throw new InvalidEventError(
      type,
      `the envelope is ${envelope.type} v${envelope.version} but its definition is ${type} v${version}`,
    );
  }
};

/** The store's metadata: the extra keys, then the envelope's own, then the schema version. */
const storedMetadata = (
  definition: AnyEventDefinition,
  metadata: EventMetadata,
  known: Pick<EventMetadata, '$correlationId' | '$causationId' | 'actor' | 'occurredAt' | 'commandId' | 'commandDigest'>,
): JsonObject => {
  const stored = encodeExtraMetadata(definition.type, metadata);
  stored.$correlationId = known.$correlationId;
  if (known.$causationId !== undefined) stored.$causationId = known.$causationId;
  stored.actor = known.actor;
  stored.occurredAt = known.occurredAt;
  if (known.commandId !== undefined) stored.commandId = known.commandId;
  if (known.commandDigest !== undefined) stored.commandDigest = known.commandDigest;
  stored[SCHEMA_VERSION_KEY] = definition.version;
  return stored;
};

const encodeExtraMetadata = (type: string, metadata: EventMetadata): JsonObject => {
  const issues: EventIssue[] = [];
  const extra: JsonObject = {};
  for (const key in metadata) {
    const value = metadata[key];
    if (ENVELOPE_KEYS.has(key) || value === undefined) continue;
    const path = `metadata.${key}`;
    if (key === SCHEMA_VERSION_KEY) {
      issues.push({ path, message: 'is reserved: the schema version comes from the event definition' });
      continue;
    }
    if (key.startsWith('$')) {
      issues.push({ path, message: 'keys starting with "$" are reserved by the event store' });
      continue;
    }
    if (typeof value === 'string') {
      extra[key] = value;
      continue;
    }
    const json = toJson(value, path);
    if (json.ok) extra[key] = json.value;
    else issues.push(json.issue);
  }
  if (issues.length > 0) throw new InvalidEventError(type, 'metadata is invalid', issues);
  return extra;
};

/**
 * Turns a recorded event into a typed domain event of the catalog: finds its definition, reads
 * the envelope from the metadata, upcasts old data to the current version and validates it.
 */
export const fromRecordedEvent = <C extends AnyEventCatalog>(recorded: RecordedEvent, catalog: C): CatalogEvent<C> => {
  const definition = catalog.definitionOf(recorded.type);
  if (definition === undefined) throw new UnknownEventTypeError(recorded.id, recorded.type);
  if (recorded.metadata === undefined) {
    throw new InvalidRecordedEventError(recorded.id, recorded.type, undefined, 'has no metadata');
  }
  const stored = storedMetadataSchema.safeParse(recorded.metadata);
  if (!stored.success) {
    throw new InvalidRecordedEventError(
      recorded.id,
      recorded.type,
      undefined,
      'has invalid metadata',
      issuesOf(stored.error, 'metadata'),
    );
  }
  const { $correlationId, $causationId, actor, occurredAt, commandId, commandDigest, schemaVersion } = stored.data;
  if (schemaVersion > definition.version) {
    throw new UnsupportedEventVersionError(recorded.id, recorded.type, schemaVersion, definition.version);
  }
  const data = decodeEventData(definition, schemaVersion, recorded.data, {
    eventId: recorded.id,
    eventType: recorded.type,
    metadata: recorded.metadata,
  });
  // Built key by key: most events carry no extra key, and this runs for every event a reader decodes.
  const metadata: Record<string, unknown> = {};
  for (const key in recorded.metadata) {
    if (!STORED_KEYS.has(key) && Object.hasOwn(recorded.metadata, key)) metadata[key] = recorded.metadata[key];
  }
  metadata.$correlationId = $correlationId;
  if ($causationId !== undefined) metadata.$causationId = $causationId;
  metadata.actor = actor;
  metadata.occurredAt = occurredAt;
  if (commandId !== undefined) metadata.commandId = commandId;
  if (commandDigest !== undefined) metadata.commandDigest = commandDigest;
  return { id: recorded.id, type: definition.type, version: definition.version, data, metadata: metadata as EventMetadata } as CatalogEvent<C>;
};

/**
 * The event store port: the narrow interface every part of Folio uses to write and read its
 * event log. Two adapters implement it (embedded SQLite, EventStoreDB) and both must pass the
 * same contract suite (`describeEventStoreContract` in `@folio/shared/testing`).
 *
 * Semantics follow EventStoreDB, so that code written against the embedded store behaves the
 * same in production:
 * - stream revisions are 0-based, contiguous `bigint`s, never reused;
 * - every event has a global position (`bigint`) that strictly increases in commit order across
 *   all streams; positions are NOT contiguous, so never compute "the next position" as `+1`;
 * - an append is atomic: all events of the call or none;
 * - event data and metadata travel as JSON: what is read back is what `JSON.parse` gives
 *   (a `Date` comes back as an ISO string, a `bigint` cannot be appended at all).
 */

/** A JSON value as it survives a round trip through the store. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Position of an event in the global log (`$all`). Strictly increasing, with gaps. */
export type GlobalPosition = bigint;

/**
 * What the writer expects the stream to look like before its append:
 * - `'any'`: no check (the store may still deduplicate a batch equal to the latest append);
 * - `'no_stream'`: the stream has no events (or was soft-deleted);
 * - `'stream_exists'`: the stream has at least one event;
 * - `n` (`bigint >= 0`): the stream's last revision is exactly `n`.
 */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | bigint;

/** The revision a stream is found at when an expectation fails. */
export type ActualRevision = 'no_stream' | bigint;

export interface EventToAppend {
  /** A UUID. Deterministic ids (uuid v5 of the command) make retried appends idempotent. */
  id: string;
  /** The event type. Types starting with `$` are system events. */
  type: string;
  data: JsonObject;
  /** Free JSON; keys starting with `$` are reserved (`$correlationId`, `$causationId`). */
  metadata?: JsonObject;
}

export interface RecordedEvent {
  streamName: string;
  id: string;
  type: string;
  revision: bigint;
  position: GlobalPosition;
  /** When the store committed the event ("recorded at"); business time lives in the data. */
  created: Date;
  data: JsonObject;
  /** `undefined` when the event was appended without metadata. */
  metadata: JsonObject | undefined;
}

export interface AppendOptions {
  expectedRevision?: ExpectedRevision;
}

export interface AppendResult {
  /** Revision of the last event of this append (pass it as the next expected revision). */
  nextExpectedRevision: bigint;
  /** Global position of the last event of this append. */
  position: GlobalPosition;
  /**
   * True when this append stored these very events; false when the store answered it as a repeat
   * of an earlier append of the same ids (whose events may differ in anything but their ids).
   * Absent where the store cannot tell: EventStoreDB answers a repeat as it answered the original.
   */
  written?: boolean;
}

export type Direction = 'forwards' | 'backwards';

export interface ReadStreamOptions {
  /** Inclusive in both directions. Default: `'start'` forwards, `'end'` backwards. */
  fromRevision?: 'start' | 'end' | bigint;
  direction?: Direction;
  /** Maximum number of events returned. Default: all. */
  maxCount?: number;
}

export interface ReadAllOptions {
  /** Inclusive in both directions. Default: `'start'` forwards, `'end'` backwards. */
  fromPosition?: 'start' | 'end' | GlobalPosition;
  direction?: Direction;
  maxCount?: number;
  filter?: EventFilter;
}

/**
 * Which events of `$all` a reader wants. Criteria combine with AND. System events (type starting
 * with `$`) are delivered unless `excludeSystemEvents` is set.
 */
export interface EventFilter {
  excludeSystemEvents?: boolean;
  streamNamePrefixes?: readonly string[];
  eventTypePrefixes?: readonly string[];
}

export interface SubscribeToAllOptions {
  /**
   * Exclusive: delivery starts with the first event after this position. `'start'` replays the
   * whole log; `'end'` delivers only events committed after the subscription started.
   */
  fromPosition?: 'start' | 'end' | GlobalPosition;
  filter?: EventFilter;
  /**
   * With a filter: a `checkpoint` message is delivered at least every this many scanned events
   * (filtered-out ones included), so a consumer can advance its checkpoint past long runs of
   * events it does not want. Default 32.
   */
  checkpointInterval?: number;
}

/**
 * What a subscription yields, in order. Events come in strictly increasing position order,
 * each exactly once, with no gap or duplicate across the catch-up to live switch.
 */
export type SubscriptionMessage =
  | { kind: 'event'; event: RecordedEvent }
  /** The subscription has delivered everything committed so far and is now live. */
  | { kind: 'caughtUp'; position: GlobalPosition | undefined }
  /** A live subscription is lagging and catching up again. */
  | { kind: 'fellBehind' }
  /** Every event up to `position` that matches the filter has been delivered. Monotonic. */
  | { kind: 'checkpoint'; position: GlobalPosition };

/**
 * A catch-up subscription to `$all`, consumed by iterating it (never with concurrent handlers).
 * Iteration ends when `unsubscribe()` is called; it throws `SubscriptionDroppedError` when the
 * store drops the subscription, after which the consumer resubscribes from its checkpoint.
 */
export interface Subscription extends AsyncIterable<SubscriptionMessage> {
  /**
   * The same messages in runs: as many as the adapter has at hand at once (the embedded store:
   * what one read of the log found), never an empty run. A consumer that handles thousands of
   * events a second then pays the asynchronous hand-over once a run instead of once a message.
   * A subscription is read one way or the other, never both.
   */
  runs(): AsyncIterableIterator<readonly SubscriptionMessage[]>;
  unsubscribe(): Promise<void>;
}

/** Runs of one message each, for an adapter whose source hands messages over one at a time. */
export async function* runsOfOne(messages: AsyncIterator<SubscriptionMessage>): AsyncGenerator<readonly SubscriptionMessage[]> {
  for await (const message of { [Symbol.asyncIterator]: () => messages }) yield [message];
}

export interface StreamMetadata {
  /** Keep only the last `maxCount` events visible. */
  maxCount?: number;
  /** Hide events older than this many seconds. */
  maxAge?: number;
  /** Hide events with a revision below this one. */
  truncateBefore?: bigint;
  /** Custom keys; must not start with `$`. */
  custom?: JsonObject;
}

export interface StreamMetadataResult {
  streamName: string;
  metadata: StreamMetadata;
  /** Revision of the metadata stream; `'no_stream'` when no metadata was ever set. */
  metastreamRevision: ActualRevision;
}

export interface EventStore {
  /** Which adapter this is, for health reporting (`'sqlite'`, `'eventstoredb'`). */
  readonly kind: string;

  /**
   * Appends `events` atomically. Throws `WrongExpectedRevisionError` when the expectation
   * fails, unless the same event ids were already appended right after the expected revision,
   * in which case the original result is returned and nothing is written.
   * Throws `StreamDeletedError` on a tombstoned stream, `InvalidArgumentError` on bad input
   * (empty batch, invalid UUID, negative revision, non-JSON data).
   */
  appendToStream(
    streamName: string,
    events: readonly EventToAppend[],
    options?: AppendOptions,
  ): Promise<AppendResult>;

  /**
   * Reads a stream. Throws (while iterating) `StreamNotFoundError` for a missing or
   * soft-deleted stream and `StreamDeletedError` for a tombstoned one. A revision past the end
   * gives no events.
   */
  readStream(streamName: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;

  /** Reads the global log, including system events unless filtered out. */
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;

  subscribeToAll(options?: SubscribeToAllOptions): Subscription;

  /** Appends a `$metadata` event to the metadata stream `$$<streamName>`. */
  setStreamMetadata(
    streamName: string,
    metadata: StreamMetadata,
    options?: AppendOptions,
  ): Promise<AppendResult>;

  getStreamMetadata(streamName: string): Promise<StreamMetadataResult>;

  /** Soft delete: reads then fail with `StreamNotFoundError`; a later append recreates it. */
  deleteStream(streamName: string, options?: AppendOptions): Promise<void>;

  /** Hard delete: reads and appends fail with `StreamDeletedError` forever. */
  tombstoneStream(streamName: string, options?: AppendOptions): Promise<void>;

  /** Global position of the last committed event, or `undefined` when the log is empty. */
  headPosition(): Promise<GlobalPosition | undefined>;

  close(): Promise<void>;
}

/**
 * Whether one process alone writes through this store: the embedded store, which the write API
 * opens under a sole-writer lock; EventStoreDB takes as many writing processes as are deployed.
 * A sole writer may trust its own caches for what it appended (system accounts' postings skip the
 * revision check), run each movement once at a time, and take an earlier run's open work for a crash's.
 */
export const hasSoleWriter = (store: EventStore): boolean => store.kind === 'sqlite';

/** `$`-prefixed stream names belong to the store itself. */
export const isSystemStream = (streamName: string): boolean => streamName.startsWith('$');

/** `$`-prefixed event types are system events (`$metadata`, `$streamDeleted`, …). */
export const isSystemEventType = (type: string): boolean => type.startsWith('$');

export const metadataStreamOf = (streamName: string): string => `$$${streamName}`;

export const matchesFilter = (filter: EventFilter | undefined, event: RecordedEvent): boolean =>
  filterAdmits(filter, event.streamName, event.type);

/** `matchesFilter` on the two fields a filter reads, so a store can test a row before decoding it. */
export const filterAdmits = (filter: EventFilter | undefined, streamName: string, type: string): boolean => {
  if (filter === undefined) return true;
  if (filter.excludeSystemEvents && isSystemEventType(type)) return false;
  if (filter.streamNamePrefixes && !filter.streamNamePrefixes.some((p) => streamName.startsWith(p))) return false;
  if (filter.eventTypePrefixes && !filter.eventTypePrefixes.some((p) => type.startsWith(p))) return false;
  return true;
};

/** Collects an async iterable (a stream read) into an array. */
export const collect = async <T>(iterable: AsyncIterable<T>): Promise<T[]> => {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
};

import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  eventTypeFilter,
  excludeSystemEvents,
  jsonEvent,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type AppendExpectedRevision,
  type AppendResult as ClientAppendResult,
  type Direction as ClientDirection,
  type EventData,
  type Filter,
  type Position,
  type ReadPosition,
  type ReadRevision,
} from '@eventstore/db-client';
import {
  InvalidArgumentError,
  StoreUnavailableError,
  StreamDeletedError,
  StreamNotFoundError,
  WrongExpectedRevisionError,
} from '../errors.js';
import {
  collect,
  matchesFilter,
  metadataStreamOf,
  runsOfOne,
  type ActualRevision,
  type AppendOptions,
  type AppendResult,
  type Direction,
  type EventFilter,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type GlobalPosition,
  type JsonObject,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type SubscribeToAllOptions,
  type Subscription,
  type SubscriptionMessage,
} from '../eventStore.js';
import {
  isJsonObject,
  requireCheckpointInterval,
  requireExpectedRevision,
  requireInRange,
  requireRevision,
  requireMaxCount,
  requireStreamName,
  serializeEvents,
} from '../argumentChecks.js';
import { fromStoredMetadata, toStoredMetadata } from '../storedStreamMetadata.js';
import { failedBeforeSending, isResetStream, toPortError, withCause, type ErrorContext } from './errorMapping.js';
import {
  createResubscribingSubscription,
  type ResubscribeOptions,
  type SubscriptionStart,
  type UnderlyingSubscription,
} from './resubscribingSubscription.js';

/**
 * Bounds on waiting for a server that stops answering without closing the connection (a stalled
 * leader still answers the gRPC keepalive, so the connection never drops). The client puts no
 * deadline on reads, subscriptions or batched appends. Each bound ends in `StoreUnavailableError`.
 */
export interface EventStoreDBTimeouts {
  /**
   * A read fails when the server sends nothing for this long while the reader waits for it. Not
   * a bound on the whole read: a long read that keeps streaming, or a slow reader, is never cut.
   * Default 10 s.
   */
  readIdleMs?: number;
  /** Appends, deletes and tombstones fail after this long; the write may still have happened. Default 10 s. */
  writeMs?: number;
  /**
   * A subscription that hears nothing for this long while waiting probes the server with a read,
   * and resubscribes from its checkpoint when the server does not answer the probe or, while
   * catching up, has events it did not send. A live subscription on a quiet log just waits.
   * Default 30 s.
   */
  subscriptionIdleMs?: number;
}

export type EventStoreDBEventStoreOptions = (
  | { connectionString: string }
  /** A client the caller keeps: `close()` leaves it open. */
  | { client: EventStoreDBClient }
) & {
  /** How subscriptions reconnect after a transient drop. */
  resubscribe?: ResubscribeOptions;
  timeouts?: EventStoreDBTimeouts;
};

/** The server keeps positions as signed 64-bit; anything larger is its -1 "no position", wrapped to unsigned. */
const MAX_LOG_POSITION = 2n ** 63n - 1n;
/**
 * The `$tb` EventStoreDB writes to soft-delete a stream (its long.MaxValue); a JSON number reads
 * it back rounded up to 2^63.
 */
const SOFT_DELETED_TRUNCATE_BEFORE = 2n ** 63n - 1n;
const DEFAULT_CHECKPOINT_INTERVAL = 32;
/** The events the server scans per filtered page when not told otherwise; checkpoints come every interval × window. */
const SERVER_SEARCH_WINDOW = 32;
const DELETE_ATTEMPTS = 10;
const DEFAULT_READ_IDLE_MS = 10_000;
const DEFAULT_WRITE_MS = 10_000;
const DEFAULT_SUBSCRIPTION_IDLE_MS = 30_000;

const requireTimeout = (value: number | undefined, fallback: number, name: string): number => {
  const ms = value ?? fallback;
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new InvalidArgumentError(`${name} must be a positive integer, got ${ms}`);
  return ms;
};

const STALLED = Symbol('stalled');

/** `STALLED` when `promise` has not settled within `ms`; a later rejection of it is handled here. */
const within = <T>(promise: Promise<T>, ms: number): Promise<T | typeof STALLED> => {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<typeof STALLED>((resolve) => {
    timer = setTimeout(() => resolve(STALLED), ms);
  });
  return Promise.race([promise, stalled]).finally(() => clearTimeout(timer));
};

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The fields of the client's recorded event the port needs, typed loosely so they can be checked. */
interface ClientRecordedEvent {
  streamId: string;
  id: string;
  type: string;
  revision: unknown;
  created: unknown;
  data: unknown;
  metadata: unknown;
  isJson: boolean;
  position?: { commit: unknown };
}

interface ClientResolvedEvent {
  event?: ClientRecordedEvent;
  commitPosition?: unknown;
}

type ClientRead = AsyncIterable<ClientResolvedEvent> & { cancel(): Promise<void> };

/** The client appends go through, and what tells whether it is stuck. */
interface AppendingClient {
  readonly client: EventStoreDBClient;
  /** How many of its appends it has answered or failed. */
  answered: number;
  /** Replaced after it answered nothing for the write timeout: closing it cut short its appends still waiting. */
  givenUp: boolean;
}

/** Some client versions return numbers (KurrentDB-Client-NodeJS#423, #513), which lose precision past 2^53. */
const requireBigInt = (value: unknown, what: string): bigint => {
  if (typeof value !== 'bigint') {
    throw new TypeError(`the EventStoreDB client returned ${what} as a ${typeof value}, not a bigint`);
  }
  return value;
};

const isLogPosition = (position: bigint): boolean => position >= 0n && position <= MAX_LOG_POSITION;

const toRecordedEvent = (recorded: ClientRecordedEvent, commitPosition: unknown): RecordedEvent => {
  const position = recorded.position?.commit ?? commitPosition;
  if (position === undefined) {
    throw new TypeError(`event ${recorded.id} of ${recorded.streamId} came without a log position (EventStoreDB 22.6+ sends one)`);
  }
  return {
    streamName: recorded.streamId,
    id: recorded.id,
    type: recorded.type,
    revision: requireBigInt(recorded.revision, `the revision of event ${recorded.id}`),
    position: requireBigInt(position, `the commit position of event ${recorded.id}`),
    created: recorded.created instanceof Date ? recorded.created : new Date(Number(recorded.created)),
    // Links and binary events written by others carry no JSON object.
    data: recorded.isJson && isJsonObject(recorded.data) ? recorded.data : {},
    metadata: isJsonObject(recorded.metadata) ? recorded.metadata : undefined,
  };
};

const toClientExpectedRevision = (expected: ExpectedRevision | undefined): AppendExpectedRevision => {
  const checked = requireExpectedRevision(expected);
  return checked === 'any' ? ANY : checked === 'no_stream' ? NO_STREAM : checked === 'stream_exists' ? STREAM_EXISTS : checked;
};

const toProposedEvents = (events: readonly EventToAppend[]): EventData[] =>
  serializeEvents(events).map((event) =>
    jsonEvent({
      id: event.id,
      type: event.type,
      data: JSON.parse(event.data) as JsonObject,
      metadata: event.metadata === null ? undefined : (JSON.parse(event.metadata) as JsonObject),
    }),
  );

const toClientDirection = (direction: Direction): ClientDirection => (direction === 'forwards' ? FORWARDS : BACKWARDS);

const toReadRevision = (from: 'start' | 'end' | bigint): ReadRevision =>
  from === 'start' ? START : from === 'end' ? END : requireRevision(from);

/** gRPC-written events have commit === prepare, so one number is a whole client position. */
const toReadPosition = (from: 'start' | 'end' | GlobalPosition): ReadPosition =>
  from === 'start' ? START : from === 'end' ? END : toClientPosition(from);

const toClientPosition = (position: GlobalPosition): Position => {
  requireInRange(position, 'position');
  return { commit: position, prepare: position };
};

/**
 * Where the server filters a subscription: it takes one filter, so with stream and type prefixes
 * both given it filters by stream, and the rest is applied here (`matchesFilter` runs on every
 * delivered event either way).
 */
const serverFilterFor = (
  filter: EventFilter | undefined,
  checkpointInterval: number,
  checkpointReached: (source: Readable, position: Position) => void,
): Filter | undefined => {
  const checkpointing =
    checkpointInterval >= SERVER_SEARCH_WINDOW
      ? { checkpointInterval: Math.floor(checkpointInterval / SERVER_SEARCH_WINDOW) }
      : { checkpointInterval: 1, maxSearchWindow: checkpointInterval };
  const options = { ...checkpointing, checkpointReached };
  if (filter?.streamNamePrefixes?.length) return streamNameFilter({ prefixes: [...filter.streamNamePrefixes], ...options });
  if (filter?.eventTypePrefixes?.length) return eventTypeFilter({ prefixes: [...filter.eventTypePrefixes], ...options });
  if (filter?.excludeSystemEvents) return excludeSystemEvents(options);
  return undefined;
};

/**
 * One client subscription as the port's ordered message sequence, read by pulling (`read()`),
 * never through `'data'` handlers. The client raises `caughtUp`, `fellBehind` and checkpoints
 * when a server message passes its transform, while events it transformed earlier may still wait
 * in its buffer; so each notice waits behind the events buffered when it was raised. (Iterating
 * with `for await` would hide the one event already pulled but not yet handed over.)
 */
const openClientSubscription = (
  client: EventStoreDBClient,
  from: SubscriptionStart,
  filter: EventFilter | undefined,
  checkpointInterval: number,
  idle: { ms: number; probeHead(): Promise<GlobalPosition | undefined> },
): UnderlyingSubscription => {
  const notices: { eventsAhead: number; message: SubscriptionMessage }[] = [];
  let failure: unknown;
  let ended = false;
  let closed = false;
  let lastDelivered: GlobalPosition | undefined;
  /** The latest position the server sent, delivered or filtered out here: how far catch-up got. */
  let lastSent: GlobalPosition | undefined = typeof from === 'bigint' ? from : undefined;
  /** Whether the server last said it was live, whatever the consumer has been handed yet. */
  let serverLive = false;
  let wake: (() => void) | undefined;
  const signal = (): void => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const sent = (position: GlobalPosition): void => {
    if (lastSent === undefined || position > lastSent) lastSent = position;
  };
  const notice = (source: Readable, message: SubscriptionMessage): void => {
    notices.push({ eventsAhead: source.readableLength, message });
    signal();
  };
  /** Waits for the server; false when it sent nothing for `idle.ms`. */
  const serverSends = (): Promise<boolean> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        wake = undefined;
        resolve(false);
      }, idle.ms);
      wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  const somethingArrived = (): boolean =>
    subscription.readableLength > 0 || notices.length > 0 || failure !== undefined || ended || closed;
  /**
   * Tells a quiet log from a stalled server: the server must answer a read, and while catching up
   * it must have nothing more to send. A probe failing for a reason other than unavailability says
   * nothing about the subscription, which goes on waiting.
   */
  const checkNotStalled = async (): Promise<void> => {
    let head: GlobalPosition | undefined;
    try {
      head = await idle.probeHead();
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) return;
      throw new StoreUnavailableError(
        `EventStoreDB sent nothing to the subscription for ${idle.ms} ms and did not answer a read: ${messageOf(error)}`,
        { cause: error },
      );
    }
    if (serverLive || somethingArrived()) return;
    if (head !== undefined && (lastSent === undefined || head > lastSent)) {
      throw new StoreUnavailableError(
        `EventStoreDB sent nothing to the catching-up subscription for ${idle.ms} ms while the log goes on to ${head}`,
      );
    }
  };

  const subscription = client.subscribeToAll({
    fromPosition: toReadPosition(from),
    resolveLinkTos: false,
    filter: serverFilterFor(filter, checkpointInterval, (source, position) => {
      // Old servers send prepare = 0 (KurrentDB#2606) and broken ones a wrapped -1: only a real commit position counts.
      if (typeof position.commit === 'bigint' && position.commit > 0n && isLogPosition(position.commit)) {
        sent(position.commit);
        notice(source, { kind: 'checkpoint', position: position.commit });
      }
    }),
  });
  // Attached before anything can be emitted: an 'error' without a listener would crash the process.
  subscription.on('error', (error: Error) => {
    failure ??= error;
    signal();
  });
  subscription.on('caughtUp', () => {
    serverLive = true;
    notice(subscription, { kind: 'caughtUp', position: undefined });
  });
  subscription.on('fellBehind', () => {
    serverLive = false;
    notice(subscription, { kind: 'fellBehind' });
  });
  subscription.on('readable', signal);
  const onEnd = (): void => {
    ended = true;
    signal();
  };
  subscription.on('end', onEnd);
  subscription.on('close', onEnd);

  async function* messages(): AsyncGenerator<SubscriptionMessage> {
    try {
      while (!closed) {
        const due = notices[0];
        if (due !== undefined && due.eventsAhead <= 0) {
          notices.shift();
          yield due.message.kind === 'caughtUp' ? { kind: 'caughtUp', position: lastDelivered } : due.message;
          continue;
        }
        const resolved = subscription.read() as AllStreamResolvedEvent | null;
        if (resolved !== null) {
          for (const pending of notices) pending.eventsAhead -= 1;
          // Links whose target is gone arrive without an event.
          if (resolved.event === undefined) continue;
          const event = toRecordedEvent(resolved.event, resolved.commitPosition);
          sent(event.position);
          if (!matchesFilter(filter, event)) continue;
          lastDelivered = event.position;
          yield { kind: 'event', event };
          continue;
        }
        if (failure !== undefined) throw toPortError(failure);
        if (ended) throw new StoreUnavailableError('EventStoreDB ended the subscription');
        if (!(await serverSends()) && !somethingArrived()) await checkNotStalled();
      }
    } finally {
      closed = true;
      void subscription.unsubscribe().catch(() => undefined);
    }
  }

  return {
    [Symbol.asyncIterator]: messages,
    async unsubscribe() {
      closed = true;
      signal();
      await subscription.unsubscribe().catch(() => undefined);
    },
  };
};

/** The port's `EventStore` on an EventStoreDB (KurrentDB) server through `@eventstore/db-client`. */
export const createEventStoreDBEventStore = (options: EventStoreDBEventStoreOptions): EventStore => {
  const readIdleMs = requireTimeout(options.timeouts?.readIdleMs, DEFAULT_READ_IDLE_MS, 'readIdleMs');
  const writeMs = requireTimeout(options.timeouts?.writeMs, DEFAULT_WRITE_MS, 'writeMs');
  const subscriptionIdleMs = requireTimeout(
    options.timeouts?.subscriptionIdleMs,
    DEFAULT_SUBSCRIPTION_IDLE_MS,
    'subscriptionIdleMs',
  );
  const ownsClient = 'connectionString' in options;
  const client =
    'connectionString' in options ? EventStoreDBClient.connectionString(options.connectionString) : options.client;
  const openSubscriptions = new Set<Subscription>();
  let disposed = false;

  /**
   * The client checks the server's capabilities before its first append and keeps the answer for
   * its life, forgetting it only after an unavailable, cancelled or not-leader error: a check that
   * failed otherwise (a cluster discovery that found no node, an internal error) fails every later
   * append, and one never answered (it has no deadline) stalls them, while reads and subscriptions
   * go on. So an owned client's appends go through a client of their own, replaced when an append
   * failed before it was sent, or waited for the write timeout while the client answered nothing.
   */
  const openAppendingClient = (): AppendingClient => ({
    client: 'connectionString' in options ? EventStoreDBClient.connectionString(options.connectionString) : options.client,
    answered: 0,
    givenUp: false,
  });
  let appending = openAppendingClient();

  /**
   * Later appends go through a new client, and the stuck one is closed. Closing it cuts short its
   * calls still waiting, which only a stalled one has: one that failed before sending opened none.
   */
  const replaceAppendingClient = (stuck: AppendingClient, stalled: boolean): void => {
    if (!ownsClient || disposed || appending !== stuck) return;
    stuck.givenUp = stalled;
    appending = openAppendingClient();
    void stuck.client.dispose().catch(() => undefined);
  };

  /**
   * Maps the client's read to recorded events; stopping early cancels the server call, and so
   * does a server that sends nothing for `readIdleMs` while the reader waits.
   */
  async function* recordedEventsOf(open: () => ClientRead, context: ErrorContext): AsyncGenerator<RecordedEvent> {
    let read: ClientRead | undefined;
    let resolvedEvents: AsyncIterator<ClientResolvedEvent> | undefined;
    let completed = false;
    try {
      read = open();
      resolvedEvents = read[Symbol.asyncIterator]();
      for (;;) {
        const next = await within(resolvedEvents.next(), readIdleMs);
        if (next === STALLED) {
          throw new StoreUnavailableError(`EventStoreDB sent nothing for ${readIdleMs} ms: the read was abandoned`);
        }
        if (next.done === true) break;
        const resolved = next.value;
        if (resolved.event === undefined) continue;
        yield toRecordedEvent(resolved.event, resolved.commitPosition);
      }
      // Disposing the client cancels its reads, and the client ends a read it cancelled as if it
      // were complete: what was read is only a part.
      if (disposed) throw new StoreUnavailableError('the event store was closed: the read may be incomplete');
      completed = true;
    } catch (error) {
      throw toPortError(error, context);
    } finally {
      if (!completed) {
        void resolvedEvents?.return?.().catch(() => undefined);
        void read?.cancel().catch(() => undefined);
      }
    }
  }

  async function* readStream(streamName: string, readOptions: ReadStreamOptions = {}): AsyncGenerator<RecordedEvent> {
    requireStreamName(streamName);
    const direction = readOptions.direction ?? 'forwards';
    let remaining = requireMaxCount(readOptions.maxCount);
    const fromRevision = toReadRevision(readOptions.fromRevision ?? (direction === 'forwards' ? 'start' : 'end'));
    // Asks for at least one event: a read of none must still fail on a missing stream.
    const events = recordedEventsOf(
      () =>
        client.readStream(streamName, {
          fromRevision,
          direction: toClientDirection(direction),
          maxCount: Math.max(remaining, 1),
          resolveLinkTos: false,
        }),
      { streamName },
    );
    for await (const event of events) {
      if (remaining === 0) return;
      remaining -= 1;
      yield event;
    }
  }

  const readAllFromServer = (
    fromPosition: ReadPosition,
    direction: ClientDirection,
    maxCount: number | undefined,
  ): AsyncGenerator<RecordedEvent> =>
    recordedEventsOf(() => client.readAll({ fromPosition, direction, maxCount, resolveLinkTos: false }), {});

  async function* readAll(readOptions: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    const direction = readOptions.direction ?? 'forwards';
    let remaining = requireMaxCount(readOptions.maxCount);
    const from = readOptions.fromPosition ?? (direction === 'forwards' ? 'start' : 'end');
    const fromPosition = toReadPosition(from);
    if (remaining === 0) return;
    const { filter } = readOptions;

    // The server's boundary for a backward read from a position is not documented: read the
    // event at the position itself, and skip it should the backward read repeat it.
    let below: GlobalPosition | undefined;
    if (direction === 'backwards' && typeof from === 'bigint') {
      below = from;
      for await (const event of readAllFromServer(fromPosition, FORWARDS, 1)) {
        if (event.position === from && matchesFilter(filter, event)) {
          remaining -= 1;
          yield event;
        }
      }
      if (remaining === 0) return;
    }

    // The server's read filter cannot express the port's; with a filter, events are counted here.
    const serverMaxCount = filter === undefined ? remaining + (below === undefined ? 0 : 1) : undefined;
    for await (const event of readAllFromServer(fromPosition, toClientDirection(direction), serverMaxCount)) {
      if (below !== undefined && event.position >= below) continue;
      if (!matchesFilter(filter, event)) continue;
      remaining -= 1;
      yield event;
      if (remaining === 0) return;
    }
  }

  const headPosition = async (): Promise<GlobalPosition | undefined> => {
    for await (const event of readAllFromServer(END, BACKWARDS, 1)) return event.position;
    return undefined;
  };

  const currentRevision = async (streamName: string): Promise<ActualRevision> => {
    try {
      for await (const event of readStream(streamName, { direction: 'backwards', maxCount: 1 })) return event.revision;
      return 'no_stream';
    } catch (error) {
      if (error instanceof StreamNotFoundError) return 'no_stream';
      throw error;
    }
  };

  /** Whether the stream reads as missing (never written, or soft-deleted); unknown counts as no. */
  const readsAsMissing = async (streamName: string): Promise<boolean> => {
    try {
      await collect(readStream(streamName, { direction: 'backwards', maxCount: 1 }));
      return false;
    } catch (error) {
      return error instanceof StreamNotFoundError;
    }
  };

  /**
   * EventStoreDB reports a soft-deleted stream's old last revision in a conflict, where the port
   * sees no stream (and 'no_stream' is what an append to it may expect).
   */
  const asPortConflict = async (conflict: WrongExpectedRevisionError): Promise<WrongExpectedRevisionError> => {
    if (typeof conflict.actualRevision !== 'bigint' || !(await readsAsMissing(conflict.streamName))) return conflict;
    return withCause(
      new WrongExpectedRevisionError(conflict.streamName, conflict.expectedRevision, 'no_stream'),
      conflict.cause,
    );
  };

  const positionOfRevision = async (streamName: string, revision: bigint): Promise<GlobalPosition> => {
    for await (const event of readStream(streamName, { fromRevision: revision, maxCount: 1 })) {
      if (event.revision === revision) return event.position;
    }
    throw new StoreUnavailableError(
      `the append to ${streamName} succeeded, but the position of revision ${revision} could not be read back`,
    );
  };

  /**
   * The client bounds a batched append only on the server side, which a stalled server does not
   * enforce; so the wait is bounded here too.
   */
  const boundedWrite = async <T>(call: (deadline: number) => Promise<T>, what: string): Promise<T> => {
    const result = await within(call(writeMs), writeMs);
    if (result === STALLED) {
      throw new StoreUnavailableError(
        `EventStoreDB did not answer ${what} within ${writeMs} ms: it may or may not have been written`,
      );
    }
    return result;
  };

  const append = async (
    streamName: string,
    events: EventData[],
    expectedRevision: ExpectedRevision,
  ): Promise<AppendResult> => {
    const used = appending;
    const answeredBefore = used.answered;
    let settled = false;
    let result: ClientAppendResult;
    try {
      result = await boundedWrite((deadline) => {
        const call = used.client.appendToStream(streamName, events, {
          expectedRevision: toClientExpectedRevision(expectedRevision),
          deadline,
        });
        const answered = (): void => {
          settled = true;
          used.answered += 1;
        };
        void call.then(answered, answered);
        return call;
      }, `the append to ${streamName}`);
    } catch (error) {
      if (used.givenUp) {
        throw new StoreUnavailableError(
          `EventStoreDB answered no append for ${writeMs} ms, so the append to ${streamName} was given up: ` +
            'it may or may not have been written',
          { cause: error },
        );
      }
      // Unsettled, the call was given up by the write timeout; stuck, if the client answered nothing meanwhile.
      if (failedBeforeSending(error) || (!settled && used.answered === answeredBefore)) {
        replaceAppendingClient(used, !settled);
      }
      // Cut off after it was sent, the append may have been committed all the same.
      if (isResetStream(error) && !failedBeforeSending(error)) {
        throw new StoreUnavailableError(
          `the append to ${streamName} was cut off by a reset of its gRPC call (${messageOf(error)}): ` +
            'it may or may not have been written',
          { cause: error },
        );
      }
      const mapped = toPortError(error, { streamName, expectedRevision });
      // What failed before the append was sent (its check of the server's capabilities) wrote nothing.
      if (failedBeforeSending(error) && !(mapped instanceof StoreUnavailableError)) {
        throw new StoreUnavailableError(
          `EventStoreDB could not be asked for the append to ${streamName} (${error instanceof Error ? error.message : String(error)}): ` +
            'nothing was written',
          { cause: error },
        );
      }
      // EventStoreDB refuses 'stream_exists' on a soft-deleted stream as if it were tombstoned,
      // where the port sees no stream; a read tells them apart, failing only on a tombstone.
      if (mapped instanceof StreamDeletedError && expectedRevision === 'stream_exists') {
        throw new WrongExpectedRevisionError(streamName, expectedRevision, await currentRevision(streamName));
      }
      throw mapped instanceof WrongExpectedRevisionError ? await asPortConflict(mapped) : mapped;
    }
    // Only a client made with throwOnAppendFailure=false answers so, and its revision is unreliable then.
    if (!result.success) {
      throw new WrongExpectedRevisionError(streamName, expectedRevision, await currentRevision(streamName));
    }
    const nextExpectedRevision = requireBigInt(result.nextExpectedRevision, 'the next expected revision');
    const commit = result.position === undefined ? undefined : requireBigInt(result.position.commit, 'a commit position');
    // An idempotent replay may come back without a position; the original event still has it.
    const position =
      commit !== undefined && isLogPosition(commit) ? commit : await positionOfRevision(streamName, nextExpectedRevision);
    return { nextExpectedRevision, position };
  };

  /**
   * The client cannot delete on `'stream_exists'`, so the current revision stands in for it, and
   * is followed if the stream grows in between.
   */
  const deleteOrTombstone = async (
    streamName: string,
    appendOptions: AppendOptions,
    operation: 'deleteStream' | 'tombstoneStream',
  ): Promise<void> => {
    requireStreamName(streamName);
    const expected = appendOptions.expectedRevision ?? 'any';
    const clientExpected = toClientExpectedRevision(expected);
    const run = async (expectedRevision: typeof ANY | typeof NO_STREAM | bigint): Promise<void> => {
      try {
        await boundedWrite(
          (deadline) => client[operation](streamName, { expectedRevision, deadline }),
          `the ${operation === 'deleteStream' ? 'deletion' : 'tombstone'} of ${streamName}`,
        );
      } catch (error) {
        const mapped = toPortError(error, { streamName, expectedRevision: expected });
        if (!(mapped instanceof WrongExpectedRevisionError)) throw mapped;
        const conflict = await asPortConflict(mapped);
        // EventStoreDB refuses to soft-delete a stream without events as a conflict, even on
        // 'any' (KurrentDB#4637), where the port's answer is that there is no such stream.
        const missing = conflict.actualRevision === 'no_stream' && (expected === 'any' || expected === 'no_stream');
        if (operation === 'deleteStream' && missing) throw withCause(new StreamNotFoundError(streamName), mapped.cause);
        throw conflict;
      }
    };
    if (clientExpected !== STREAM_EXISTS) return run(clientExpected);

    let actual = await currentRevision(streamName);
    for (let attempt = 1; ; attempt++) {
      if (actual === 'no_stream') throw new WrongExpectedRevisionError(streamName, expected, actual);
      try {
        return await run(actual);
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError) || attempt === DELETE_ATTEMPTS) throw error;
        actual = error.actualRevision;
      }
    }
  };

  const requireSubscribeOptions = (subscribeOptions: SubscribeToAllOptions): number => {
    if (typeof subscribeOptions.fromPosition === 'bigint') requireInRange(subscribeOptions.fromPosition, 'position');
    return requireCheckpointInterval(subscribeOptions.checkpointInterval, DEFAULT_CHECKPOINT_INTERVAL);
  };

  return {
    kind: 'eventstoredb',

    async appendToStream(streamName, events, appendOptions: AppendOptions = {}) {
      requireStreamName(streamName);
      const expectedRevision = appendOptions.expectedRevision ?? 'any';
      toClientExpectedRevision(expectedRevision);
      return append(streamName, toProposedEvents(events), expectedRevision);
    },

    readStream,
    readAll,

    subscribeToAll(subscribeOptions: SubscribeToAllOptions = {}): Subscription {
      const checkpointInterval = requireSubscribeOptions(subscribeOptions);
      const { filter } = subscribeOptions;
      const resubscribing = createResubscribingSubscription({
        ...options.resubscribe,
        fromPosition: subscribeOptions.fromPosition ?? 'start',
        connect: (from) =>
          openClientSubscription(client, from, filter, checkpointInterval, {
            ms: subscriptionIdleMs,
            probeHead: headPosition,
          }),
        resolveEnd: headPosition,
      });
      async function* tracked(): AsyncGenerator<SubscriptionMessage> {
        try {
          yield* resubscribing;
        } finally {
          openSubscriptions.delete(subscription);
        }
      }
      const iterator = tracked();
      const subscription: Subscription = {
        [Symbol.asyncIterator]: () => iterator,
        runs: () => runsOfOne(iterator),
        async unsubscribe() {
          openSubscriptions.delete(subscription);
          await resubscribing.unsubscribe();
        },
      };
      openSubscriptions.add(subscription);
      return subscription;
    },

    async setStreamMetadata(streamName, metadata, appendOptions: AppendOptions = {}) {
      requireStreamName(streamName);
      const expectedRevision = appendOptions.expectedRevision ?? 'any';
      toClientExpectedRevision(expectedRevision);
      const event = jsonEvent({ id: randomUUID(), type: '$metadata', data: toStoredMetadata(metadata) });
      return append(metadataStreamOf(streamName), [event], expectedRevision);
    },

    // Read here rather than with the client's getStreamMetadata, which reports a commit position
    // as the metastream revision.
    async getStreamMetadata(streamName) {
      requireStreamName(streamName);
      try {
        for await (const event of readStream(metadataStreamOf(streamName), { direction: 'backwards', maxCount: 1 })) {
          const metadata = fromStoredMetadata(event.data);
          // The port reports a soft delete as no stream, not as truncation.
          if (metadata.truncateBefore !== undefined && metadata.truncateBefore >= SOFT_DELETED_TRUNCATE_BEFORE) {
            delete metadata.truncateBefore;
          }
          return { streamName, metadata, metastreamRevision: event.revision };
        }
      } catch (error) {
        if (!(error instanceof StreamNotFoundError)) throw error;
      }
      return { streamName, metadata: {}, metastreamRevision: 'no_stream' };
    },

    deleteStream: (streamName, appendOptions = {}) => deleteOrTombstone(streamName, appendOptions, 'deleteStream'),

    tombstoneStream: (streamName, appendOptions = {}) => deleteOrTombstone(streamName, appendOptions, 'tombstoneStream'),

    headPosition,

    async close() {
      // Unsubscribed first, so none of them takes the disposal for a drop and reconnects.
      await Promise.all([...openSubscriptions].map((subscription) => subscription.unsubscribe()));
      if (ownsClient) {
        disposed = true;
        await Promise.all([client.dispose(), appending.client.dispose()]);
      }
    },
  };
};

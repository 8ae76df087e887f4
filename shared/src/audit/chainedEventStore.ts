import { version as uuidVersion } from 'uuid';
import {
  collect,
  isSystemStream,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type ExpectedRevision,
  type RecordedEvent,
} from '../eventStore/eventStore.js';
import { StreamNotFoundError, WrongExpectedRevisionError } from '../eventStore/errors.js';
import { decorateEventStore } from '../eventStore/decorateEventStore.js';
import { ProtectedStreamError } from './auditErrors.js';
import { computeEventHash, HASH_KEY, isChainedStream, linkHashOf, PREV_HASH_KEY } from './eventHash.js';

/**
 * The event store with hash-chained streams: every append to a chained stream gets `$prevHash` and
 * `$hash` in each event's metadata (see `eventHash.ts`), and chained streams cannot be deleted,
 * truncated or given an expiry. It works at the port, so both adapters chain alike.
 *
 * The predecessor must be the event that really precedes the new one in its stream, even for
 * callers that append with `expectedRevision: 'any'` (system accounts, possibly concurrently).
 * So, per chained stream:
 * - appends from this process are serialised, and each is turned into an append with an exact
 *   expected revision: the tail this process last wrote or read, whose hash it remembers;
 * - when another process moved the tail in between, the store refuses that revision; a caller
 *   who asked for `'any'` or `'stream_exists'` never sees that conflict: the tail is read again and
 *   the events re-chained and re-sent. A caller who gave its own expectation gets the store's
 *   answer, as without chaining;
 * - the store's best-effort deduplication of a retried `'any'` batch (the batch equals the latest
 *   events of the stream) is kept by comparing ids with the tail's latest events;
 * - the store may answer an append as a repeat of another process's append of the same ids
 *   (derived from one command), which carried other metadata: after an append whose ids another
 *   process may share, the tail's hash is read back from the store, unless the store says it
 *   wrote these very events;
 * - events reach the store unchained only when it cannot write them (the stream is already past
 *   the caller's expectation), so that it answers with its conflict or earlier result.
 * Serialising costs little: the command handler already sends one append at a time per stream.
 */
export interface ChainedEventStoreOptions {
  /** How many stream tails to remember (the oldest is forgotten first). */
  maxKnownStreams?: number;
  /** Re-reads of the tail before an `'any'` append gives up on a contended stream. */
  maxAttempts?: number;
  /** Jitter of the pause before a re-read (injectable for tests). */
  random?: () => number;
}

interface Tail {
  revision: bigint;
  position: bigint;
  hash: string;
  /** Ids of the latest events, oldest first, the last one at `revision`. */
  recentIds: string[];
}

const RECENT_IDS = 64;

export const chainEventStore = <Store extends EventStore>(eventStore: Store, options: ChainedEventStoreOptions = {}): Store => {
  const maxKnownStreams = options.maxKnownStreams ?? 10_000;
  const maxAttempts = options.maxAttempts ?? 32;
  const random = options.random ?? Math.random;
  /** `null`: the stream is known to have no events. */
  const tails = new Map<string, Tail | null>();
  const locks = new Map<string, Promise<unknown>>();

  const remember = (streamName: string, tail: Tail | null): void => {
    tails.delete(streamName);
    tails.set(streamName, tail);
    if (tails.size > maxKnownStreams) tails.delete(tails.keys().next().value!);
  };

  const readTail = async (streamName: string, atLeast: number): Promise<Tail | null> => {
    const latest: RecordedEvent[] = [];
    try {
      for await (const event of eventStore.readStream(streamName, {
        direction: 'backwards',
        maxCount: Math.max(atLeast, RECENT_IDS),
      })) {
        latest.push(event);
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return null;
      throw error;
    }
    const last = latest[0];
    if (last === undefined) return null;
    return {
      revision: last.revision,
      position: last.position,
      hash: linkHashOf(last),
      recentIds: latest.map((event) => event.id).reverse(),
    };
  };

  const tailOf = async (streamName: string, atLeast: number): Promise<Tail | null> => {
    const known = tails.get(streamName);
    if (known !== undefined && (known === null || known.recentIds.length >= Math.min(atLeast, Number(known.revision) + 1))) {
      return known;
    }
    const tail = await readTail(streamName, atLeast);
    remember(streamName, tail);
    return tail;
  };

  const chain = (streamName: string, events: readonly EventToAppend[], after: Tail | null) => {
    let prev = after?.hash ?? null;
    let revision = after === null ? 0n : after.revision + 1n;
    const chained: EventToAppend[] = [];
    for (const event of events) {
      // The hash leaves out any chain fields the given metadata carries; the copy replaces them.
      const hash = computeEventHash({ streamName, revision, id: event.id, type: event.type, data: event.data, metadata: event.metadata }, prev);
      chained.push({ ...event, metadata: { ...event.metadata, [PREV_HASH_KEY]: prev, [HASH_KEY]: hash } });
      prev = hash;
      revision += 1n;
    }
    return { chained, lastHash: prev! };
  };

  /** The result of an earlier append of this very batch when it is the latest of the stream. */
  const replayOf = (tail: Tail | null, events: readonly EventToAppend[]): AppendResult | undefined => {
    if (tail === null || tail.recentIds.length < events.length) return undefined;
    const latest = tail.recentIds.slice(tail.recentIds.length - events.length);
    if (!latest.every((id, index) => id === events[index]!.id)) return undefined;
    return { nextExpectedRevision: tail.revision, position: tail.position, written: false };
  };

  /** Where the stream stands against the expectation: at it, past it, or short of it. */
  const stanceOf = (expected: ExpectedRevision, tail: Tail | null): 'at' | 'past' | 'short' => {
    if (expected === 'any') return 'at';
    if (expected === 'no_stream') return tail === null ? 'at' : 'past';
    if (expected === 'stream_exists') return tail === null ? 'short' : 'at';
    if (tail === null || expected > tail.revision) return 'short';
    return expected < tail.revision ? 'past' : 'at';
  };

  /**
   * A random (v4) id is this append's alone. Any other, such as one derived from a command (v5),
   * may already follow the expected revision from another process's append of the same command,
   * with its own metadata or data: the store then answers with that append's result.
   */
  const mayBeAnotherWriters = (events: readonly EventToAppend[]): boolean => events.some((event) => uuidVersion(event.id) !== 4);

  /** The hash the stream holds at `revision`: what its next event links to. */
  const storedHashAt = async (streamName: string, revision: bigint): Promise<string> => {
    const [stored] = await collect(eventStore.readStream(streamName, { fromRevision: revision, maxCount: 1 }));
    return linkHashOf(stored!);
  };

  const appendChained = async (
    streamName: string,
    events: readonly EventToAppend[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> => {
    for (let attempt = 1; ; attempt++) {
      // A stream expected new (a movement's outcome) is chained from nothing without reading it:
      // if it exists after all, the store refuses the append or recognises a retried one by its
      // ids. Either way the events it holds may not be these, so such a tail is not remembered.
      const assumedNew = expected === 'no_stream' && !tails.has(streamName);
      const flexible = expected === 'any' || expected === 'stream_exists';
      // Only a flexible append looks for itself among the latest ids: an exact one needs the tail's
      // revision and hash, however many events it brings.
      const tail = assumedNew ? null : await tailOf(streamName, flexible ? events.length : 0);
      if (flexible) {
        const replayed = replayOf(tail, events);
        if (replayed !== undefined) return replayed;
      }
      const stance = stanceOf(expected, tail);
      // A stream past the expectation stays past it: the store answers with a conflict or the
      // original result of a retried batch, and writes nothing.
      if (stance === 'past') return eventStore.appendToStream(streamName, events, { expectedRevision: expected });
      if (stance === 'short') {
        // This process's view may be behind another writer's: look again before answering. The
        // store is not asked: should the stream reach the expectation meanwhile, it would take
        // the events unchained.
        tails.delete(streamName);
        if (attempt === 1) continue;
        throw new WrongExpectedRevisionError(streamName, expected, tail?.revision ?? 'no_stream');
      }
      const { chained, lastHash } = chain(streamName, events, tail);
      let result: AppendResult;
      try {
        result = await eventStore.appendToStream(streamName, chained, { expectedRevision: tail === null ? 'no_stream' : tail.revision });
      } catch (error) {
        tails.delete(streamName);
        if (error instanceof WrongExpectedRevisionError && flexible && attempt < maxAttempts) {
          // Jittered, growing pauses let two contending writers fall out of step.
          await new Promise((resolve) => setTimeout(resolve, random() * Math.min(100, 2 ** attempt)));
          continue;
        }
        throw error;
      }
      if (assumedNew) return result;
      // The answer may be another writer's append of the same ids: the next event links to what
      // the store holds, read back, not to what this process computed.
      let hash = lastHash;
      if (result.written !== true && mayBeAnotherWriters(events)) {
        tails.delete(streamName);
        hash = await storedHashAt(streamName, result.nextExpectedRevision);
      }
      const recentIds = [...(tail?.recentIds ?? []), ...events.map((event) => event.id)].slice(-RECENT_IDS);
      remember(streamName, { revision: result.nextExpectedRevision, position: result.position, hash, recentIds });
      return result;
    }
  };

  /** Runs `work` after every earlier append to the same stream from this process has settled. */
  const serialised = <T>(streamName: string, work: () => Promise<T>): Promise<T> => {
    const previous = locks.get(streamName) ?? Promise.resolve();
    const run = previous.then(work, work);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    locks.set(streamName, settled);
    void settled.then(() => {
      if (locks.get(streamName) === settled) locks.delete(streamName);
    });
    return run;
  };

  /** `$$<chained>` is the metadata stream of a chained stream: writing it directly is a truncation too. */
  const protectedTarget = (streamName: string): string | undefined => {
    if (isChainedStream(streamName)) return streamName;
    if (streamName.startsWith('$$') && isChainedStream(streamName.slice(2))) return streamName.slice(2);
    return undefined;
  };

  const appendToStream: EventStore['appendToStream'] = (streamName, events, appendOptions: AppendOptions = {}) => {
    const target = protectedTarget(streamName);
    if (target !== undefined && isSystemStream(streamName)) {
      return Promise.reject(new ProtectedStreamError(target, 'given metadata by a direct append'));
    }
    if (target === undefined || events.length === 0) return eventStore.appendToStream(streamName, events, appendOptions);
    return serialised(streamName, () => appendChained(streamName, events, appendOptions.expectedRevision ?? 'any'));
  };

  const setStreamMetadata: EventStore['setStreamMetadata'] = (streamName, metadata, appendOptions) => {
    const truncating = metadata.maxAge !== undefined || metadata.maxCount !== undefined || metadata.truncateBefore !== undefined;
    if (truncating && protectedTarget(streamName) !== undefined) {
      return Promise.reject(new ProtectedStreamError(streamName, 'truncated or given an expiry'));
    }
    return eventStore.setStreamMetadata(streamName, metadata, appendOptions);
  };

  const deleteStream: EventStore['deleteStream'] = (streamName, appendOptions) =>
    protectedTarget(streamName) !== undefined
      ? Promise.reject(new ProtectedStreamError(streamName, 'deleted'))
      : eventStore.deleteStream(streamName, appendOptions);

  const tombstoneStream: EventStore['tombstoneStream'] = (streamName, appendOptions) =>
    protectedTarget(streamName) !== undefined
      ? Promise.reject(new ProtectedStreamError(streamName, 'deleted'))
      : eventStore.tombstoneStream(streamName, appendOptions);

  return decorateEventStore(eventStore, { appendToStream, setStreamMetadata, deleteStream, tombstoneStream });
};

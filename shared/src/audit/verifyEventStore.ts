import { collect, type EventStore, type RecordedEvent } from '../eventStore/eventStore.js';
import { StreamDeletedError, StreamNotFoundError } from '../eventStore/errors.js';
import { CHECKPOINT_STREAM, isChainedStream } from './eventHash.js';
import { checkpointOf, createLogVerifier, type LogVerifierOptions, type VerificationReport } from './logVerifier.js';
import { createStreamMemory } from './streamMemory.js';
import type { Checkpoint } from './checkpoints.js';

/** Every readable checkpoint the store holds, with the event carrying it (the verifier reports the others as it meets them in the log). */
export const readCheckpoints = async (eventStore: EventStore): Promise<{ checkpoint: Checkpoint; event: RecordedEvent }[]> => {
  let events: RecordedEvent[];
  try {
    events = await collect(eventStore.readStream(CHECKPOINT_STREAM));
  } catch (error) {
    if (error instanceof StreamNotFoundError) return [];
    throw error;
  }
  return events.flatMap((event) => {
    const checkpoint = checkpointOf(event.data);
    return checkpoint === undefined ? [] : [{ checkpoint, event }];
  });
};

/** Stream reads in flight while the log is read on: on a server store, each is a round trip. */
const READS_IN_FLIGHT = 32;
/** Events held back behind an unanswered read, whose problem the report places before theirs. */
const EVENTS_HELD = 4096;

/**
 * Why a chained stream does not read back from `first`, the first of its events in the log;
 * `undefined` when it does. The chained store refuses to delete, tombstone or truncate one, but
 * done on the store itself that leaves the events in `$all`, where chains and checkpoints verify,
 * while every as-of query reads the stream.
 */
const readBackProblem = async (eventStore: EventStore, first: RecordedEvent): Promise<string | undefined> => {
  let read: RecordedEvent | undefined;
  try {
    [read] = await collect(eventStore.readStream(first.streamName, { maxCount: 1 }));
  } catch (error) {
    if (error instanceof StreamNotFoundError) return 'its stream reads as deleted, though the log holds its events: as-of queries cannot see them';
    if (error instanceof StreamDeletedError) return 'its stream is tombstoned, though the log holds its events: as-of queries cannot read them';
    throw error;
  }
  if (read?.revision === first.revision) return undefined;
  return (
    `its stream reads back ${read === undefined ? 'empty' : `from revision ${read.revision}`}, not from this event: ` +
    'truncated, expired or deleted on the store itself, it hides the events before from as-of queries'
  );
};

/** A read's answer, to take in turn: a failure is thrown then, never left unhandled meanwhile. */
const settled = <T>(promise: Promise<T>): Promise<() => T> =>
  promise.then(
    (value) => () => value,
    (error: unknown) => () => {
      throw error;
    },
  );

/**
 * Verifies the whole log of an event store: every chain, every checkpoint (see `logVerifier.ts`),
 * and that each chained stream reads back from its first event in the log. `upTo` stops at a
 * position (checkpoints beyond it are not checked).
 */
export const verifyEventStore = async (
  eventStore: EventStore,
  options: LogVerifierOptions & { upTo?: bigint } = {},
): Promise<VerificationReport> => {
  const checkpoints = (await readCheckpoints(eventStore)).filter(
    ({ checkpoint }) => options.upTo === undefined || BigInt(checkpoint.payload.position) <= options.upTo,
  );
  const verifier = createLogVerifier(checkpoints, options);
  // Streams are read back while the log is read on; a stream's problem is reported right after
  // its first event, so that problems stay in log order.
  const seen = createStreamMemory<true>({ encode: () => '', decode: () => true }, options.streamsInMemory);
  const held: { event: RecordedEvent; readBack?: Promise<() => string | undefined> }[] = [];
  let reads = 0;
  const release = async (readsLeft: number, eventsLeft: number): Promise<void> => {
    while (held.length > 0 && (held[0]!.readBack === undefined || reads > readsLeft || held.length > eventsLeft)) {
      const { event, readBack } = held.shift()!;
      verifier.add(event);
      if (readBack === undefined) continue;
      reads--;
      const problem = (await readBack)();
      if (problem !== undefined) verifier.reportAt(event, problem);
    }
  };
  try {
    for await (const event of eventStore.readAll()) {
      if (options.upTo !== undefined && event.position > options.upTo) break;
      if (isChainedStream(event.streamName) && seen.get(event.streamName) === undefined) {
        seen.set(event.streamName, true);
        reads++;
        held.push({ event, readBack: settled(readBackProblem(eventStore, event)) });
      } else {
        held.push({ event });
      }
      await release(READS_IN_FLIGHT, EVENTS_HELD);
    }
    await release(-1, 0);
  } catch (error) {
    verifier.abandon();
    throw error;
  } finally {
    seen.close();
  }
  return verifier.finish();
};

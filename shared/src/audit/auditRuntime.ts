import { collect, type EventStore, type GlobalPosition, type RecordedEvent } from '../eventStore/eventStore.js';
import { StreamNotFoundError, WrongExpectedRevisionError } from '../eventStore/errors.js';
import { deterministicEventId } from '../ids/eventIds.js';
import { ACCOUNT_STREAM_PREFIX } from '../ledger/streams.js';
import { appendAccountSnapshot, snapshotAccount, type LatestAccountSnapshot } from './accountAsOf.js';
import { occurredAtOf } from './pointInTime.js';
import { checkpointRecorded, signCheckpoint, type Checkpoint } from './checkpoints.js';
import {
  CHAINED_STREAM_PREFIXES,
  CHECKPOINT_STREAM,
  isLedgerStream,
  isMerkleLeafStream,
  linkHashOf,
  PERIOD_STREAM,
  SNAPSHOT_STREAM_PREFIX,
} from './eventHash.js';
import { foldFromSnapshot, latestBooksSnapshot, writeBooksSnapshot } from './booksSnapshot.js';
import { emptyLedgerFold, foldLedgerEvent, type LedgerFold } from '../ledger/ledgerFold.js';
import { checkpointOf } from './logVerifier.js';
import { addLeaf, emptyFrontier, frontierFromJson, frontierToJson, merkleRoot, type MerkleFrontier } from './merkle.js';
import type { AuditSigner } from './signing.js';

/**
 * The audit's background work, in one pass over `$all` from the last checkpoint:
 * - a signed Merkle checkpoint once `checkpointEvery` leaf events are pending, or once
 *   `checkpointIntervalMs` has passed with any pending;
 * - a snapshot of an account's figures after every `snapshotEvery`-th event of its stream;
 * - a snapshot of the whole books after every `booksSnapshotEvery` events of the books.
 * Only one process should run it (the writer); a second one would find its checkpoint appends
 * refused (exact expected revisions) and pick up from the other's checkpoint.
 */
export interface AuditRuntimeOptions {
  eventStore: EventStore;
  signer: AuditSigner;
  checkpointEvery?: number;
  checkpointIntervalMs?: number;
  snapshotEvery?: number;
  /** A snapshot of the whole books after every this many events of the books. */
  booksSnapshotEvery?: number;
  /** How often the log is polled for new events. */
  pollIntervalMs?: number;
  clock?: () => Date;
  onError?: (error: unknown) => void;
}

export interface AuditRuntime {
  /** Reads the log to its head, writes due snapshots and (when due, or `force`d) a checkpoint. */
  runOnce(options?: { force?: boolean }): Promise<Checkpoint | undefined>;
  start(): void;
  stop(): Promise<void>;
}

interface Progress {
  frontier: MerkleFrontier;
  /** The last event the frontier has seen. */
  position: GlobalPosition | undefined;
  /** The books folded up to `booksPosition`, for the books snapshots. */
  books: LedgerFold;
  booksPosition: GlobalPosition | undefined;
  booksRevision: bigint | undefined;
  ledgerEventsSinceBooks: number;
  /** Revision of the last checkpoint event, for the next append's expectation. */
  checkpointRevision: bigint | undefined;
  lastCheckpointAt: number;
  leavesSinceCheckpoint: number;
  /** Per account whose latest snapshot this pass wrote or found: what its next snapshot needs. */
  snapshotTails: Map<string, SnapshotTail>;
}

/**
 * An account seen event by event since its latest snapshot: the books fold holds its figures,
 * so its next snapshot needs only the latest business time of the postings since.
 */
interface SnapshotTail {
  /** The last revision of the account stream seen. */
  revision: bigint;
  /** The snapshot stream's revision, for the next append's expectation. */
  streamRevision: bigint;
  maxOccurredAt: number | undefined;
}

const tailOf = ({ snapshot, streamRevision }: LatestAccountSnapshot): SnapshotTail => ({
  revision: snapshot.revision,
  streamRevision,
  maxOccurredAt: snapshot.maxOccurredAt === undefined ? undefined : Date.parse(snapshot.maxOccurredAt),
});

/**
 * What the pass reads: the Merkle leaves, of which the books and the account streams are a part.
 * Everything else in the log (idempotency records, recovery checkpoints, credentials) is left to
 * the store's filter, so the pass does not pay for reading it.
 */
const AUDITED_STREAMS = { streamNamePrefixes: [...CHAINED_STREAM_PREFIXES, PERIOD_STREAM, SNAPSHOT_STREAM_PREFIX] };

export const snapshotEventId = (accountId: string, revision: bigint): string =>
  deterministicEventId('account-snapshot', accountId, revision.toString());

export const createAuditRuntime = (options: AuditRuntimeOptions): AuditRuntime => {
  const { eventStore, signer } = options;
  const checkpointEvery = options.checkpointEvery ?? 1000;
  const checkpointIntervalMs = options.checkpointIntervalMs ?? 60_000;
  const snapshotEvery = BigInt(options.snapshotEvery ?? 1000);
  const booksSnapshotEvery = options.booksSnapshotEvery ?? 100_000;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const clock = options.clock ?? (() => new Date());
  let progress: Progress | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const resume = async (): Promise<Progress> => {
    let last: RecordedEvent | undefined;
    try {
      [last] = await collect(eventStore.readStream(CHECKPOINT_STREAM, { direction: 'backwards', maxCount: 1 }));
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
    const checkpoint = last === undefined ? undefined : checkpointOf(last.data);
    const books = await latestBooksSnapshot(eventStore);
    return {
      books: books === undefined ? emptyLedgerFold() : foldFromSnapshot(books.snapshot),
      booksPosition: books?.snapshot.position,
      booksRevision: books?.revision,
      ledgerEventsSinceBooks: 0,
      frontier: checkpoint === undefined ? emptyFrontier() : frontierFromJson(checkpoint.frontier),
      position: checkpoint === undefined ? undefined : BigInt(checkpoint.payload.position),
      checkpointRevision: last?.revision,
      lastCheckpointAt: clock().getTime(),
      leavesSinceCheckpoint: 0,
      snapshotTails: new Map(),
    };
  };

  /**
   * Writes an account's snapshot after every `snapshotEvery`-th event of its stream. When the
   * books fold has just folded the event and this pass has seen every event of the account since
   * its previous snapshot, the snapshot takes the books' figures for the account; otherwise (the
   * first snapshot of an account since the start, or after a gap) the account's events since its
   * previous snapshot are read and folded again.
   */
  const snapshotWhenDue = async (state: Progress, event: RecordedEvent, booksAtEvent: boolean): Promise<void> => {
    const accountId = event.streamName.slice(ACCOUNT_STREAM_PREFIX.length);
    const tails = state.snapshotTails;
    let tail = tails.get(accountId);
    if (tail !== undefined && (!booksAtEvent || tail.revision + 1n !== event.revision)) {
      tails.delete(accountId);
      tail = undefined;
    }
    if (tail !== undefined) {
      tail.revision = event.revision;
      if (event.type === 'AccountDebited' || event.type === 'AccountCredited') {
        const occurredAt = occurredAtOf(event);
        tail.maxOccurredAt = Math.max(tail.maxOccurredAt ?? occurredAt, occurredAt);
      }
    }
    if ((event.revision + 1n) % snapshotEvery !== 0n) return;
    const figures = state.books.accounts.get(accountId);
    const latest =
      tail !== undefined && figures !== undefined
        ? await appendAccountSnapshot(eventStore, accountId, event, { figures, maxOccurredAt: tail.maxOccurredAt }, tail.streamRevision, snapshotEventId)
        : await snapshotAccount(eventStore, accountId, event.revision, snapshotEventId);
    if (latest !== undefined && latest.snapshot.revision === event.revision) tails.set(accountId, tailOf(latest));
    else tails.delete(accountId);
  };

  const writeCheckpoint = async (state: Progress): Promise<Checkpoint> => {
    const checkpoint = signCheckpoint(
      signer,
      { position: state.position ?? 0n, leafCount: state.frontier.leafCount, root: merkleRoot(state.frontier), signedAt: clock() },
      frontierToJson(state.frontier),
    );
    const id = deterministicEventId('checkpoint', checkpoint.payload.position, checkpoint.payload.root);
    const result = await eventStore.appendToStream(
      CHECKPOINT_STREAM,
      [{ id, type: checkpointRecorded.type, data: checkpoint, metadata: { occurredAt: checkpoint.payload.signedAt } }],
      { expectedRevision: state.checkpointRevision ?? 'no_stream' },
    );
    state.checkpointRevision = result.nextExpectedRevision;
    state.lastCheckpointAt = clock().getTime();
    state.leavesSinceCheckpoint = 0;
    return checkpoint;
  };

  const pass = async (force: boolean): Promise<Checkpoint | undefined> => {
    progress ??= await resume();
    const state = progress;
    const from = state.position === undefined || state.booksPosition === undefined ? undefined : state.position < state.booksPosition ? state.position : state.booksPosition;
    try {
      for await (const event of eventStore.readAll({ fromPosition: from ?? 'start', filter: AUDITED_STREAMS })) {
        const booksAtEvent = state.booksPosition === undefined || event.position > state.booksPosition;
        if (booksAtEvent) {
          state.booksPosition = event.position;
          if (isLedgerStream(event.streamName)) {
            foldLedgerEvent(state.books, event);
            if (++state.ledgerEventsSinceBooks >= booksSnapshotEvery) {
              state.booksRevision = await writeBooksSnapshot(eventStore, state.books, event, state.booksRevision ?? 'no_stream');
              state.ledgerEventsSinceBooks = 0;
            }
          }
        }
        if (state.position !== undefined && event.position <= state.position) continue;
        if (isMerkleLeafStream(event.streamName)) {
          addLeaf(state.frontier, linkHashOf(event));
          state.leavesSinceCheckpoint++;
        }
        if (event.streamName.startsWith(ACCOUNT_STREAM_PREFIX)) await snapshotWhenDue(state, event, booksAtEvent);
        state.position = event.position;
        if (state.leavesSinceCheckpoint >= checkpointEvery) await writeCheckpoint(state);
      }
      const due = state.leavesSinceCheckpoint > 0 && clock().getTime() - state.lastCheckpointAt >= checkpointIntervalMs;
      if (force || due) return await writeCheckpoint(state);
      return undefined;
    } catch (error) {
      // Another writer's checkpoint, or a failed read: start again from the last checkpoint.
      progress = undefined;
      if (error instanceof WrongExpectedRevisionError) return undefined;
      throw error;
    }
  };

  const runOnce = (runOptions: { force?: boolean } = {}): Promise<Checkpoint | undefined> => {
    const run = running.then(() => pass(runOptions.force ?? false));
    running = run.catch(() => undefined);
    return run;
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      runOnce()
        .catch((error: unknown) => options.onError?.(error))
        .finally(schedule);
    }, pollIntervalMs);
    timer.unref();
  };

  return {
    runOnce,
    start: () => {
      stopped = false;
      schedule();
    },
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
};

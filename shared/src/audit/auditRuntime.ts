import { collect, type EventStore, type GlobalPosition, type RecordedEvent } from '../eventStore/eventStore.js';
import { StreamNotFoundError, WrongExpectedRevisionError } from '../eventStore/errors.js';
import { deterministicEventId } from '../ids/eventIds.js';
import { ACCOUNT_STREAM_PREFIX } from '../ledger/streams.js';
import { appendAccountSnapshot, latestAccountSnapshot, latestPostingTime, snapshotAccount } from './accountAsOf.js';
import { occurredAtOf } from './pointInTime.js';
import {
  CHECKPOINT_FORMAT,
  checkpointLeaf,
  checkpointRecorded,
  checkpointSignatureProblem,
  signCheckpoint,
  type Checkpoint,
  type CheckpointFormat,
} from './checkpoints.js';
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
  /** What the runtime worked around but someone should look into (a checkpoint it could not resume from). */
  onWarning?: (message: string) => void;
}

export interface AuditRuntime {
  /** Reads the log to its head, writes due snapshots and (when due, or `force`d) a checkpoint. */
  runOnce(options?: { force?: boolean }): Promise<Checkpoint | undefined>;
  start(): void;
  stop(): Promise<void>;
}

interface Progress {
  /** The tree of the format written, `CHECKPOINT_FORMAT`. */
  frontier: MerkleFrontier;
  /** The last event the frontier has seen. */
  position: GlobalPosition | undefined;
  /** The books folded up to `booksPosition`, for the books snapshots. */
  books: LedgerFold;
  booksPosition: GlobalPosition | undefined;
  booksRevision: bigint | undefined;
  /**
   * Position of the newest books snapshot, of any format: the next one lies beyond it, so that
   * snapshots stay in log order even where the fold restarts from the start (an older format).
   */
  booksSnapshotPosition: GlobalPosition | undefined;
  ledgerEventsSinceBooks: number;
  /** Revision of the last checkpoint event, for the next append's expectation. */
  checkpointRevision: bigint | undefined;
  lastCheckpointAt: number;
  leavesSinceCheckpoint: number;
  /** Per account, what this pass has seen of its stream since the process started (see `AccountTail`). */
  accountTails: Map<string, AccountTail>;
}

/**
 * The events of an account's stream this pass has seen one after the other. The books fold holds
 * every account's figures; a snapshot also needs the latest business time of the account's
 * postings, which the tail keeps for the postings it has seen, and for all of them up to
 * `revision` once it knows the snapshot stream's revision.
 */
interface AccountTail {
  from: bigint;
  revision: bigint;
  maxOccurredAt: number | undefined;
  /** The snapshot stream's revision, known once the tail covers every posting since the start. */
  snapshotStreamRevision: bigint | 'no_stream' | undefined;
}

const later = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.max(a, b);

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

  /**
   * The tree of the format written over the leaves up to `position`, rebuilt from the log, and the
   * root those leaves give in `format`, to compare with what a checkpoint of it signed.
   */
  const rebuildTree = async (position: bigint, format: CheckpointFormat): Promise<{ frontier: MerkleFrontier; root: string }> => {
    const frontier = emptyFrontier();
    const signed = format === CHECKPOINT_FORMAT ? frontier : emptyFrontier();
    for await (const event of eventStore.readAll({ filter: AUDITED_STREAMS })) {
      if (event.position > position) break;
      if (!isMerkleLeafStream(event.streamName)) continue;
      const hash = linkHashOf(event);
      addLeaf(frontier, checkpointLeaf(CHECKPOINT_FORMAT, hash, event));
      if (signed !== frontier) addLeaf(signed, checkpointLeaf(format, hash, event));
    }
    return { frontier, root: merkleRoot(signed) };
  };

  /**
   * Where the Merkle tree stood at a checkpoint. The frontier stored with it is not signed: it is
   * used only when it gives the signed leaf count and root, else a rewritten frontier would make
   * every later checkpoint disagree with the log and blame honest events. Otherwise the tree is
   * rebuilt from the log up to the signed position, or from the start when the signature does not
   * hold with this key (its position then proves nothing either). A checkpoint of an older format
   * holds the leaves of that format: the tree of the current one is rebuilt from the log, once.
   */
  const resumeTree = async (checkpoint: Checkpoint): Promise<Pick<Progress, 'frontier' | 'position'>> => {
    const signatureProblem = checkpointSignatureProblem(checkpoint, signer.keyId);
    if (signatureProblem !== undefined) {
      options.onWarning?.(`the last checkpoint cannot be resumed from (${signatureProblem}): the Merkle tree is rebuilt from the start of the log`);
      return { frontier: emptyFrontier(), position: undefined };
    }
    const { payload } = checkpoint;
    const position = BigInt(payload.position);
    if (payload.format !== CHECKPOINT_FORMAT) {
      const { frontier, root } = await rebuildTree(position, payload.format);
      if (root !== payload.root) {
        options.onWarning?.(
          `the log up to the ${payload.format} checkpoint at position ${position} does not give its signed root (run \`folio audit verify\`)`,
        );
      }
      return { frontier, position };
    }
    let stored: MerkleFrontier | undefined;
    try {
      stored = frontierFromJson(checkpoint.frontier);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
    }
    if (stored?.leafCount === BigInt(payload.leafCount) && merkleRoot(stored) === payload.root) return { frontier: stored, position };
    const { frontier, root } = await rebuildTree(position, payload.format);
    options.onWarning?.(
      `the frontier stored with the checkpoint at position ${position} does not give its signed root: rebuilt from the log` +
        (root === payload.root ? '' : ', which does not give it either (run `folio audit verify`)'),
    );
    return { frontier, position };
  };

  const resume = async (): Promise<Progress> => {
    let last: RecordedEvent | undefined;
    try {
      [last] = await collect(eventStore.readStream(CHECKPOINT_STREAM, { direction: 'backwards', maxCount: 1 }));
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
    const checkpoint = last === undefined ? undefined : checkpointOf(last.data);
    if (last !== undefined && checkpoint === undefined) {
      options.onWarning?.('the last checkpoint cannot be read: the Merkle tree is rebuilt from the start of the log');
    }
    const tree = checkpoint === undefined ? { frontier: emptyFrontier(), position: undefined } : await resumeTree(checkpoint);
    const books = await latestBooksSnapshot(eventStore);
    return {
      books: books?.snapshot === undefined ? emptyLedgerFold() : foldFromSnapshot(books.snapshot),
      booksPosition: books?.snapshot?.position,
      booksRevision: books?.revision,
      booksSnapshotPosition: books?.position,
      ledgerEventsSinceBooks: 0,
      ...tree,
      checkpointRevision: last?.revision,
      lastCheckpointAt: clock().getTime(),
      leavesSinceCheckpoint: 0,
      accountTails: new Map(),
    };
  };

  /**
   * Writes an account's snapshot after every `snapshotEvery`-th event of its stream, with the
   * figures the books fold holds once it has folded that event. The latest business time comes
   * from the tail; the first time, its snapshot stream's head is read, and the account's
   * postings the pass has not seen since that snapshot (those before the process started). Where
   * the books fold is ahead of the event (after a restart), the account's events since its
   * latest snapshot are folded again instead.
   */
  const snapshotWhenDue = async (state: Progress, event: RecordedEvent, booksAtEvent: boolean): Promise<void> => {
    const accountId = event.streamName.slice(ACCOUNT_STREAM_PREFIX.length);
    const due = (event.revision + 1n) % snapshotEvery === 0n;
    const tails = state.accountTails;
    if (!booksAtEvent) {
      tails.delete(accountId);
      if (due) await snapshotAccount(eventStore, accountId, event.revision, snapshotEventId);
      return;
    }
    let tail = tails.get(accountId);
    if (tail === undefined || tail.revision + 1n !== event.revision) {
      tail = { from: event.revision, revision: event.revision, maxOccurredAt: undefined, snapshotStreamRevision: undefined };
      tails.set(accountId, tail);
    }
    tail.revision = event.revision;
    if (event.type === 'AccountDebited' || event.type === 'AccountCredited') tail.maxOccurredAt = later(tail.maxOccurredAt, occurredAtOf(event));
    if (!due) return;
    const figures = state.books.accounts.get(accountId);
    if (figures === undefined) return;
    if (tail.snapshotStreamRevision === undefined) {
      const latest = await latestAccountSnapshot(eventStore, accountId);
      if (latest !== undefined && latest.snapshot.revision >= event.revision) {
        // Written before a restart: the next one follows it, if it is this one.
        if (latest.snapshot.revision === event.revision) {
          tail.maxOccurredAt = latest.snapshot.maxOccurredAt === undefined ? undefined : Date.parse(latest.snapshot.maxOccurredAt);
          tail.snapshotStreamRevision = latest.streamRevision;
        }
        return;
      }
      const unseenFrom = latest === undefined ? 0n : latest.snapshot.revision + 1n;
      const before = latest?.snapshot.maxOccurredAt === undefined ? undefined : Date.parse(latest.snapshot.maxOccurredAt);
      const unseen = tail.from > unseenFrom ? await latestPostingTime(eventStore, accountId, unseenFrom, tail.from - 1n) : undefined;
      tail.maxOccurredAt = later(tail.maxOccurredAt, later(before, unseen));
      tail.snapshotStreamRevision = latest?.streamRevision ?? 'no_stream';
    }
    const written = await appendAccountSnapshot(
      eventStore,
      accountId,
      event,
      { figures, maxOccurredAt: tail.maxOccurredAt },
      tail.snapshotStreamRevision,
      snapshotEventId,
    );
    tail.snapshotStreamRevision = written.streamRevision;
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
            if (++state.ledgerEventsSinceBooks >= booksSnapshotEvery && event.position > (state.booksSnapshotPosition ?? -1n)) {
              state.booksRevision = await writeBooksSnapshot(eventStore, state.books, event, state.booksRevision ?? 'no_stream');
              state.booksSnapshotPosition = event.position;
              state.ledgerEventsSinceBooks = 0;
            }
          }
        }
        if (state.position !== undefined && event.position <= state.position) continue;
        if (isMerkleLeafStream(event.streamName)) {
          addLeaf(state.frontier, checkpointLeaf(CHECKPOINT_FORMAT, linkHashOf(event), event));
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

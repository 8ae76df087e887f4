import type { JsonObject, RecordedEvent } from '../eventStore/eventStore.js';
import {
  CHECKPOINT_FORMAT,
  checkpointLeaf,
  checkpointRecorded,
  checkpointSchema,
  checkpointSignatureProblem,
  type Checkpoint,
  type CheckpointFormat,
} from './checkpoints.js';
import { chainFieldsOf, CHECKPOINT_STREAM, computeEventHash, hasChainFields, isChainedStream, isMerkleLeafStream } from './eventHash.js';
import { addLeaf, emptyFrontier, leafHash, merkleRoot, type MerkleFrontier } from './merkle.js';
import { createStreamMemory, type StreamValueCodec } from './streamMemory.js';

/**
 * Verifies a log read in `$all` order, trusting nothing stored but the signatures: recomputes every
 * chained event's hash and link, checks each stream's revisions follow on, and recomputes the
 * Merkle root at every checkpoint, with the leaves of its format, and checks its signature. The same code checks the live store
 * (`verifyEventStore`) and an export (`verifyExport`).
 */
export interface IntegrityProblem {
  streamName: string;
  revision: string;
  position: string;
  eventId: string;
  reason: string;
}

export interface VerificationReport {
  ok: boolean;
  eventsChecked: number;
  chainedEvents: number;
  /** Events of chained streams stored without chain fields (written before chaining). */
  unchainedEvents: number;
  /** Position of the last unchained event: the log is "unchained before" the one after it. */
  lastUnchainedPosition: string | undefined;
  checkpointsVerified: number;
  /** The verified checkpoints per format: those of `folio-checkpoint/1` do not bind commit times and positions. */
  checkpointFormats: Partial<Record<CheckpointFormat, number>>;
  lastCheckpoint: { format: CheckpointFormat; position: string; leafCount: string; root: string; keyId: string } | undefined;
  /** Merkle leaves after the last verified checkpoint (all of them when none verified): what no signature covers yet. */
  leavesAfterLastCheckpoint: number;
  /** The earliest problem in log order. */
  firstBroken: IntegrityProblem | undefined;
  /** The first problems found (at most 100). */
  problems: IntegrityProblem[];
}

export type VerifiableEvent = Pick<
  RecordedEvent,
  'streamName' | 'id' | 'type' | 'revision' | 'position' | 'created' | 'data' | 'metadata'
>;

interface StreamState {
  revision: bigint;
  /** Recomputed hash of the last event, which its successor must link to. */
  hash: string;
  chained: boolean;
}

const streamStateCodec: StreamValueCodec<StreamState> = {
  encode: ({ revision, hash, chained }) => `${revision} ${chained ? 1 : 0} ${hash}`,
  decode: (text) => {
    const [revision, chained, hash] = text.split(' ') as [string, string, string];
    return { revision: BigInt(revision), hash, chained: chained === '1' };
  },
};

export interface LogVerifierOptions {
  /** When given, every checkpoint must be signed by this key. */
  trustedKeyId?: string;
  /** The streams whose state is kept in memory; the others go to a temporary file (`streamMemory.ts`). */
  streamsInMemory?: number;
}

const MAX_PROBLEMS = 100;

export interface LogVerifier {
  /** Each event of the log, in `$all` order. */
  add(event: VerifiableEvent): void;
  /** A problem of the event just added that the log alone does not show (how the store reads its stream back). */
  reportAt(event: VerifiableEvent, reason: string): void;
  /** The report, once every event is added; releases what the streams' states took on disk. */
  finish(): VerificationReport;
  /** Releases what the streams' states took on disk, when the verification ends without a report. */
  abandon(): void;
}

/**
 * @param checkpoints every checkpoint to check, in any order (read first, so each root is taken
 *   exactly at its position).
 */
export const createLogVerifier = (
  checkpoints: readonly { checkpoint: Checkpoint; event?: VerifiableEvent }[],
  { trustedKeyId, streamsInMemory }: LogVerifierOptions = {},
): LogVerifier => {
  const streams = createStreamMemory(streamStateCodec, streamsInMemory);
  const problems: IntegrityProblem[] = [];
  let firstBroken: IntegrityProblem | undefined;
  let eventsChecked = 0;
  let chainedEvents = 0;
  let unchainedEvents = 0;
  let lastUnchainedPosition: bigint | undefined;
  let checkpointsVerified = 0;
  const checkpointFormats: VerificationReport['checkpointFormats'] = {};
  let lastCheckpoint: VerificationReport['lastCheckpoint'];
  let leafCount = 0n;
  let lastPosition = -1n;
  /** The latest commit time so far and its event: commit times never decrease along the log. */
  let latestRecorded: VerifiableEvent | undefined;
  /** The first event in the current stretch between two checkpoints: where a bad root points. */
  let stretchStart: VerifiableEvent | undefined;
  const pending = [...checkpoints].sort((a, b) => {
    const difference = BigInt(a.checkpoint.payload.position) - BigInt(b.checkpoint.payload.position);
    return difference < 0n ? -1 : difference > 0n ? 1 : 0;
  });
  /** A tree per format still to check, dropped after its last checkpoint: a log moves to the new format once. */
  const trees = new Map<CheckpointFormat, { frontier: MerkleFrontier; pending: number }>();
  for (const { checkpoint } of pending) {
    const tree = trees.get(checkpoint.payload.format) ?? { frontier: emptyFrontier(), pending: 0 };
    tree.pending++;
    trees.set(checkpoint.payload.format, tree);
  }

  const report = (event: VerifiableEvent | undefined, reason: string, fallback?: { streamName: string }) => {
    const problem: IntegrityProblem = {
      streamName: event?.streamName ?? fallback?.streamName ?? '',
      revision: event?.revision.toString() ?? '',
      position: event?.position.toString() ?? '',
      eventId: event?.id ?? '',
      reason,
    };
    if (firstBroken === undefined) firstBroken = problem;
    if (problems.length < MAX_PROBLEMS) problems.push(problem);
  };

  const checkCheckpointsUpTo = (position: bigint | undefined) => {
    while (pending.length > 0 && (position === undefined || BigInt(pending[0]!.checkpoint.payload.position) < position)) {
      const { checkpoint, event } = pending.shift()!;
      const { payload } = checkpoint;
      const tree = trees.get(payload.format)!;
      if (--tree.pending === 0) trees.delete(payload.format);
      const signatureProblem = checkpointSignatureProblem(checkpoint, trustedKeyId);
      // A bad root cannot tell which leaf changed: it points at the first leaf it may be.
      const where = stretchStart ?? event;
      const root = merkleRoot(tree.frontier);
      if (signatureProblem !== undefined) {
        report(event, `checkpoint at position ${payload.position}: ${signatureProblem}`, { streamName: 'checkpoint' });
      } else if (BigInt(payload.leafCount) !== tree.frontier.leafCount || root !== payload.root) {
        report(
          where,
          `checkpoint at position ${payload.position} signed ${payload.leafCount} events with root ${payload.root} ` +
            `(${payload.format}), the log gives ${tree.frontier.leafCount} with root ${root}: an event up to that position was ` +
            `altered, removed, added or moved` +
            (payload.format === CHECKPOINT_FORMAT ? ', or its position or commit time changed' : '') +
            (stretchStart === undefined ? '' : ` (the stretch since the previous checkpoint starts here and ends at position ${payload.position})`),
          { streamName: 'checkpoint' },
        );
      } else {
        checkpointsVerified++;
        checkpointFormats[payload.format] = (checkpointFormats[payload.format] ?? 0) + 1;
        lastCheckpoint = { format: payload.format, position: payload.position, leafCount: payload.leafCount, root: payload.root, keyId: payload.keyId };
      }
      stretchStart = undefined;
    }
  };

  /**
   * An event whose position or commit time a leaf cannot encode is reported, and takes the legacy
   * leaf (of another length than any bound leaf's input), so the root cannot match either.
   */
  const leafOf = (format: CheckpointFormat, hash: string, event: VerifiableEvent): Buffer => {
    try {
      return checkpointLeaf(format, hash, event);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      report(event, `its position or commit time cannot be signed: ${error.message}`);
      return leafHash(Buffer.from(hash, 'hex'));
    }
  };

  const add = (event: VerifiableEvent) => {
    eventsChecked++;
    if (event.position <= lastPosition) report(event, `its position is not after the previous event's ${lastPosition}`);
    checkCheckpointsUpTo(event.position);
    lastPosition = event.position;
    if (latestRecorded !== undefined && event.created < latestRecorded.created) {
      report(
        latestRecorded,
        `it was recorded at ${latestRecorded.created.toISOString()}, after the event at position ${event.position} ` +
          `recorded at ${event.created.toISOString()} that follows it in the log: one of them was moved`,
      );
      latestRecorded = undefined;
    }
    if (latestRecorded === undefined || event.created >= latestRecorded.created) latestRecorded = event;
    if (!isChainedStream(event.streamName)) return;
    const previous = streams.get(event.streamName);
    const expectedRevision = previous === undefined ? 0n : previous.revision + 1n;
    if (event.revision > expectedRevision) {
      report(
        event,
        `the events at revisions ${expectedRevision}` +
          `${event.revision - 1n > expectedRevision ? `–${event.revision - 1n}` : ''} of ${event.streamName} are missing before it`,
      );
    } else if (event.revision < expectedRevision) {
      report(event, `revision ${event.revision} comes after revision ${expectedRevision - 1n} in the log: moved or duplicated`);
    }
    const fields = chainFieldsOf(event.metadata);
    let hash: string;
    if (fields === undefined) {
      if (hasChainFields(event.metadata)) report(event, 'its chain fields are malformed');
      else if (previous?.chained) report(event, 'it has no chain fields although its predecessor has: they were removed');
      unchainedEvents++;
      lastUnchainedPosition = event.position;
      hash = computeEventHash(event, null);
    } else {
      chainedEvents++;
      hash = computeEventHash(event, fields.prevHash);
      if (hash !== fields.hash) report(event, 'its content does not match its hash: altered');
      else if (fields.prevHash !== (previous?.hash ?? null) && event.revision === expectedRevision) {
        report(
          event,
          previous === undefined
            ? 'it links to a predecessor but is the first event of its stream'
            : `it does not link to the event before it (revision ${previous.revision}): that one was altered, removed or moved`,
        );
      }
    }
    // An unreadable checkpoint would otherwise just go unchecked, and with it the signature over
    // the events it alone covered.
    if (event.streamName === CHECKPOINT_STREAM && (event.type !== checkpointRecorded.type || checkpointOf(event.data) === undefined)) {
      report(event, `it is not a readable ${checkpointRecorded.type}: what it signed cannot be checked`);
    }
    streams.set(event.streamName, { revision: event.revision, hash, chained: fields !== undefined });
    if (isMerkleLeafStream(event.streamName)) {
      stretchStart ??= event;
      leafCount++;
      for (const [format, tree] of trees) addLeaf(tree.frontier, leafOf(format, hash, event));
    }
  };

  const finish = (): VerificationReport => {
    checkCheckpointsUpTo(undefined);
    streams.close();
    return {
      ok: firstBroken === undefined,
      eventsChecked,
      chainedEvents,
      unchainedEvents,
      lastUnchainedPosition: lastUnchainedPosition?.toString(),
      checkpointsVerified,
      checkpointFormats,
      lastCheckpoint,
      leavesAfterLastCheckpoint: Number(leafCount - BigInt(lastCheckpoint?.leafCount ?? '0')),
      firstBroken,
      problems,
    };
  };

  return { add, reportAt: (event, reason) => report(event, reason), finish, abandon: () => streams.close() };
};

/** The checkpoint an event of the checkpoint stream carries, or `undefined` when it is unreadable. */
export const checkpointOf = (data: JsonObject): Checkpoint | undefined => {
  const parsed = checkpointSchema.safeParse(data);
  return parsed.success ? parsed.data : undefined;
};

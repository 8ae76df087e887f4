import type { JsonObject, RecordedEvent } from '../eventStore/eventStore.js';
import { checkpointRecorded, checkpointSchema, checkpointSignatureProblem, type Checkpoint } from './checkpoints.js';
import { chainFieldsOf, CHECKPOINT_STREAM, computeEventHash, hasChainFields, isChainedStream, isMerkleLeafStream } from './eventHash.js';
import { addLeaf, emptyFrontier, merkleRoot } from './merkle.js';

/**
 * Verifies a log read in `$all` order, trusting nothing stored but the signatures: recomputes every
 * chained event's hash and link, checks each stream's revisions follow on, and recomputes the
 * Merkle root at every checkpoint and checks its signature. The same code checks the live store
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
  lastCheckpoint: { position: string; leafCount: string; root: string; keyId: string } | undefined;
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

const MAX_PROBLEMS = 100;

export interface LogVerifier {
  /** Each event of the log, in `$all` order. */
  add(event: VerifiableEvent): void;
  finish(): VerificationReport;
}

/**
 * @param checkpoints every checkpoint to check, in any order (read first, so each root is taken
 *   exactly at its position);
 * @param trustedKeyId when given, every checkpoint must be signed by this key.
 */
export const createLogVerifier = (
  checkpoints: readonly { checkpoint: Checkpoint; event?: VerifiableEvent }[],
  trustedKeyId?: string,
): LogVerifier => {
  const streams = new Map<string, StreamState>();
  const problems: IntegrityProblem[] = [];
  let firstBroken: IntegrityProblem | undefined;
  let eventsChecked = 0;
  let chainedEvents = 0;
  let unchainedEvents = 0;
  let lastUnchainedPosition: bigint | undefined;
  let checkpointsVerified = 0;
  let lastCheckpoint: VerificationReport['lastCheckpoint'];
  const frontier = emptyFrontier();
  let lastPosition = -1n;
  /** The latest commit time so far and its event: commit times never decrease along the log. */
  let latestRecorded: VerifiableEvent | undefined;
  /** The first event in the current stretch between two checkpoints: where a bad root points. */
  let stretchStart: VerifiableEvent | undefined;
  const pending = [...checkpoints].sort((a, b) => {
    const difference = BigInt(a.checkpoint.payload.position) - BigInt(b.checkpoint.payload.position);
    return difference < 0n ? -1 : difference > 0n ? 1 : 0;
  });

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
      const signatureProblem = checkpointSignatureProblem(checkpoint, trustedKeyId);
      // A bad root cannot tell which leaf changed: it points at the first leaf it may be.
      const where = stretchStart ?? event;
      if (signatureProblem !== undefined) {
        report(event, `checkpoint at position ${payload.position}: ${signatureProblem}`, { streamName: 'checkpoint' });
      } else if (BigInt(payload.leafCount) !== frontier.leafCount || merkleRoot(frontier) !== payload.root) {
        report(
          where,
          `checkpoint at position ${payload.position} signed ${payload.leafCount} events with root ${payload.root}, ` +
            `the log gives ${frontier.leafCount} with root ${merkleRoot(frontier)}: an event up to that position was ` +
            `altered, removed, added or moved${stretchStart === undefined ? '' : ' (the stretch since the previous checkpoint starts here)'}`,
          { streamName: 'checkpoint' },
        );
      } else {
        checkpointsVerified++;
        lastCheckpoint = { position: payload.position, leafCount: payload.leafCount, root: payload.root, keyId: payload.keyId };
      }
      stretchStart = undefined;
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
      addLeaf(frontier, hash);
    }
  };

  const finish = (): VerificationReport => {
    checkCheckpointsUpTo(undefined);
    return {
      ok: firstBroken === undefined,
      eventsChecked,
      chainedEvents,
      unchainedEvents,
      lastUnchainedPosition: lastUnchainedPosition?.toString(),
      checkpointsVerified,
      lastCheckpoint,
      leavesAfterLastCheckpoint: Number(frontier.leafCount - BigInt(lastCheckpoint?.leafCount ?? '0')),
      firstBroken,
      problems,
    };
  };

  return { add, finish };
};

/** The checkpoint an event of the checkpoint stream carries, or `undefined` when it is unreadable. */
export const checkpointOf = (data: JsonObject): Checkpoint | undefined => {
  const parsed = checkpointSchema.safeParse(data);
  return parsed.success ? parsed.data : undefined;
};

import { hasSoleWriter, type EventStore, type EventToAppend, type GlobalPosition } from '@folio/shared';
import { createCheckpointedLogFold } from '../recovery/checkpointedLogFold.js';
import { planOf } from './movement.js';
import type { MovementProcess } from './movementProcess.js';
import { createOpenJournals, type OpenJournal } from './openJournals.js';
import { decodeRecoveryCheckpoint, encodeRecoveryCheckpoint, RECOVERY_CHECKPOINT_STREAM } from './recoveryCheckpoint.js';

export interface StuckMovement extends OpenJournal {
  /** How long it has been open, in milliseconds. */
  ageMs: number;
  /** Whether this process is working on it right now. */
  running: boolean;
}

export interface MovementRecoveryOptions {
  eventStore: EventStore;
  process: MovementProcess;
  clock: () => Date;
  /** A movement open longer than this is reported as stuck (and resumed if no one runs it). */
  stuckAfterMs: number;
  /** How often stuck movements are looked for. */
  checkEveryMs: number;
  onStuck: (movements: StuckMovement[]) => void;
  onError: (error: unknown) => void;
  /** Something recovery worked around (a checkpoint it ignored or could not write). */
  onWarning: (message: string, error: unknown) => void;
  checkpoint?: Partial<RecoveryCheckpointSchedule>;
}

/**
 * When the open journals are checkpointed, once caught up: right after folding an event, when
 * `everyEvents` were folded since the last checkpoint or `everyMs` have passed since it (the first
 * event after a start checkpoints what the start folded); and on stop, unless the last event
 * folded was committed longer ago than that. A restart folds only the log after the latest checkpoint.
 *
 * A checkpoint is never written while the log is idle: it would become the head of the log long
 * after the last ledger event, and a projection lag measured against the head would look as old
 * as that idle time.
 */
export interface RecoveryCheckpointSchedule {
  everyEvents: number;
  everyMs: number;
}

export const DEFAULT_RECOVERY_CHECKPOINT_SCHEDULE: RecoveryCheckpointSchedule = { everyEvents: 10_000, everyMs: 30_000 };

const RESUME_ACTOR = 'folio:movement-recovery';

/**
 * Keeps the set of open journals current by following `$all` from the latest recovery checkpoint
 * (from the start without one), resumes every open one once it has caught up (after a crash those
 * are the interrupted movements; with several writers, every stuck one), then periodically reports
 * and resumes movements stuck longer than the threshold, and checkpoints the open journals so the
 * next start reads little of the log.
 */
export const createMovementRecovery = (options: MovementRecoveryOptions) => {
  const { eventStore, process, clock } = options;
  const schedule = { ...DEFAULT_RECOVERY_CHECKPOINT_SCHEDULE, ...options.checkpoint };
  const soleWriter = hasSoleWriter(eventStore);
  let journals = createOpenJournals();
  /** Events folded since the last checkpoint written. */
  let folded = 0;
  /** When the store committed the last event folded. */
  let lastFoldedCommit: Date | undefined;
  /** When the last checkpoint was written by this process (never yet: undefined). */
  let checkpointedAt: number | undefined;
  /** After a failed write, the next one waits until then. */
  let retryAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let caughtUp!: () => void;
  const ready = new Promise<void>((resolve) => {
    caughtUp = resolve;
  });

  const resumeOne = async (journal: OpenJournal): Promise<void> => {
    if (process.isRunning(journal.kind, journal.id)) return;
    try {
      await process.resume(
        planOf(journal.kind, journal.id, journal.movement),
        { correlationId: `${journal.kind}-${journal.id}`, actor: RESUME_ACTOR },
        { firstLegPosition: journal.firstLegPosition },
      );
    } catch (error) {
      options.onError(error);
    }
  };

  const stuck = (): StuckMovement[] => {
    const now = clock().getTime();
    return journals
      .list()
      .map((journal) => ({
        ...journal,
        ageMs: now - journal.openedAt.getTime(),
        running: process.isRunning(journal.kind, journal.id),
      }))
      .filter((journal) => journal.ageMs >= options.stuckAfterMs);
  };

  /** A failed write waits out the interval before the next one. */
  const retryLater = (): void => {
    retryAt = clock().getTime() + schedule.everyMs;
  };

  /**
   * Writes the open journals as they are now, with the position of the last event folded into
   * them. The snapshot is taken synchronously, between two events, so the two always agree; the
   * write runs in the background and a failed one is tried again at the next occasion.
   */
  const checkpoint = (): Promise<unknown> => {
    const position = log.position();
    const writing = log.writing();
    if (writing !== undefined || folded === 0 || position === undefined) return writing ?? Promise.resolve();
    const covered = folded;
    let event: EventToAppend;
    try {
      event = encodeRecoveryCheckpoint({ position, journals: journals.list() }, clock());
    } catch (error) {
      retryLater();
      options.onWarning('recovery checkpoint not written, tried again later', error);
      return Promise.resolve();
    }
    return log
      .write(event, {
        written: () => {
          folded -= covered;
          checkpointedAt = clock().getTime();
        },
        failed: retryLater,
      })
      .then((written) => {
        // Enough was folded during the write for another one (a failed write waits for the next occasion).
        if (written && !log.stopped() && folded >= schedule.everyEvents) void checkpoint();
      });
  };

  const checkpointDue = (now: number): boolean =>
    now >= retryAt &&
    (folded >= schedule.everyEvents || checkpointedAt === undefined || now - checkpointedAt >= schedule.everyMs);

  const log = createCheckpointedLogFold({
    eventStore,
    checkpoints: { streamName: RECOVERY_CHECKPOINT_STREAM, name: 'recovery checkpoint', decode: decodeRecoveryCheckpoint },
    filter: { streamNamePrefixes: ['account-', 'transfer-', 'deposit-', 'journal-'] },
    seed: (latest) => {
      journals = createOpenJournals(latest.journals);
      return latest.position;
    },
    apply: (event) => {
      journals.apply(event);
      lastFoldedCommit = event.created;
      folded += 1;
    },
    // Only events: `position` is the last event folded, what a checkpoint records.
    followsScans: false,
    moved: () => {
      if (log.caughtUp() && checkpointDue(clock().getTime())) void checkpoint();
    },
    caughtUp: async () => {
      // For a sole writer, whatever is open now was interrupted: nobody in this new process
      // runs it. With several writers, a movement opened lately is most likely running in
      // another process: it is resumed once stuck, its run presumed dead. A run racing a live
      // one would still follow the outcome that run chose (`MovementOutcomeChosen`), but only
      // add conflicts.
      await Promise.all((soleWriter ? journals.list() : stuck()).map(resumeOne));
      caughtUp();
    },
    onError: options.onError,
    onWarning: options.onWarning,
  });

  return {
    /** Starts following the log; resolves once interrupted movements have been resumed. */
    start(): Promise<void> {
      log.start();
      timer = setInterval(() => {
        const found = stuck();
        if (found.length === 0) return;
        options.onStuck(found);
        for (const journal of found) void resumeOne(journal);
      }, options.checkEveryMs);
      timer.unref();
      return ready;
    },
    /** Movements open longer than the threshold. */
    stuck,
    /** Every open movement: the money in transit right now. */
    open: () => journals.list(),
    /** The last event folded into the open journals, if any. */
    position: (): GlobalPosition | undefined => log.position(),
    /**
     * Resolves true once an event at or past `target` is folded (so `open` lists every movement
     * whose first leg is at or before it, for a `target` the position of an event it folds), false
     * after `timeoutMs`.
     */
    waitFor: (target: GlobalPosition, timeoutMs: number): Promise<boolean> => log.waitFor(target, timeoutMs),
    /** Stops following the log, checkpointing what was folded since the last checkpoint. */
    async stop(): Promise<void> {
      if (timer !== undefined) clearInterval(timer);
      await log.stop();
      const idleMs = lastFoldedCommit === undefined ? Infinity : clock().getTime() - lastFoldedCommit.getTime();
      if (log.caughtUp() && idleMs < schedule.everyMs) await checkpoint();
    },
  };
};

export type MovementRecovery = ReturnType<typeof createMovementRecovery>;

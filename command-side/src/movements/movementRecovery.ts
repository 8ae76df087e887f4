import { hasSoleWriter, StoreUnavailableError, SubscriptionDroppedError, type EventStore, type EventToAppend, type GlobalPosition } from '@folio/shared';
import { planOf } from './movement.js';
import type { MovementProcess } from './movementProcess.js';
import { createOpenJournals, type OpenJournal } from './openJournals.js';
import {
  encodeRecoveryCheckpoint,
  limitRecoveryCheckpoints,
  readLatestRecoveryCheckpoint,
  RECOVERY_CHECKPOINT_STREAM,
  type RecoveryCheckpoint,
} from './recoveryCheckpoint.js';

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
  /** The last event folded into `journals` (or the checkpoint they were seeded from). */
  let position: GlobalPosition | undefined;
  /** Events folded since the last checkpoint written. */
  let folded = 0;
  /** When the store committed the last event folded. */
  let lastFoldedCommit: Date | undefined;
  /** When the last checkpoint was written by this process (never yet: undefined). */
  let checkpointedAt: number | undefined;
  /** After a failed write, the next one waits until then. */
  let retryAt = 0;
  let caughtUpOnce = false;
  let stopped = false;
  let subscription: ReturnType<EventStore['subscribeToAll']> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> | undefined;
  let limited = false;
  let caughtUp!: () => void;
  const ready = new Promise<void>((resolve) => {
    caughtUp = resolve;
  });

  /** Callers waiting for the fold to reach a position (see `waitFor`). */
  let waiters: { target: GlobalPosition; resolve: (reached: boolean) => void }[] = [];
  const settleWaiters = (): void => {
    if (waiters.length === 0 || position === undefined) return;
    const reached = position;
    waiters = waiters.filter((waiter) => {
      if (waiter.target > reached) return true;
      waiter.resolve(true);
      return false;
    });
  };

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

  /**
   * Writes the open journals as they are now, with the position of the last event folded into
   * them. The snapshot is taken synchronously, between two events, so the two always agree; the
   * write runs in the background and a failed one is tried again at the next occasion.
   */
  const checkpoint = (): Promise<void> => {
    if (writing !== undefined || folded === 0 || position === undefined) return writing ?? Promise.resolve();
    const covered = folded;
    let event: EventToAppend;
    try {
      event = encodeRecoveryCheckpoint({ position, journals: journals.list() }, clock());
    } catch (error) {
      retryAt = clock().getTime() + schedule.everyMs;
      options.onWarning('recovery checkpoint not written, tried again later', error);
      return Promise.resolve();
    }
    writing = (async () => {
      let written = false;
      try {
        if (!limited) {
          limited = await limitRecoveryCheckpoints(eventStore).then(
            () => true,
            (error: unknown) => (options.onWarning('recovery checkpoint stream not limited', error), false),
          );
        }
        await eventStore.appendToStream(RECOVERY_CHECKPOINT_STREAM, [event], { expectedRevision: 'any' });
        folded -= covered;
        checkpointedAt = clock().getTime();
        written = true;
      } catch (error) {
        retryAt = clock().getTime() + schedule.everyMs;
        options.onWarning('recovery checkpoint not written, tried again later', error);
      } finally {
        writing = undefined;
      }
      // Enough was folded during the write for another one (a failed write waits for the next occasion).
      if (written && !stopped && folded >= schedule.everyEvents) void checkpoint();
    })();
    return writing;
  };

  const checkpointDue = (now: number): boolean =>
    now >= retryAt &&
    (folded >= schedule.everyEvents || checkpointedAt === undefined || now - checkpointedAt >= schedule.everyMs);

  /** A bad checkpoint is never trusted: recovery then folds the whole log, as without one. */
  const readCheckpoint = async (): Promise<RecoveryCheckpoint | undefined> => {
    try {
      return await readLatestRecoveryCheckpoint(eventStore);
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      options.onWarning('recovery checkpoint ignored, folding the whole log', error);
      return undefined;
    }
  };

  const follow = async (): Promise<void> => {
    let seeded = false;
    while (!stopped) {
      try {
        if (!seeded) {
          const latest = await readCheckpoint();
          if (latest !== undefined) {
            journals = createOpenJournals(latest.journals);
            position = latest.position;
          }
          seeded = true;
          if (stopped) return;
        }
        subscription = eventStore.subscribeToAll({
          fromPosition: position ?? 'start',
          filter: { streamNamePrefixes: ['account-', 'transfer-', 'deposit-', 'journal-'] },
        });
        for await (const run of subscription.runs()) {
          for (const message of run) {
            if (message.kind === 'event') {
              journals.apply(message.event);
              position = message.event.position;
              lastFoldedCommit = message.event.created;
              folded += 1;
              if (caughtUpOnce && checkpointDue(clock().getTime())) void checkpoint();
            } else if (message.kind === 'caughtUp' && !caughtUpOnce) {
              caughtUpOnce = true;
              // For a sole writer, whatever is open now was interrupted: nobody in this new process
              // runs it. With several writers, a movement opened lately is most likely running in
              // another process: it is resumed once stuck, its run presumed dead. A run racing a live
              // one would still follow the outcome that run chose (`MovementOutcomeChosen`), but only
              // add conflicts.
              await Promise.all((soleWriter ? journals.list() : stuck()).map(resumeOne));
              caughtUp();
              if (stopped) return;
            }
          }
          settleWaiters();
        }
        return;
      } catch (error) {
        if (!(error instanceof SubscriptionDroppedError)) options.onError(error);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  };

  return {
    /** Starts following the log; resolves once interrupted movements have been resumed. */
    start(): Promise<void> {
      void follow();
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
    position: (): GlobalPosition | undefined => position,
    /**
     * Resolves true once an event at or past `target` is folded (so `open` lists every movement
     * whose first leg is at or before it, for a `target` the position of an event it folds), false
     * after `timeoutMs`.
     */
    waitFor(target: GlobalPosition, timeoutMs: number): Promise<boolean> {
      if (position !== undefined && position >= target) return Promise.resolve(true);
      return new Promise((resolve) => {
        const waiter = { target, resolve };
        waiters.push(waiter);
        setTimeout(() => {
          waiters = waiters.filter((other) => other !== waiter);
          resolve(false);
        }, timeoutMs).unref();
      });
    },
    /** Stops following the log, checkpointing what was folded since the last checkpoint. */
    async stop(): Promise<void> {
      stopped = true;
      if (timer !== undefined) clearInterval(timer);
      await subscription?.unsubscribe();
      while (writing !== undefined) await writing;
      const idleMs = lastFoldedCommit === undefined ? Infinity : clock().getTime() - lastFoldedCommit.getTime();
      if (caughtUpOnce && idleMs < schedule.everyMs) await checkpoint();
    },
  };
};

export type MovementRecovery = ReturnType<typeof createMovementRecovery>;

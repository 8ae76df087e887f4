import { SubscriptionDroppedError, type EventStore, type GlobalPosition } from '@folio/shared';
import { planOf } from './movement.js';
import type { MovementProcess } from './movementProcess.js';
import { createOpenJournals, type OpenJournal } from './openJournals.js';

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
}

const RESUME_ACTOR = 'folio:movement-recovery';

/**
 * Keeps the set of open journals current by following `$all`, resumes every open one once it has
 * caught up (after a crash those are the interrupted movements), then periodically reports and
 * resumes movements stuck longer than the threshold.
 */
export const createMovementRecovery = (options: MovementRecoveryOptions) => {
  const { eventStore, process, clock } = options;
  const journals = createOpenJournals();
  let stopped = false;
  let subscription: ReturnType<EventStore['subscribeToAll']> | undefined;
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

  const follow = async (): Promise<void> => {
    let from: 'start' | GlobalPosition = 'start';
    let first = true;
    while (!stopped) {
      subscription = eventStore.subscribeToAll({
        fromPosition: from,
        filter: { streamNamePrefixes: ['account-', 'transfer-', 'deposit-', 'journal-'] },
      });
      try {
        for await (const message of subscription) {
          if (message.kind === 'event') {
            journals.apply(message.event);
            from = message.event.position;
          } else if (message.kind === 'caughtUp' && first) {
            first = false;
            // Whatever is open now was interrupted: nobody in this new process runs it.
            await Promise.all(journals.list().map(resumeOne));
            caughtUp();
          }
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
    async stop(): Promise<void> {
      stopped = true;
      if (timer !== undefined) clearInterval(timer);
      await subscription?.unsubscribe();
    },
  };
};

export type MovementRecovery = ReturnType<typeof createMovementRecovery>;

/**
 * Works on the items a checkpointed log fold holds open, each once it is due: what a crash, a
 * timeout or a store gone away left unfinished, finished without waiting for anyone to touch it.
 * Refund recovery (refunds awaiting the provider) and callback recovery (callbacks awaiting their
 * change) are such recoveries; each keeps what it folds, what working on an item does and what its
 * outcome means.
 */
import type { AnyEventDefinition, EventDataOf, EventFilter, EventStore, GlobalPosition, RecordedEvent } from '@folio/shared';
import { createCheckpointedLogFold, snapshotCheckpoints, type SnapshotCheckpointsSpec } from './checkpointedLogFold.js';

/** What a recovery of due items is given by the write API's composition. */
export interface DueWorkRecoveryOptions {
  eventStore: EventStore;
  clock: () => Date;
  /** An item still open this long after it opened is due. */
  retryAfterMs: number;
  /** How often due items are looked for. */
  checkEveryMs: number;
  /** Runs `check` every `everyMs` until the returned function is called (a timer by default). */
  every?: (check: () => void, everyMs: number) => () => void;
  /** Once the fold moves on, a checkpoint is written when this long has passed since the last one (or the start). */
  checkpointEveryMs: number;
  onError: (error: unknown) => void;
  onWarning: (message: string, error: unknown) => void;
}

/** What one recovery folds, and what it does with the items it holds open. */
export interface DueWork<Item, Definition extends AnyEventDefinition, Outcome> {
  /** The snapshots of the open items, written on the fold's schedule every `checkpointEveryMs`. */
  checkpoints: Omit<SnapshotCheckpointsSpec<Definition>, 'everyMs' | 'clock'>;
  /** The events that open and end items. */
  filter: EventFilter;
  /** Seeds the open items from the latest snapshot; returns the position it reflects. */
  seed: (latest: EventDataOf<Definition>) => GlobalPosition;
  /** Folds one event into the open items. */
  apply: (event: RecordedEvent) => void;
  /** The items open now, as far as the log is folded. */
  open: () => readonly Item[];
  /** What tells one item from another in the attempts kept of it. */
  keyOf: (item: Item) => string;
  /** When the item opened (an ISO time): it is first due `retryAfterMs` after. */
  openedAt: (item: Item) => string;
  /** Works on one item: throws while it cannot be done, and is then tried again later. */
  work: (item: Item) => Promise<Outcome>;
  /** What the outcome of a work that did not throw means. */
  worked?: (item: Item, outcome: Outcome) => void;
  /** The warning logged when the work on the item throws. */
  failed: (item: Item) => string;
  /** At every pass, once it no longer waits for the fold, before it reads the open items. */
  passing?: () => void;
  /** At every pass, with the keys of the items open: what the recovery keeps by key of the others can go. */
  pruned?: (openKeys: ReadonlySet<string>) => void;
  /**
   * A pass once the fold first reaches the head of the log, which `start` resolves after: over
   * every open item (`all`) or those due (`due`) with `work`, or a pass of its own over the items
   * open then (whose failure is reported). Without it, `start` resolves at once and the periodic
   * check runs from then.
   */
  atStart?: 'all' | 'due' | ((open: readonly Item[]) => Promise<void>);
}

/** Work still failing is tried again later each time, up to this long after the last attempt. */
const MAX_BACKOFF_MS = 3_600_000;

/** How long a pass waits for the fold to reach the head of the log before working on what it has. */
const CATCH_UP_WAIT_MS = 5_000;

const everyInterval = (check: () => void, everyMs: number) => {
  const timer = setInterval(check, everyMs);
  timer.unref();
  return () => clearInterval(timer);
};

/**
 * Follows the log from the latest snapshot, keeping the open items current, whichever process
 * opened them, and works on those due one at a time (what an item needs, a provider or the store,
 * is not stormed). An item is due `retryAfterMs` after it opened; worked on and failing, it waits
 * twice as long each time before the next attempt, up to an hour.
 */
export const createDueWorkRecovery = <Item, Definition extends AnyEventDefinition, Outcome = void>(
  options: DueWorkRecoveryOptions,
  due: DueWork<Item, Definition, Outcome>,
) => {
  const { clock, retryAfterMs } = options;
  let cancelChecks: (() => void) | undefined;
  /** Resolved on stop: a pass waiting for the fold goes on with what it has. */
  let endWaits!: () => void;
  const waitsEnded = new Promise<void>((resolve) => {
    endWaits = resolve;
  });
  let started!: () => void;
  const ready = new Promise<void>((resolve) => {
    started = resolve;
  });
  /** Failed attempts in a row and when the next one is due, by key. */
  const attempts = new Map<string, { failures: number; nextAt: number }>();
  const running = new Set<string>();
  /** The pass running now: a check while one runs joins it. */
  let pass: Promise<void> | undefined;

  const dueAt = (item: Item) => attempts.get(due.keyOf(item))?.nextAt ?? Date.parse(due.openedAt(item)) + retryAfterMs;
  const isDue = (item: Item) => clock().getTime() >= dueAt(item);

  const workOn = async (item: Item) => {
    const key = due.keyOf(item);
    running.add(key);
    try {
      const outcome = await due.work(item);
      attempts.delete(key);
      due.worked?.(item, outcome);
    } catch (error) {
      options.onWarning(due.failed(item), error);
      const failures = (attempts.get(key)?.failures ?? 0) + 1;
      const wait = Math.max(retryAfterMs, Math.min(MAX_BACKOFF_MS, retryAfterMs * 2 ** failures));
      attempts.set(key, { failures, nextAt: clock().getTime() + wait });
    } finally {
      running.delete(key);
    }
  };

  /** Works on the items `chosen` picks, one at a time, until the fold stops. */
  const passOver = async (chosen: (item: Item) => boolean, catchUp: boolean): Promise<void> => {
    if (catchUp) await Promise.race([log.waitForHead(CATCH_UP_WAIT_MS), waitsEnded]);
    due.passing?.();
    const open = due.open();
    const openKeys = new Set(open.map(due.keyOf));
    for (const key of attempts.keys()) if (!openKeys.has(key)) attempts.delete(key);
    due.pruned?.(openKeys);
    for (const item of open) {
      if (log.stopped()) return;
      if (running.has(due.keyOf(item)) || !chosen(item)) continue;
      await workOn(item);
    }
  };

  const recover = (chosen: (item: Item) => boolean, catchUp: boolean): Promise<void> =>
    (pass ??= passOver(chosen, catchUp)
      .catch(options.onError)
      .finally(() => {
        pass = undefined;
      }));

  const startChecks = () => {
    cancelChecks = (options.every ?? everyInterval)(() => void recover(isDue, true), options.checkEveryMs);
  };

  const { atStart } = due;
  const log = createCheckpointedLogFold({
    eventStore: options.eventStore,
    ...snapshotCheckpoints({ ...due.checkpoints, everyMs: options.checkpointEveryMs, clock }),
    filter: due.filter,
    seed: due.seed,
    apply: (recorded) => {
      // Reported and passed over: thrown, it would drop the subscription, and the log followed
      // again after the last position would hold it again.
      try {
        due.apply(recorded);
      } catch (error) {
        options.onError(error);
      }
    },
    // Everything up to the position is folded, events delivered or scanned and filtered out, so a
    // pass waiting for the head of the log is not held up by events the fold leaves out.
    followsScans: true,
    ...(atStart === undefined
      ? {}
      : {
          caughtUp: async () => {
            // A pass asked for meanwhile ends first; then this one, at the head as it was: the fold
            // waits for it, so it must not wait for the fold.
            while (pass !== undefined) await pass;
            if (typeof atStart === 'function') await atStart(due.open()).catch(options.onError);
            else await recover(atStart === 'all' ? () => true : isDue, false);
            if (!log.stopped()) startChecks();
            started();
          },
        }),
    onError: options.onError,
    onWarning: options.onWarning,
  });

  return {
    /** Starts following the log; resolves once the pass `atStart` asks for ends (at once without one). */
    start(): Promise<void> {
      log.start();
      if (atStart === undefined) {
        startChecks();
        started();
      }
      return ready;
    },
    /** One pass over the items due now (the periodic check runs the same); resolves when it ends. */
    recoverDue: (): Promise<void> => recover(isDue, true),
    async stop(): Promise<void> {
      cancelChecks?.();
      // With the last checkpoint: a checkpoint written meanwhile or at stop holds the items as folded.
      await log.stop();
      // A pass waiting for the fold goes on with what it has, and stops before the next item.
      endWaits();
      await pass;
    },
  };
};

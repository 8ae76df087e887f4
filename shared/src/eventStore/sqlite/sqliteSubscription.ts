import {
  filterAdmits,
  type GlobalPosition,
  type SubscribeToAllOptions,
  type Subscription,
  type SubscriptionMessage,
} from '../eventStore.js';
import { requireCheckpointInterval, requireInRange } from '../argumentChecks.js';
import { SubscriptionDroppedError } from '../errors.js';
import { positionOfRow, recordedEventOfRow, streamNameOfRow, typeOfRow, type EventRowValues } from './eventRows.js';

/** What the store keeps of a live subscription, to wake it on commit or drop it. */
export interface SubscriptionHub {
  notify(): void;
  drop(reason?: Error): void;
  close(): void;
}

export interface SqliteSubscriptionDeps {
  options: SubscribeToAllOptions;
  /** Committed rows strictly after `after`, in position order; only those delivered are decoded. */
  readAfter(after: GlobalPosition, limit: number): readonly EventRowValues[];
  headPosition(): GlobalPosition | undefined;
  register(hub: SubscriptionHub): void;
  unregister(hub: SubscriptionHub): void;
  /** Another process may write the same file; polling finds its commits. */
  pollIntervalMs: number;
}

const PAGE_SIZE = 256;
const DEFAULT_CHECKPOINT_INTERVAL = 32;

/**
 * A catch-up subscription that always reads committed rows from the database, after the last
 * position it scanned. Catch-up and live are the same loop, so the switch can neither skip nor
 * repeat an event; "live" only means it waits for a commit notification (or a poll) between pages.
 */
export const createSqliteSubscription = (deps: SqliteSubscriptionDeps): Subscription => {
  const { options } = deps;
  const checkpointInterval = requireCheckpointInterval(options.checkpointInterval, DEFAULT_CHECKPOINT_INTERVAL);
  const from = options.fromPosition ?? 'start';
  if (typeof from === 'bigint') requireInRange(from, 'position');
  // 'end' is resolved now, so events committed after this call are delivered.
  let scanned: GlobalPosition = from === 'start' ? -1n : from === 'end' ? (deps.headPosition() ?? -1n) : from;

  let closed = false;
  let dropped: Error | undefined;
  let wake: (() => void) | undefined;
  let pendingNotification = false;

  const hub: SubscriptionHub = {
    notify() {
      pendingNotification = true;
      wake?.();
    },
    drop(reason) {
      dropped = reason ?? new Error('subscription dropped by the store');
      deps.unregister(hub);
      wake?.();
    },
    close() {
      closed = true;
      deps.unregister(hub);
      wake?.();
    },
  };
  deps.register(hub);

  const waitForCommit = () =>
    new Promise<void>((resolve) => {
      if (pendingNotification || closed || dropped) return resolve();
      const timer = setTimeout(done, deps.pollIntervalMs);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  /** One run per read of the log: its events and checkpoints, and whether the read reached the head. */
  async function* runs(): AsyncGenerator<SubscriptionMessage[]> {
    let live = false;
    let lastDelivered: GlobalPosition | undefined;
    let sinceCheckpoint = 0;
    try {
      while (true) {
        if (dropped) throw new SubscriptionDroppedError(dropped.message, { cause: dropped });
        if (closed) return;
        pendingNotification = false;
        const page = deps.readAfter(scanned, PAGE_SIZE);
        const run: SubscriptionMessage[] = [];
        if (page.length === PAGE_SIZE && live) {
          live = false;
          run.push({ kind: 'fellBehind' });
        }
        for (const row of page) {
          scanned = positionOfRow(row);
          if (filterAdmits(options.filter, streamNameOfRow(row), typeOfRow(row))) {
            lastDelivered = scanned;
            sinceCheckpoint = 0;
            run.push({ kind: 'event', event: recordedEventOfRow(row) });
          } else if (++sinceCheckpoint >= checkpointInterval) {
            sinceCheckpoint = 0;
            run.push({ kind: 'checkpoint', position: scanned });
          }
        }
        if (page.length < PAGE_SIZE) {
          // At the head: filtered-out events scanned since the last message are reported, so a
          // consumer's position (and its lag) is right while the log is idle.
          if (sinceCheckpoint > 0) {
            sinceCheckpoint = 0;
            run.push({ kind: 'checkpoint', position: scanned });
          }
          if (!live) {
            live = true;
            run.push({ kind: 'caughtUp', position: lastDelivered });
          }
        }
        if (run.length > 0) yield run;
        if (dropped || closed) continue;
        if (page.length < PAGE_SIZE) await waitForCommit();
      }
    } finally {
      closed = true;
      deps.unregister(hub);
    }
  }

  async function* messages(source: AsyncIterator<SubscriptionMessage[]>): AsyncGenerator<SubscriptionMessage> {
    // Returning early returns the runs too, which unregisters the subscription.
    for await (const run of { [Symbol.asyncIterator]: () => source }) {
      for (const message of run) {
        // Nothing more once unsubscribed or dropped: the next run ends the iteration or throws.
        if (closed || dropped) break;
        yield message;
      }
    }
  }

  const runIterator = runs();
  const messageIterator = messages(runIterator);
  return {
    [Symbol.asyncIterator]: () => messageIterator,
    runs: () => runIterator,
    async unsubscribe() {
      hub.close();
    },
  };
};

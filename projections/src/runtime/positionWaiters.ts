import type { GlobalPosition } from '@folio/shared';
import type { ProjectorStatus } from './projector.js';
import { slowestPosition } from './slowestPosition.js';

/** The statuses of the read models named (all of them without names). */
export const statusesOf = (statuses: readonly ProjectorStatus[], names?: readonly string[]): readonly ProjectorStatus[] =>
  names === undefined ? statuses : statuses.filter(({ name }) => names.includes(name));

/**
 * Readers waiting for read models to reach a position: each waits only for the read models it
 * names, so a read of one model is not held back by another still catching up (a new version
 * being built, say). `wake` is called whenever positions move.
 */
export const createPositionWaiters = (statuses: () => readonly ProjectorStatus[]) => {
  const waiters = new Set<{ target: GlobalPosition; names: readonly string[] | undefined; resolve: () => void }>();
  const reached = (current: readonly ProjectorStatus[], target: GlobalPosition, names: readonly string[] | undefined): boolean => {
    const slowest = slowestPosition(statusesOf(current, names));
    return slowest !== undefined && slowest >= target;
  };
  return {
    /** Resolves true once the named read models (all without names) reflect `target`, or false after `timeoutMs`. */
    waitFor(target: GlobalPosition, timeoutMs: number, names?: readonly string[]): Promise<boolean> {
      if (reached(statuses(), target, names)) return Promise.resolve(true);
      return new Promise((resolve) => {
        const waiter = { target, names, resolve: () => resolve(true) };
        waiters.add(waiter);
        setTimeout(() => {
          if (waiters.delete(waiter)) resolve(false);
        }, timeoutMs).unref();
      });
    },
    wake(): void {
      if (waiters.size === 0) return;
      const current = statuses();
      for (const waiter of waiters) {
        if (reached(current, waiter.target, waiter.names)) {
          waiters.delete(waiter);
          waiter.resolve();
        }
      }
    },
  };
};

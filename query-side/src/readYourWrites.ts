/**
 * Read-your-writes (DESIGN, "Consistency for readers"): a reader passes the `position` a write
 * answered with, and the read waits, bounded, until every read model reflects it. The wait itself
 * is the projections' (`readModelWait.ts`): the write side waits the same way.
 */
import type { GlobalPosition } from '@folio/shared';
import {
  PositionNotWrittenError,
  ReadModelBehindError,
  statusesOf,
  waitForPosition,
  type ProjectorStatus,
  type ReadModelProgress,
  type WaitLog,
  type WaitOptions,
} from '@folio/projections';

/** What the read API needs of the projections: how far they are, and a way to wait for them. */
export type { ReadModelProgress };
export {
  DEFAULT_READ_WAIT_MS,
  PositionNotWrittenError,
  ReadModelBehindError,
  readWaitMsFromEnvironment,
  waitForPosition,
  type WaitLog,
  type WaitOptions,
} from '@folio/projections';

/** The position every read model reflects at least, on every response. */
export const READ_POSITION_HEADER = 'Folio-Read-Position';

/** The header's value; `-1` (below every position) before the read models reflect any event. */
export const formatReadPosition = (position: GlobalPosition | undefined): string => (position ?? -1n).toString();

/**
 * What an answer reads beside the read models that follows the log on its own (the accounts of
 * each holder, as the credential directory knows them): a read waiting for a position waits for
 * it too, within the same bound.
 */
export interface LogFollower {
  /** As a read model's: what a `read-model-behind` answer names, and the filter that tells the events it skips. */
  status(): ProjectorStatus;
  /** Resolves true once it reflects `target`, or false after `timeoutMs`. */
  waitFor(target: GlobalPosition, timeoutMs: number): Promise<boolean>;
}

/** A follower as the progress of one read model, for the projections' wait. */
const progressOf = (follower: LogFollower): ReadModelProgress => ({
  status: () => [follower.status()],
  waitFor: (target, timeoutMs) => follower.waitFor(target, timeoutMs),
});

/**
 * Whether a follower reflects `position` within `waitMs`. It takes few events, so a write's
 * position is nearly always one it skips, and an idle EventStoreDB head leaves it at the last event
 * it took: each time it moves, the projections' wait is asked again whether only events it skips
 * remain up to the position. Already there, it reads nothing.
 */
const followerReflects = async (follower: LogFollower, position: GlobalPosition, waitMs: number, log: WaitLog | undefined): Promise<boolean> => {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const at = follower.status().position;
    if (at !== undefined && at >= position) return true;
    if (log === undefined) return follower.waitFor(position, Math.max(0, deadline - Date.now()));
    try {
      await waitForPosition(progressOf(follower), position, 0, { log });
      return true;
    } catch (error) {
      // Behind, or the position not at the head yet (the read models' wait judges that).
      if (!(error instanceof ReadModelBehindError || error instanceof PositionNotWrittenError)) throw error;
    }
    const left = deadline - Date.now();
    if (left <= 0 || !(await follower.waitFor(at === undefined ? 0n : at + 1n, left))) return false;
  }
};

/**
 * `waitForPosition`, and the followers within the same bound: past it, `read-model-behind` names
 * them beside the read models.
 */
export const waitForPositionWithFollowers = async (
  progress: ReadModelProgress,
  position: GlobalPosition,
  waitMs: number,
  { followers = [], ...options }: WaitOptions & { followers?: readonly LogFollower[] },
): Promise<void> => {
  const [, ...reflected] = await Promise.all([
    waitForPosition(progress, position, waitMs, options),
    ...followers.map((follower) => followerReflects(follower, position, waitMs, options.log)),
  ]);
  if (reflected.every(Boolean)) return;
  throw new ReadModelBehindError(position, waitMs, [...statusesOf(progress.status(), options.names), ...followers.map((follower) => follower.status())]);
};

/**
 * Read-your-writes (DESIGN, "Consistency for readers"): a reader passes the `position` a write
 * answered with, and the read waits, bounded, until every read model reflects it. The wait itself
 * is the projections' (`readModelWait.ts`): the write side waits the same way.
 */
import type { GlobalPosition } from '@folio/shared';
import { statusesOf, waitForPosition, type ProjectorStatus, type ReadModelProgress, type WaitOptions } from '@folio/projections';

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

/**
 * The read models named and the followers as one progress: each is judged on the events it takes,
 * so a follower taking few events (a write's position is nearly always one it skips) reflects a
 * position once it has taken the last event it takes before it.
 */
const withFollowers = (progress: ReadModelProgress, names: readonly string[] | undefined, followers: readonly LogFollower[]): ReadModelProgress => {
  const followerNames = new Set(followers.map((follower) => follower.status().name));
  return {
    status: () => [...statusesOf(progress.status(), names), ...followers.map((follower) => follower.status())],
    waitFor: async (target, timeoutMs, only) => {
      const modelNames = only === undefined ? names : only.filter((name) => !followerNames.has(name));
      const waited = followers.filter((follower) => only === undefined || only.includes(follower.status().name));
      const reached = await Promise.all([
        modelNames === undefined || modelNames.length > 0 ? progress.waitFor(target, timeoutMs, modelNames) : true,
        ...waited.map((follower) => follower.waitFor(target, timeoutMs)),
      ]);
      return reached.every(Boolean);
    },
  };
};

/**
 * `waitForPosition`, and the followers within the same bound: past it, `read-model-behind` names
 * them beside the read models.
 */
export const waitForPositionWithFollowers = (
  progress: ReadModelProgress,
  position: GlobalPosition,
  waitMs: number,
  { followers = [], names, ...options }: WaitOptions & { followers?: readonly LogFollower[] },
): Promise<void> =>
  followers.length === 0
    ? waitForPosition(progress, position, waitMs, { ...options, ...(names === undefined ? {} : { names }) })
    : waitForPosition(withFollowers(progress, names, followers), position, waitMs, options);

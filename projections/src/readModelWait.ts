/**
 * Waiting, bounded, for the read models to reflect a position of the log: a reader's own write
 * (DESIGN, "Consistency for readers"), or the head of the log for the write side's exception
 * workflow, which judges discrepancies on the reconciliation read model.
 */
import { FolioError, ValidationError, type EventStore, type GlobalPosition } from '@folio/shared';
import { statusesOf } from './runtime/positionWaiters.js';
import type { ProjectorStatus } from './runtime/projector.js';
import { slowestPosition } from './runtime/slowestPosition.js';
import type { ReadModelProgress } from './servedVersions.js';

/** How long a read waits for the read models by default (`FOLIO_READ_WAIT_MS`). */
export const DEFAULT_READ_WAIT_MS = 2_000;
const MAX_READ_WAIT_MS = 60_000;

/** The read models did not reach the position a reader asked for within the wait bound. */
export class ReadModelBehindError extends FolioError {
  readonly type = 'read-model-behind';
  readonly status = 503;
  /** Seconds the client should wait before retrying (the `Retry-After` header). */
  override readonly retryAfterSeconds = 1;

  constructor(
    readonly requestedPosition: GlobalPosition,
    readonly waitedMs: number,
    readonly projectors: readonly ProjectorStatus[],
    /** Why the position matters, for the detail: by default, a reader's own write. */
    consequence = 'this answer would not include that write yet',
  ) {
    const reached = slowestPosition(projectors);
    super(
      `the read models have not caught up with position ${requestedPosition} within ${waitedMs} ms ` +
        `(they reflect position ${reached ?? 'none yet'}): ${consequence}, so retry later`,
    );
  }

  override problemExtensions(): Record<string, unknown> {
    return {
      requestedPosition: this.requestedPosition.toString(),
      readPosition: slowestPosition(this.projectors)?.toString() ?? null,
      waitedMs: this.waitedMs,
      projections: this.projectors.map(({ name, position, caughtUp }) => ({
        name,
        position: position?.toString() ?? null,
        caughtUp,
      })),
    };
  }
}

/**
 * A position no write can have answered with: it lies past the head of the log. Retrying would
 * never help, so it is the caller's mistake (a position from another deployment, or mistyped).
 */
export class PositionNotWrittenError extends ValidationError {
  constructor(
    readonly position: GlobalPosition,
    readonly head: GlobalPosition | undefined,
  ) {
    const where = head === undefined ? 'the log is empty' : `the head of the log is ${head}`;
    super(`invalid request query: query.position: ${position} was never written (${where})`, [
      { path: 'query.position', message: `beyond the head of the log (${head ?? 'empty'}): no write answered with it` },
    ]);
  }
}

/** The log, as a wait reads it to learn whether anything the read models take lies ahead. */
export type WaitLog = Pick<EventStore, 'readAll' | 'headPosition'>;

/**
 * Each read model that takes an event up to `target` it does not reflect yet, with the first such
 * event; none when the events between each one's position and `target` are all ones it skips. An
 * EventStoreDB filtered subscription reports nothing at an idle head, so a read model stays at its
 * last event while events it skips (keys, devices, audit checkpoints, idempotency records) are
 * appended after it; a wait for such an event's position would otherwise wait out the bound.
 */
const unreflectedUpTo = async (
  log: WaitLog,
  statuses: readonly ProjectorStatus[],
  target: GlobalPosition,
): Promise<{ name: string; next: GlobalPosition }[]> => {
  const ahead: { name: string; next: GlobalPosition }[] = [];
  for (const { name, position, filter } of statuses) {
    if (position !== undefined && position >= target) continue;
    // `fromPosition` is inclusive: the event at the read model's own position may come first.
    for await (const event of log.readAll({ fromPosition: position ?? 'start', filter, maxCount: 2 })) {
      if (position !== undefined && event.position <= position) continue;
      if (event.position <= target) ahead.push({ name, next: event.position });
      break;
    }
  }
  return ahead;
};

/**
 * Whether, by `deadline`, every read model named reflects every event it takes up to `target`
 * (`target` at most the head). Reaching the next event it takes is not reaching `target`: events
 * it skips may follow, which it never reports; so each time one moves, what lies ahead is looked
 * at again.
 */
const reflectsBy = async (
  progress: ReadModelProgress,
  log: WaitLog,
  target: GlobalPosition,
  deadline: number,
  names: readonly string[] | undefined,
): Promise<boolean> => {
  for (;;) {
    const ahead = await unreflectedUpTo(log, statusesOf(progress.status(), names), target);
    if (ahead.length === 0) return true;
    // Each waits for its own next event only: another may stay short of it for good, past events it skips.
    const reached = await Promise.all(ahead.map(({ name, next }) => progress.waitFor(next, Math.max(0, deadline - Date.now()), [name])));
    if (!reached.every(Boolean)) return false;
  }
};

export interface WaitOptions {
  /** With the log, a wait tells a position past only skipped events, or past the head, at once. */
  log?: WaitLog;
  /** The read models the answer reads (all without names): no other one holds the read back. */
  names?: readonly string[];
}

/**
 * Waits until the read models reflect `position`; throws `ReadModelBehindError` past `waitMs`.
 * With the log, a read model is judged on the events it takes: one short of `position` past only
 * events it skips reflects it (at once, or once it takes the last event it does take before it).
 * A position beyond the head is waited for until the bound, then refused if still beyond it
 * (`PositionNotWrittenError`): the head is read once more then, so a log node a moment behind the
 * one that answered the write refuses nothing.
 */
export const waitForPosition = async (
  progress: ReadModelProgress,
  position: GlobalPosition,
  waitMs: number,
  { log, names }: WaitOptions = {},
): Promise<void> => {
  if (await progress.waitFor(position, 0, names)) return;
  const behind = () => new ReadModelBehindError(position, waitMs, statusesOf(progress.status(), names));
  if (log === undefined) {
    if (await progress.waitFor(position, waitMs, names)) return;
    throw behind();
  }
  const deadline = Date.now() + waitMs;
  const head = await log.headPosition();
  if (head === undefined || head < position) {
    if (await progress.waitFor(position, waitMs, names)) return;
    const later = await log.headPosition();
    if (later === undefined || position > later) throw new PositionNotWrittenError(position, later);
  }
  if (await reflectsBy(progress, log, position, deadline, names)) return;
  throw behind();
};

/**
 * Waits until the read models named (all without names) reflect every event they take up to the
 * head of the log as it is now; throws `ReadModelBehindError` past `waitMs`. Caught up, it costs a
 * read of the head, and at most a couple of events read after each read model's position.
 */
export const waitForHead = async (
  progress: ReadModelProgress,
  log: WaitLog,
  waitMs: number,
  names?: readonly string[],
  /** Why the head matters, for the detail of the error. */
  consequence = 'what they show may miss what the log holds',
): Promise<void> => {
  const head = await log.headPosition();
  if (head === undefined || (await progress.waitFor(head, 0, names))) return;
  if (!(await reflectsBy(progress, log, head, Date.now() + waitMs, names)))
    throw new ReadModelBehindError(head, waitMs, statusesOf(progress.status(), names), consequence);
};

/** `FOLIO_READ_WAIT_MS` from the environment; a bad value stops start-up with the variable named. */
export const readWaitMsFromEnvironment = (environment: NodeJS.ProcessEnv = process.env): number => {
  const text = environment.FOLIO_READ_WAIT_MS;
  if (text === undefined || text === '') return DEFAULT_READ_WAIT_MS;
  const value = /^[0-9]{1,6}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= 1 && value <= MAX_READ_WAIT_MS)) {
    const message = `expected milliseconds from 1 to ${MAX_READ_WAIT_MS}, got ${JSON.stringify(text)}`;
    throw new ValidationError(`invalid configuration: FOLIO_READ_WAIT_MS: ${message}`, [{ path: 'FOLIO_READ_WAIT_MS', message }]);
  }
  return value;
};

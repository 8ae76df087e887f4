import { z } from 'zod';
import type { DocumentStore, EventStore, ProjectionFailing } from '@folio/shared';
import { CHECKPOINTS_COLLECTION, type ProjectionDefinition } from './projection.js';
import type { ProjectorStatus } from './projector.js';
import { createPositionWaiters } from './positionWaiters.js';

export interface StoredProgressOptions {
  documents: DocumentStore;
  eventStore: Pick<EventStore, 'headPosition'>;
  definitions: readonly ProjectionDefinition[];
  /** How often the checkpoints are read again. */
  pollMs?: number;
  /** Where failures to read them, and their end, are told. */
  logger: StoredProgressLogger;
  /** How often a failure that lasts is told again. */
  failingReminderMs?: number;
  /** The time failures are counted from: the system's, or a test's. */
  now?: () => number;
}

/** The part of a logger (pino's) the stored progress writes to. */
export interface StoredProgressLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
}

const DEFAULT_FAILING_REMINDER_MS = 60_000;

/**
 * What a reader of the checkpoints needs of one: how far its read model reflects the log, and
 * whether it has ever caught up with it (false for checkpoints stored before that was recorded).
 */
export const storedCheckpointSchema = z.object({
  position: z.string().regex(/^\d+$/).transform(BigInt),
  lastEventAt: z.iso.datetime({ offset: true }).nullable(),
  caughtUpOnce: z.boolean().default(false),
});

/**
 * The projections' progress as their stored checkpoints tell it: what a query side running apart
 * from the projectors knows of them. It polls the checkpoints (and the head of the log, for the
 * caught-up flag) and offers the same `status` and `waitFor` as the projectors themselves. While
 * the checkpoints cannot be read, every read model is `failing`: this process cannot read them
 * either, though what it last read shows no lag.
 */
export const createStoredProgress = ({
  documents,
  eventStore,
  definitions,
  pollMs = 100,
  logger,
  failingReminderMs = DEFAULT_FAILING_REMINDER_MS,
  now = Date.now,
}: StoredProgressOptions) => {
  let statuses: ProjectorStatus[] = definitions.map(({ name, filter }) => ({
    name,
    position: undefined,
    caughtUp: false,
    lastEventAt: undefined,
    filter,
  }));
  const waiters = createPositionWaiters(() => statuses);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let failing: ProjectionFailing | undefined;
  /** When a failure that lasts was last told. */
  let toldAt = 0;
  const secondsSince = (since: Date): number => Math.round((now() - since.getTime()) / 1000);

  /**
   * A poll fails every `pollMs` while the store is away: told when it starts, then every
   * `failingReminderMs` at most, and once it ends.
   */
  const recordFailure = (error: unknown): void => {
    const lastError = error instanceof Error ? error.message : String(error);
    if (failing === undefined) {
      failing = { since: new Date(now()), failures: 1, lastError };
      toldAt = now();
      logger.warn({ err: error }, 'reading projection checkpoints failed: every read model reads as failing until they can be read again');
      return;
    }
    failing = { ...failing, failures: failing.failures + 1, lastError };
    if (now() - toldAt < failingReminderMs) return;
    toldAt = now();
    logger.warn(
      { failingSeconds: secondsSince(failing.since), failures: failing.failures, lastError },
      'reading projection checkpoints still fails',
    );
  };
  const recordRecovery = (): void => {
    if (failing === undefined) return;
    logger.info({ failedSeconds: secondsSince(failing.since), failures: failing.failures }, 'reading projection checkpoints works again');
    failing = undefined;
  };

  const refresh = async (): Promise<void> => {
    const head = await eventStore.headPosition();
    statuses = await Promise.all(
      definitions.map(async ({ name, version, filter }) => {
        const document = await documents.get(CHECKPOINTS_COLLECTION, `${name}_v${version}`);
        const stored = document === undefined ? undefined : storedCheckpointSchema.parse(document);
        const position = stored?.position;
        return {
          name,
          position,
          caughtUp: head === undefined || (position !== undefined && position >= head),
          lastEventAt: stored?.lastEventAt ? new Date(stored.lastEventAt) : undefined,
          filter,
        };
      }),
    );
    recordRecovery();
    waiters.wake();
  };

  const poll = (): void => {
    if (stopped) return;
    refresh()
      .catch(recordFailure)
      .finally(() => {
        if (!stopped) timer = setTimeout(poll, pollMs);
      });
  };

  return {
    /** Reads the checkpoints once, then keeps them fresh in the background. */
    start: async (): Promise<void> => {
      await refresh();
      timer = setTimeout(poll, pollMs);
    },
    status: (): ProjectorStatus[] => {
      const unread = failing;
      return unread === undefined ? statuses : statuses.map((status) => ({ ...status, failing: unread }));
    },
    waitFor: waiters.waitFor,
    stop: (): void => {
      stopped = true;
      clearTimeout(timer);
    },
  };
};

export type StoredProgress = ReturnType<typeof createStoredProgress>;

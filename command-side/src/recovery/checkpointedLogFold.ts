/**
 * A fold of part of the log kept current in the write-side process by following `$all`, and
 * checkpointed on a stream of its own so that a start folds only the log after the latest
 * checkpoint. Movement recovery (open journals) and refund recovery (refunds awaiting the provider)
 * are such folds; each keeps what it folds and what it does with the fold, and checkpoints on a
 * schedule of its own or on the fold's (`schedule`).
 */
import {
  collect,
  createEventCatalog,
  deterministicEventId,
  StoreUnavailableError,
  StreamNotFoundError,
  SubscriptionDroppedError,
  type AnyEventDefinition,
  type EventDataOf,
  type EventFilter,
  type EventStore,
  type EventToAppend,
  type GlobalPosition,
  type RecordedEvent,
} from '@folio/shared';

/** Only the latest checkpoint is ever read; a few earlier ones are kept to look into. */
export const CHECKPOINTS_KEPT = 10;

const RESUBSCRIBE_AFTER_MS = 500;

/**
 * The latest checkpoint on `streamName`, or undefined when none was written yet. Throws when it
 * cannot be read or `decode` rejects it.
 */
export const readLatestCheckpoint = async <Checkpoint>(
  eventStore: EventStore,
  streamName: string,
  decode: (recorded: RecordedEvent) => Checkpoint,
): Promise<Checkpoint | undefined> => {
  try {
    const [latest] = await collect(eventStore.readStream(streamName, { direction: 'backwards', maxCount: 1 }));
    return latest === undefined ? undefined : decode(latest);
  } catch (error) {
    if (error instanceof StreamNotFoundError) return undefined;
    throw error;
  }
};

/** Keeps a checkpoint stream short where the store honours `maxCount`; sets it once. */
export const limitCheckpointStream = async (eventStore: EventStore, streamName: string): Promise<void> => {
  const { metadata } = await eventStore.getStreamMetadata(streamName);
  if (metadata.maxCount === CHECKPOINTS_KEPT) return;
  await eventStore.setStreamMetadata(streamName, { ...metadata, maxCount: CHECKPOINTS_KEPT });
};

export interface CheckpointedLogFoldOptions<Checkpoint> {
  eventStore: EventStore;
  checkpoints: {
    streamName: string;
    /** What warnings call one ('recovery checkpoint'). */
    name: string;
    /** Throws on anything but a well-formed checkpoint: a bad one must never seed the fold. */
    decode: (recorded: RecordedEvent) => Checkpoint;
  };
  /** The events folded. */
  filter: EventFilter;
  /** Seeds the fold from the latest checkpoint; returns the position the checkpoint reflects. */
  seed: (checkpoint: Checkpoint) => GlobalPosition;
  /** A throw drops the subscription: it is reported and the log followed again after the last position. */
  apply: (event: RecordedEvent) => void;
  /**
   * Whether the log scanned past events the filter leaves out (`checkpoint` messages) moves the
   * fold too, or only the events folded do.
   */
  followsScans: boolean;
  /** The fold moved to `position()`: where a checkpoint schedule of the caller's looks whether one is due. */
  moved?: () => void;
  /** The first time the fold reaches the head of the log; the fold goes on once it resolves. */
  caughtUp?: () => Promise<void> | void;
  /**
   * Checkpoints written by the fold itself: once caught up, when the fold moves on and the last
   * checkpoint (or the catch-up) is older than `everyMs`, and on stop unless the log was idle that
   * long. Only right after progress, so never while the log is idle: a checkpoint would then be the
   * head of the log long after the last event, and projection lag is measured against it. A fold
   * not past the latest checkpoint (the one it started from, or wrote) writes none: a restart reads
   * little more than the log after it. Two processes checkpointing the same position should encode
   * the same event id, so that the store keeps one.
   */
  schedule?: { everyMs: number; clock: () => Date; encode: (position: GlobalPosition) => EventToAppend };
  onError: (error: unknown) => void;
  onWarning: (message: string, error: unknown) => void;
}

/** The snapshots of what a fold holds, as one event type of its own, and how often they are written. */
export interface SnapshotCheckpointsSpec<Definition extends AnyEventDefinition> {
  streamName: string;
  /** What warnings call one ('refund recovery checkpoint'). */
  name: string;
  definition: Definition;
  /** Who writes them, and the correlation id they carry, in their metadata. */
  actor: string;
  correlationId: string;
  everyMs: number;
  clock: () => Date;
  /** What the fold holds at `position`. */
  snapshot: (position: GlobalPosition) => EventDataOf<Definition>;
}

/**
 * The `checkpoints` and `schedule` of a fold that snapshots what it folded as one event type of
 * its own, written by `schedule`: the latest snapshot seeds a start. Two processes checkpointing
 * the same position write the same event id, so the store keeps one.
 */
export const snapshotCheckpoints = <Definition extends AnyEventDefinition>(
  spec: SnapshotCheckpointsSpec<Definition>,
): Required<Pick<CheckpointedLogFoldOptions<EventDataOf<Definition>>, 'checkpoints' | 'schedule'>> => {
  const catalog = createEventCatalog([spec.definition]);
  const { streamName, definition, clock } = spec;
  return {
    checkpoints: { streamName, name: spec.name, decode: (recorded) => catalog.decode(recorded).data as EventDataOf<Definition> },
    schedule: {
      everyMs: spec.everyMs,
      clock,
      encode: (position) =>
        catalog.encode({
          type: definition.type,
          id: deterministicEventId(streamName, position.toString()),
          version: definition.version,
          data: spec.snapshot(position),
          metadata: { $correlationId: spec.correlationId, actor: spec.actor, occurredAt: clock().toISOString() },
        } as Parameters<typeof catalog.encode>[0]),
    },
  };
};

export const createCheckpointedLogFold = <Checkpoint>(options: CheckpointedLogFoldOptions<Checkpoint>) => {
  const { eventStore, checkpoints } = options;
  /** The last position folded (or the checkpoint it was seeded from). */
  let position: GlobalPosition | undefined;
  let caughtUpOnce = false;
  let stopped = false;
  let subscription: ReturnType<EventStore['subscribeToAll']> | undefined;
  let writing: Promise<boolean> | undefined;
  let limited = false;
  /** Callers waiting for the fold to reach a position (see `waitFor`). */
  let waiters: { target: GlobalPosition; resolve: (reached: boolean) => void }[] = [];
  /** Where the latest checkpoint this process wrote or started from lies in the log. */
  let checkpointedThrough: GlobalPosition | undefined;
  /** When the fold's schedule last wrote a checkpoint, or first caught up (local time). */
  let checkpointedAt: number | undefined;
  /** When the fold last moved on (local time). */
  let progressAt: number | undefined;

  /** Resolves true once the fold reaches `target`, false after `timeoutMs`. */
  const waitFor = (target: GlobalPosition, timeoutMs: number): Promise<boolean> => {
    if (position !== undefined && position >= target) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = { target, resolve };
      waiters.push(waiter);
      setTimeout(() => {
        waiters = waiters.filter((other) => other !== waiter);
        resolve(false);
      }, timeoutMs).unref();
    });
  };

  const advance = (to: GlobalPosition): void => {
    if (position !== undefined && to <= position) return;
    position = to;
    if (waiters.length > 0) {
      waiters = waiters.filter((waiter) => {
        if (waiter.target > to) return true;
        waiter.resolve(true);
        return false;
      });
    }
    options.moved?.();
    const { schedule } = options;
    if (schedule === undefined) return;
    progressAt = schedule.clock().getTime();
    if (caughtUpOnce && checkpointedAt !== undefined && progressAt - checkpointedAt >= schedule.everyMs) void checkpoint();
  };

  /** A bad checkpoint is never trusted: the whole log is then folded, as without one. */
  const readCheckpoint = async (): Promise<Checkpoint | undefined> => {
    try {
      return await readLatestCheckpoint(eventStore, checkpoints.streamName, (recorded) => {
        const checkpoint = checkpoints.decode(recorded);
        checkpointedThrough = recorded.position;
        return checkpoint;
      });
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      options.onWarning(`${checkpoints.name} ignored, folding the whole log`, error);
      return undefined;
    }
  };

  const limit = (): Promise<boolean> =>
    limitCheckpointStream(eventStore, checkpoints.streamName).then(
      () => true,
      (error: unknown) => {
        options.onWarning(`${checkpoints.name} stream not limited`, error);
        return false;
      },
    );

  const follow = async (): Promise<void> => {
    let seeded = false;
    while (!stopped) {
      try {
        if (!seeded) {
          const latest = await readCheckpoint();
          if (latest !== undefined) position = options.seed(latest);
          seeded = true;
          // Stopped while reading: a subscription made now would never be ended.
          if (stopped) return;
        }
        subscription = eventStore.subscribeToAll({ fromPosition: position ?? 'start', filter: options.filter });
        for await (const run of subscription.runs()) {
          for (const message of run) {
            if (message.kind === 'event') {
              options.apply(message.event);
              advance(message.event.position);
            } else if (message.kind === 'checkpoint' && options.followsScans) {
              advance(message.position);
            } else if (message.kind === 'caughtUp' && !caughtUpOnce) {
              caughtUpOnce = true;
              // What the start folded is checkpointed at the first progress after the schedule's time.
              if (options.schedule !== undefined) checkpointedAt = options.schedule.clock().getTime();
              await options.caughtUp?.();
              if (stopped) return;
            }
          }
        }
        return;
      } catch (error) {
        if (!(error instanceof SubscriptionDroppedError)) options.onError(error);
        await new Promise((resolve) => setTimeout(resolve, RESUBSCRIBE_AFTER_MS));
      }
    }
  };

  const write = (event: EventToAppend, outcome: { written: (at: GlobalPosition) => void; failed?: () => void }): Promise<boolean> => {
    writing = (async () => {
      try {
        if (!limited) limited = await limit();
        const result = await eventStore.appendToStream(checkpoints.streamName, [event], { expectedRevision: 'any' });
        outcome.written(result.position);
        return true;
      } catch (error) {
        outcome.failed?.();
        options.onWarning(`${checkpoints.name} not written, tried again later`, error);
        return false;
      } finally {
        writing = undefined;
      }
    })();
    return writing;
  };

  /** The schedule's checkpoint of the fold as it is now, unless one is being written or the fold is not past the latest. */
  const checkpoint = (): Promise<unknown> => {
    const { schedule } = options;
    if (schedule === undefined || writing !== undefined || position === undefined) return writing ?? Promise.resolve();
    if (checkpointedThrough !== undefined && position <= checkpointedThrough) return Promise.resolve();
    return write(schedule.encode(position), {
      written: (at) => {
        checkpointedThrough = at;
        checkpointedAt = schedule.clock().getTime();
      },
    });
  };

  return {
    /** Starts following the log from the latest checkpoint (from the start without one). */
    start(): void {
      void follow();
    },
    /** The last position folded, if any. */
    position: (): GlobalPosition | undefined => position,
    /** Whether the fold has reached the head of the log once (a checkpoint before would hold a partial fold). */
    caughtUp: (): boolean => caughtUpOnce,
    stopped: (): boolean => stopped,
    /** The checkpoint being written, if any: one is written at a time. */
    writing: (): Promise<boolean> | undefined => writing,
    /**
     * Writes `event` in the background, the stream limited to its last few checkpoints first (once),
     * and resolves whether it was written. `written` and `failed` run before the next write can
     * start; a failed write is warned about, and the caller's schedule tries again later.
     */
    write,
    waitFor,
    /** Resolves true once the fold reaches the head of the log as it is now, false after `timeoutMs`. */
    async waitForHead(timeoutMs: number): Promise<boolean> {
      const head = await eventStore.headPosition();
      return head === undefined || waitFor(head, timeoutMs);
    },
    /**
     * Stops following the log; resolves once the checkpoint being written, if any, is, and the
     * schedule's last one (unless the log was idle as long as its period).
     */
    async stop(): Promise<void> {
      stopped = true;
      await subscription?.unsubscribe();
      while (writing !== undefined) await writing;
      const { schedule } = options;
      if (schedule !== undefined && caughtUpOnce && progressAt !== undefined && schedule.clock().getTime() - progressAt < schedule.everyMs) {
        await checkpoint();
      }
    },
  };
};

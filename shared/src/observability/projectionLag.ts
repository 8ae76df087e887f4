import type { EventFilter, EventStore, GlobalPosition, RecordedEvent } from '../eventStore/eventStore.js';

/** What a lag monitor needs to know of each projection (a projector's status, or a stored one). */
export interface ProjectionProgress {
  name: string;
  position: GlobalPosition | undefined;
  /** When the last event the projection reflects was committed to the log. */
  lastEventAt: Date | undefined;
  /** The events the projection reads: one behind the head only by events it skips is not behind. */
  filter?: EventFilter;
}

export interface ProjectionLag {
  name: string;
  /** Global positions between the head of the log and the projection's checkpoint. */
  positions: bigint;
  /** Seconds between the head event's commit and the last event the projection reflects. */
  seconds: number;
}

export interface LagMonitorOptions {
  eventStore: Pick<EventStore, 'readAll'>;
  progress: () => readonly ProjectionProgress[];
  /** How often the head of the log is read again. */
  everyMs?: number;
  onError?: (error: unknown) => void;
}

const firstOf = async (events: AsyncIterable<RecordedEvent>): Promise<RecordedEvent | undefined> => {
  for await (const event of events) return event;
  return undefined;
};

/**
 * Whether the log holds an event after `position` that the filter lets through. A subscription
 * reports how far it has scanned past skipped events on the embedded store, but EventStoreDB's
 * filtered subscriptions go quiet at the head: a projection that has read everything it wants
 * stays at its last event while others (audit checkpoints, keys, snapshots) are appended after it.
 */
const hasWantedEventAfter = async (
  eventStore: Pick<EventStore, 'readAll'>,
  position: GlobalPosition | undefined,
  filter: EventFilter,
): Promise<boolean> => {
  for await (const event of eventStore.readAll({ fromPosition: position ?? 'start', filter, maxCount: 2 })) {
    if (position === undefined || event.position > position) return true;
  }
  return false;
};

/**
 * How far each projection is behind the head of the log, in positions and in seconds, refreshed
 * in the background so that readiness checks, load shedding and scrapes read it for free.
 */
export const createLagMonitor = ({ eventStore, progress, everyMs = 1_000, onError = () => undefined }: LagMonitorOptions) => {
  let lags: ProjectionLag[] = [];
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const refresh = async (): Promise<readonly ProjectionLag[]> => {
    const head = await firstOf(eventStore.readAll({ direction: 'backwards', maxCount: 1 }));
    const statuses = progress();
    let logStart: Date | undefined;
    if (head !== undefined && statuses.some(({ lastEventAt }) => lastEventAt === undefined)) {
      logStart = (await firstOf(eventStore.readAll({ maxCount: 1 })))?.created;
    }
    // Positions overstate the lag of a projection that skips the latest events; seconds do not,
    // which is why thresholds are in seconds.
    const wanted = await Promise.all(
      statuses.map(({ position, filter }) =>
        head === undefined || (position !== undefined && position >= head.position)
          ? false
          : filter === undefined || hasWantedEventAfter(eventStore, position, filter),
      ),
    );
    lags = statuses.map(({ name, position, lastEventAt }, index) => {
      if (head === undefined || !wanted[index]) return { name, positions: 0n, seconds: 0 };
      const reflected = lastEventAt ?? logStart ?? head.created;
      return {
        name,
        positions: head.position - (position ?? 0n),
        seconds: Math.max(0, (head.created.getTime() - reflected.getTime()) / 1000),
      };
    });
    return lags;
  };

  const tick = (): void => {
    if (stopped) return;
    refresh()
      .catch(onError)
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, everyMs).unref();
      });
  };

  return {
    refresh,
    /** The lag at the last refresh. */
    current: (): readonly ProjectionLag[] => lags,
    /** The largest lag in seconds at the last refresh (0 with no projections). */
    worstSeconds: (): number => lags.reduce((worst, { seconds }) => Math.max(worst, seconds), 0),
    start: async (): Promise<void> => {
      await refresh();
      timer = setTimeout(tick, everyMs).unref();
    },
    stop: (): void => {
      stopped = true;
      clearTimeout(timer);
    },
  };
};

export type LagMonitor = ReturnType<typeof createLagMonitor>;

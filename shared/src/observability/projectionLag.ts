import type { EventFilter, EventStore, GlobalPosition, RecordedEvent } from '../eventStore/eventStore.js';

/**
 * A projection that cannot move: its stores refuse, or it has not yet read its checkpoints. Its
 * lag may stay small meanwhile (nothing is behind while no event arrives), so readiness looks at
 * how long this has lasted too.
 */
export interface ProjectionFailing {
  /** Since when: its start, or the first failure after its last committed batch or catch-up. */
  since: Date;
  /** Failures in a row; 0 while it is still reading its checkpoints at start. */
  failures: number;
  /** What the last failure said. */
  lastError: string | undefined;
}

/** What a lag monitor needs to know of each projection (a projector's status, or a stored one). */
export interface ProjectionProgress {
  name: string;
  position: GlobalPosition | undefined;
  /** When the last event the projection reflects was committed to the log. */
  lastEventAt: Date | undefined;
  /** The events the projection reads: one behind the head only by events it skips is not behind. */
  filter?: EventFilter;
  /** Absent while it works. */
  failing?: ProjectionFailing;
}

export interface ProjectionLag {
  name: string;
  /** Global positions between the head of the log and the projection's checkpoint. */
  positions: bigint;
  /**
   * Seconds between the head event's commit and the first event the projection lacks (without a
   * filter: the last event it reflects).
   */
  seconds: number;
  /** As its progress told at the same refresh. */
  failing?: ProjectionFailing;
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
 * How far each projection is behind the head of the log, in positions and in seconds, refreshed
 * in the background so that readiness checks, load shedding and scrapes read it for free.
 */
export const createLagMonitor = ({ eventStore, progress, everyMs = 1_000, onError = () => undefined }: LagMonitorOptions) => {
  let lags: ProjectionLag[] = [];
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  /** Per projection, a stretch of the log known to hold nothing it reads: after `from`, up to `through`. */
  const quiet = new Map<string, { from: GlobalPosition | undefined; through: GlobalPosition }>();

  /**
   * The first event after `position` that the filter lets through. The embedded store's
   * subscriptions report how far they scanned past skipped events, but EventStoreDB's filtered
   * subscriptions go quiet at the head: a projection that has read everything it wants stays at
   * its last event while others (audit checkpoints, keys, snapshots) are appended after it. The
   * stretch found quiet is remembered, so each refresh reads only what was appended since.
   */
  const firstWantedAfter = async (
    name: string,
    position: GlobalPosition | undefined,
    filter: EventFilter,
    head: GlobalPosition,
  ): Promise<RecordedEvent | undefined> => {
    const known = quiet.get(name);
    const covers = known !== undefined && (known.from === undefined || (position !== undefined && position >= known.from));
    const from = covers && (position === undefined || known.through > position) ? known.through : position;
    for await (const event of eventStore.readAll({ fromPosition: from ?? 'start', filter, maxCount: 2 })) {
      if (from === undefined || event.position > from) return event;
    }
    quiet.set(name, { from: from === position ? position : known!.from, through: head });
    return undefined;
  };

  const refresh = async (): Promise<readonly ProjectionLag[]> => {
    const head = await firstOf(eventStore.readAll({ direction: 'backwards', maxCount: 1 }));
    const statuses = progress();
    let logStart: Date | undefined;
    if (head !== undefined && statuses.some(({ lastEventAt }) => lastEventAt === undefined)) {
      logStart = (await firstOf(eventStore.readAll({ maxCount: 1 })))?.created;
    }
    // Positions overstate the lag of a projection that skips the latest events; seconds do not,
    // which is why thresholds are in seconds.
    // A filtered projection is as old as the first event it lacks; one read without a filter, as
    // old as the last event it reflects.
    const unreflected = await Promise.all(
      statuses.map(({ name, position, filter }) =>
        head === undefined || (position !== undefined && position >= head.position)
          ? null
          : filter === undefined
            ? undefined
            : firstWantedAfter(name, position, filter, head.position).then((event) => event ?? null),
      ),
    );
    lags = statuses.map(({ name, position, lastEventAt, failing }, index) => {
      const lacking = unreflected[index];
      const failingNow = failing === undefined ? {} : { failing };
      if (head === undefined || lacking === null) return { name, positions: 0n, seconds: 0, ...failingNow };
      const reflected = lacking?.created ?? lastEventAt ?? logStart ?? head.created;
      return {
        name,
        positions: head.position - (position ?? 0n),
        seconds: Math.max(0, (head.created.getTime() - reflected.getTime()) / 1000),
        ...failingNow,
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

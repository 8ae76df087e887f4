import {
  matchesFilter,
  sortableBigint,
  SubscriptionDroppedError,
  TransactionLimitExceededError,
  type DocumentStore,
  type EventFilter,
  type EventStore,
  type GlobalPosition,
  type JsonValue,
  type ProjectionFailing,
  type RecordedEvent,
  type SearchIndex,
  type Subscription,
  type SubscriptionMessage,
} from '@folio/shared';
import { createBatchSizing } from './batchSizing.js';
import { createPositionWaiters } from './positionWaiters.js';
import { readAhead, type ReadAhead } from './readAhead.js';
import { createReadModelLease, ReadModelBusyError, ReadModelLeaseLapsedError } from './readModelLease.js';
import {
  CHECKPOINTS_COLLECTION,
  isSearchIndexOfVersion,
  liveCheckpointId,
  liveCollections,
  liveSearchIndexes,
  searchAliases,
  searchIndexesOfCheckpoint,
  type ProjectionDefinition,
  type ProjectionHandler,
} from './projection.js';

/** One read model a projector keeps, and where it writes it. */
export interface ReadModelTarget {
  definition: ProjectionDefinition;
  /** Defaults to the live collections; a rebuild passes its own. */
  collections?: Readonly<Record<string, string>>;
  /** Defaults to the live search indexes; a rebuild passes its own. */
  searchIndexes?: Readonly<Record<string, string>>;
  /** Defaults to `<name>_v<version>`; a rebuild passes its own. */
  checkpointId?: string;
}

export interface ProjectorGroupOptions {
  eventStore: EventStore;
  documents: DocumentStore;
  /**
   * The read models kept, each with its own checkpoint. One subscription feeds them all, and
   * each batch commits all their changes and checkpoints in one transaction.
   */
  readModels: readonly ReadModelTarget[];
  /** Required when a projection has search roles. */
  searchIndex?: SearchIndex;
  /**
   * Events per transaction at most once caught up with the log. Fewer for a while when the
   * document store refuses a transaction for its size or duration (`TransactionLimitExceededError`).
   */
  batchSize?: number;
  /** Events per transaction at most while behind: larger batches amortise each commit. Fewer likewise. */
  catchUpBatchSize?: number;
  /** How long a partial batch may wait for more events once caught up. */
  lingerMs?: number;
  onError?: (error: unknown) => void;
  /**
   * A failure that stops neither the projector nor its stop: a claim on the read models the store
   * did not let `stop` release (`ReadModelLeaseNotReleasedError`), which lapses by itself.
   */
  onWarning?: (error: unknown) => void;
  /**
   * Called after each committed batch with the position its documents reached and its events
   * (logs, metrics, tests); a read model whose index writes are still landing checkpoints that
   * position with a later commit.
   */
  onCommit?: (position: GlobalPosition, events: readonly RecordedEvent[]) => void;
  /**
   * Whether the projector claims its read models (`readModelLease`) while it runs, so that a
   * rebuild or a prune of them is refused meanwhile, and waits while one holds them. A claim that
   * lapsed (the store away longer than it lasts) stops the writing: the projector claims them
   * again, waiting for a rebuild or a prune that took them meanwhile, and goes on from the
   * checkpoints it finds. True by default; a rebuild, which holds them itself, passes false.
   */
  leased?: boolean;
  /** How long its claim outlives the process when it is killed outright. */
  leaseTtlMs?: number;
}

export type ProjectorOptions = Omit<ProjectorGroupOptions, 'readModels'> & ReadModelTarget;

export interface ProjectorStatus {
  name: string;
  /** Last position whose effects are committed (undefined before the first). */
  position: GlobalPosition | undefined;
  caughtUp: boolean;
  /** When the last committed event was recorded in the log. */
  lastEventAt: Date | undefined;
  /** The events the read model reads. */
  filter: EventFilter;
  /**
   * Set while the projector cannot work: from its start until it first commits or catches up,
   * and from a failure until it next does (re-reading the checkpoints in between is not working:
   * its stores may answer reads and refuse writes). A projector catching up commits batches. One
   * whose only failures are refused renewals of its claim on the read models works again once a
   * renewal succeeds.
   */
  failing?: ProjectionFailing;
}

interface CheckpointDocument {
  _id: string;
  position: string;
  sortablePosition: string;
  lastEventAt: string | null;
  /**
   * And `searchIndexes`: the search indexes the read model writes, by role, where a restart goes
   * on writing. Absent from checkpoints stored before they were recorded, and for read models
   * without search. And `caughtUpOnce: true` once the read model has caught up with the log: a
   * lasting record that its version can be read and older ones pruned (its position stops telling
   * once the log moves on); absent until then, and from checkpoints stored before it was recorded.
   */
  [key: string]: JsonValue;
}

/** A read model as the running projector tracks it. */
interface RunningReadModel {
  definition: ProjectionDefinition;
  collections: Readonly<Record<string, string>>;
  checkpointId: string;
  /** Given by the caller (a rebuild writes its own); otherwise chosen at start. */
  searchIndexes: Readonly<Record<string, string>> | undefined;
  /** The search indexes its stored checkpoint names, when it names any. */
  storedSearchIndexes: Readonly<Record<string, string>> | undefined;
  /** The search indexes it writes, by role. */
  writesTo: Readonly<Record<string, string>>;
  handler: ProjectionHandler | undefined;
  position: GlobalPosition | undefined;
  lastEventAt: Date | undefined;
  /** Whether it has caught up with the log, this start or an earlier one. */
  caughtUpOnce: boolean;
  /** Events of the open batch this read model takes. */
  batch: RecordedEvent[];
}

/** Index writes of a committed batch, and where they take the read models that wrote them once they land. */
interface Landing {
  written: Promise<PromiseSettledResult<void>[]>;
  through: GlobalPosition;
  reached: Map<RunningReadModel, Date | undefined>;
}

/** How often a projector kept from its read models by a rebuild or a prune asks again. */
const LEASE_RETRY_MS = 500;
/** Events taken into a batch between two turns of the event loop. */
const YIELD_EVERY = 1_000;
/** Lets timers and I/O run between batches, which the embedded stores never do on their own. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A timer raced against the next message; cleared when the message wins, so none pile up. */
const lingerTimer = (ms: number) => {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return { expired, cancel: () => clearTimeout(timer) };
};

/**
 * Read models that keep search indexes first: their index writes (on another thread with the
 * embedded index) then run while the others' handlers fold and write.
 */
const handlingOrder = (readModels: readonly RunningReadModel[]): RunningReadModel[] => [
  ...readModels.filter(({ definition }) => definition.searchRoles !== undefined),
  ...readModels.filter(({ definition }) => definition.searchRoles === undefined),
];

const before = (a: GlobalPosition | undefined, b: GlobalPosition | undefined): boolean =>
  b !== undefined && (a === undefined || a < b);

/**
 * What the subscription reads for all the read models: the filter they share; or, when they
 * select by stream name prefixes only, every prefix any of them reads (each still filters its
 * own batch); or else no filter at all.
 */
const sharedFilter = (definitions: readonly ProjectionDefinition[]): EventFilter | undefined => {
  const [first, ...rest] = definitions.map((definition) => JSON.stringify(definition.filter));
  if (first !== undefined && rest.every((filter) => filter === first)) return definitions[0]!.filter;
  const byPrefixOnly = definitions.every(
    ({ filter }) => filter.streamNamePrefixes !== undefined && filter.eventTypePrefixes === undefined && filter.excludeSystemEvents === undefined,
  );
  if (!byPrefixOnly) return undefined;
  return { streamNamePrefixes: [...new Set(definitions.flatMap(({ filter }) => filter.streamNamePrefixes!))] };
};

/**
 * Runs read models from one subscription to `$all`, after the oldest of their stored checkpoints:
 * hands each the events it reads, in order and in batches, and commits a batch's read-model
 * changes together with every checkpoint in one transaction, so a crash can only replay a batch
 * (which the projections absorb), never skip one. A read model already past an event does not
 * get it again. A dropped subscription, or one the store ended, is resumed from the checkpoints
 * with backoff, as is any other failure (the document store away, say) for as long as it lasts. A
 * batch the document store refuses for its size or duration is read again from them at once, in
 * smaller batches (`batchSizing`); one of a single event, with backoff.
 */
export const createProjectorGroup = (options: ProjectorGroupOptions) => {
  const { eventStore, documents } = options;
  const batchSize = options.batchSize ?? 500;
  const catchUpBatchSize = options.catchUpBatchSize ?? 20_000;
  const lingerMs = options.lingerMs ?? 2;
  const sizing = createBatchSizing({ largest: Math.max(batchSize, catchUpBatchSize) });
  /** Set when a batch was refused for its size and the next one is smaller: read again without waiting. */
  let shrunk = false;
  const names = options.readModels.map(({ definition }) => definition.name).join(', ');
  const onError = options.onError ?? ((error: unknown) => console.error(JSON.stringify({ level: 'error', msg: 'projector error', projection: names, error: String(error) })));
  const onWarning =
    options.onWarning ?? ((error: unknown) => console.error(JSON.stringify({ level: 'warn', msg: 'projector warning', projection: names, error: String(error) })));
  const readModels: RunningReadModel[] = options.readModels.map((target) => {
    const { definition } = target;
    if (Object.keys(definition.searchRoles ?? {}).length > 0 && options.searchIndex === undefined) {
      throw new TypeError(`projection ${definition.name} keeps search indexes: the projector needs a search index`);
    }
    return {
      definition,
      collections: target.collections ?? liveCollections(definition),
      checkpointId: target.checkpointId ?? liveCheckpointId(definition),
      searchIndexes: target.searchIndexes,
      storedSearchIndexes: undefined,
      writesTo: {},
      handler: undefined,
      position: undefined,
      lastEventAt: undefined,
      caughtUpOnce: false,
      batch: [],
    };
  });
  const filter = sharedFilter(readModels.map(({ definition }) => definition));
  const preparing = readModels.filter(({ definition }) => definition.prepare !== undefined).map(({ definition }) => definition);
  const prepare = (run: readonly SubscriptionMessage[]): void => {
    if (preparing.length === 0) return;
    for (const message of run) {
      if (message.kind !== 'event') continue;
      for (const definition of preparing) {
        try {
          if (matchesFilter(definition.filter, message.event)) definition.prepare!(message.event);
        } catch {
          // Best effort: the handler meets the same failure when it decodes the event.
        }
      }
    }
  };

  /** Aliases that name an older version's index, moved to this version's once it has caught up. */
  const aliasesToMove: { alias: string; index: string }[] = [];
  /**
   * The search indexes written since this start, to finish loading once caught up: those a
   * catch-up from position 0 created `loading`, or an earlier start created and stopped before
   * finishing (finishing a complete index does nothing).
   */
  const indexesToFinish = new Set<string>();

  /**
   * The live projector writes to this version's search index: the alias's target when that is
   * this version's, or the one it creates (the alias names it at once on a first start, and once
   * it has caught up when an older version's is there); a rebuild writes to its own.
   */
  const prepareTarget = async (readModel: RunningReadModel): Promise<ProjectionHandler> => {
    const { definition, collections } = readModel;
    for (const [role, indexes] of Object.entries(definition.indexes ?? {})) {
      for (const fields of indexes) await documents.ensureIndex(collections[role]!, fields);
    }
    const search = options.searchIndex;
    const searchIndexes: Record<string, string> = {};
    const aliases = searchAliases(definition);
    const firstIndexes = liveSearchIndexes(definition);
    for (const [role, schema] of Object.entries(definition.searchRoles ?? {})) {
      const given = readModel.searchIndexes?.[role];
      const loading = readModel.position === undefined;
      if (given !== undefined) {
        await search!.ensureIndex(given, schema, { loading });
        indexesToFinish.add(given);
        searchIndexes[role] = given;
        continue;
      }
      const alias = aliases[role]!;
      const aliased = await search!.resolveAlias(alias);
      const index =
        // Where its checkpoint says it writes.
        readModel.storedSearchIndexes?.[role] ??
        // A checkpoint from before indexes were recorded: the read model wrote where the alias points.
        (readModel.position !== undefined && readModel.storedSearchIndexes === undefined ? aliased : undefined) ??
        // From the start: this version's index, or (as a new version builds its own collections) a
        // new one. The older version's stays, for a rollback.
        (aliased !== undefined && isSearchIndexOfVersion(firstIndexes[role]!, aliased) ? aliased : firstIndexes[role]!);
      await search!.ensureIndex(index, schema, { loading });
      indexesToFinish.add(index);
      // Readers keep the index the alias names until this one has caught up.
      if (aliased === undefined) await search!.setAlias(alias, index);
      else if (aliased !== index) aliasesToMove.push({ alias, index });
      searchIndexes[role] = index;
    }
    readModel.writesTo = searchIndexes;
    return definition.create({ collections, searchIndexes, ...(search === undefined ? {} : { search }) });
  };

  let caughtUp = false;
  let stopped = false;
  /**
   * Subscriptions that failed or ended since the last committed batch: the resubscribe backoff
   * grows with them, and a subscription that made progress before it failed starts it over.
   */
  let failuresInARow = 0;
  /** What `status` tells of failures: unlike `failuresInARow`, a catch-up ends it too. */
  let failing: ProjectionFailing | undefined;
  const recordFailure = (error: unknown): void => {
    failing = {
      since: failing?.since ?? new Date(),
      failures: (failing?.failures ?? 0) + 1,
      lastError: error instanceof Error ? error.message : String(error),
    };
  };
  /**
   * `failing` while refused renewals of the claim are all of it (the projector worked until the
   * first): a renewal that succeeds ends it then. One that holds another failure, or a start not
   * yet caught up, waits for a commit or a catch-up.
   */
  let failingFromRenewals: ProjectionFailing | undefined;
  let subscription: Subscription | undefined;
  let reader: ReadAhead<readonly SubscriptionMessage[]> | undefined;
  /**
   * While behind the log, a batch's search index writes may still run when its documents commit:
   * they land while the next batch is handled, and the read models that keep the index move their
   * checkpoints past the batch only in a later commit, once the writes have landed. A crash in
   * between replays the batch; its documents are applied already, and the projection indexes
   * what the batch touched again.
   */
  let landing: Landing | undefined;
  let running: Promise<void> | undefined;
  /** Waits under way, which `stop` cuts short: stopping never sits out a backoff. */
  const pauses = new Set<() => void>();
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        pauses.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      pauses.add(wake);
    });
  const backoff = () => pause(Math.min(5_000, 50 * 2 ** Math.min(failuresInARow, 7)));
  let checkpointsReadOnce!: () => void;
  const checkpointsRead = new Promise<void>((resolve) => {
    checkpointsReadOnce = resolve;
  });
  let caughtUpOnce!: () => void;
  const firstCatchUp = new Promise<void>((resolve) => {
    caughtUpOnce = resolve;
  });

  const status = (): ProjectorStatus[] =>
    readModels.map(({ definition, position, lastEventAt }) => ({
      name: definition.name,
      position,
      caughtUp,
      lastEventAt,
      filter: definition.filter,
      ...(failing === undefined ? {} : { failing }),
    }));
  const waiters = createPositionWaiters(status);
  const wakeWaiters = (): void => waiters.wake();

  const readCheckpoints = async (): Promise<void> => {
    for (const readModel of readModels) {
      const stored = await documents.get<CheckpointDocument>(CHECKPOINTS_COLLECTION, readModel.checkpointId);
      readModel.position = stored === undefined ? undefined : BigInt(stored.position);
      readModel.storedSearchIndexes = searchIndexesOfCheckpoint(stored);
      readModel.lastEventAt = stored === undefined || stored.lastEventAt === null ? undefined : new Date(stored.lastEventAt);
      readModel.caughtUpOnce = stored?.caughtUpOnce === true;
    }
    wakeWaiters();
  };

  /**
   * Commits the open batch and moves every read model's checkpoint to `through`. `readAt` is when
   * the last event the subscription delivered was recorded: every read model moved reflects the
   * log up to it, whether or not it took that event (one that reads rare streams would otherwise
   * look as old as its last event, and lag behind a log it has read entirely).
   *
   * `leaveLanding`: the batch's search index writes may still run after the commit (see
   * `landing`); the read models that wrote then keep the checkpoint of the batch before.
   */
  const commit = async (through: GlobalPosition, readAt: Date | undefined, leaveLanding = false): Promise<void> => {
    const moving = readModels.filter(({ position }) => before(position, through));
    // The read model furthest behind was handed every event of this batch.
    const events = moving.reduce<readonly RecordedEvent[]>((longest, { batch }) => (batch.length > longest.length ? batch : longest), []);
    const reached = new Map(moving.map((readModel) => [readModel, readAt ?? readModel.batch.at(-1)?.created ?? readModel.lastEventAt]));
    const previous = landing;
    landing = undefined;
    const checkpoints = new Map<RunningReadModel, { position: GlobalPosition; at: Date | undefined }>();
    let left: Landing | undefined;
    await documents.withTransaction(async (session) => {
      const outside: Promise<void>[] = [];
      const writing = new Set<RunningReadModel>();
      let failure: { reason: unknown } | undefined;
      try {
        // A rebuild or a prune may hold the read models once the claim has lapsed.
        lease?.requireHeld();
        for (const readModel of handlingOrder(moving)) {
          if (readModel.batch.length === 0) continue;
          const handled = await readModel.handler!.handle(readModel.batch, session);
          if (handled) {
            // Observed at once: a failure while later handlers run must not go unhandled; it is
            // read back from `allSettled` below.
            handled.outside.catch(() => undefined);
            outside.push(handled.outside);
            writing.add(readModel);
          }
        }
      } catch (error) {
        failure = { reason: error };
      }
      // No checkpoint may pass index writes that have not landed. Meanwhile the next batch is
      // read from the log.
      const mustLand = previous === undefined ? [] : [previous.written];
      const settling = Promise.allSettled(outside);
      const leave = leaveLanding && failure === undefined && outside.length > 0;
      if (!leave) mustLand.push(settling);
      for (const written of mustLand) {
        await reader?.readWhile(written);
        failure ??= (await written).find((result): result is PromiseRejectedResult => result.status === 'rejected');
      }
      // A claim that lapsed while the batch was handled: its checkpoints are not written.
      try {
        lease?.requireHeld();
      } catch (error) {
        failure ??= { reason: error };
      }
      if (failure !== undefined) {
        // Whatever happened, nothing of this batch may still be running when the next one starts.
        if (leave) await settling;
        throw failure.reason;
      }
      for (const readModel of moving) {
        if (leave && writing.has(readModel)) {
          // Its index writes land later: the checkpoint stays where the landed ones reach.
          if (previous !== undefined && before(readModel.position, previous.through)) {
            checkpoints.set(readModel, { position: previous.through, at: previous.reached.get(readModel) ?? readModel.lastEventAt });
          }
        } else {
          checkpoints.set(readModel, { position: through, at: reached.get(readModel) });
        }
      }
      for (const [readModel, { position, at }] of checkpoints) {
        const checkpoint: CheckpointDocument = {
          _id: readModel.checkpointId,
          position: position.toString(),
          sortablePosition: sortableBigint(position),
          lastEventAt: at === undefined ? null : at.toISOString(),
          ...(Object.keys(readModel.writesTo).length === 0 ? {} : { searchIndexes: { ...readModel.writesTo } }),
          ...(readModel.caughtUpOnce ? { caughtUpOnce: true } : {}),
        };
        await session.put(CHECKPOINTS_COLLECTION, checkpoint);
      }
      if (leave) left = { written: settling, through, reached };
    });
    landing = left;
    failuresInARow = 0;
    failing = undefined;
    for (const [readModel, { position, at }] of checkpoints) {
      readModel.position = position;
      readModel.lastEventAt = at;
    }
    for (const readModel of readModels) readModel.batch = [];
    wakeWaiters();
    options.onCommit?.(through, events);
    await yieldToEventLoop();
  };

  /**
   * Records in every read model's checkpoint that it has caught up, once: readers then read its
   * version and prune may drop older ones. Last, after its indexes are complete and its aliases
   * moved. A read model with no checkpoint yet records it with its first commit.
   */
  const recordCaughtUp = async (): Promise<void> => {
    const unrecorded = readModels.filter(({ caughtUpOnce }) => !caughtUpOnce);
    if (unrecorded.length === 0) return;
    await documents.withTransaction(async (session) => {
      for (const { checkpointId } of unrecorded) {
        const stored = await session.get<CheckpointDocument>(CHECKPOINTS_COLLECTION, checkpointId);
        if (stored !== undefined) await session.put(CHECKPOINTS_COLLECTION, { ...stored, caughtUpOnce: true });
      }
    });
    for (const readModel of unrecorded) readModel.caughtUpOnce = true;
  };

  /**
   * Consumes one subscription until it ends. Behind the log, batches fill up to
   * `catchUpBatchSize` without waiting; caught up, a partial batch waits up to `lingerMs` for
   * more events (one timer per batch) before it commits.
   */
  const consume = async (): Promise<void> => {
    for (const readModel of readModels) readModel.batch = [];
    // From the read model furthest behind; one that has no checkpoint yet reads from the start.
    const positions = readModels.map(({ position }) => position);
    const from = positions.includes(undefined)
      ? undefined
      : positions.reduce((oldest, position) => (position! < oldest! ? position : oldest));
    const subscribed = eventStore.subscribeToAll({ fromPosition: from ?? 'start', ...(filter === undefined ? {} : { filter }) });
    subscription = subscribed;
    reader = readAhead(subscribed.runs(), catchUpBatchSize, { prepare, sizeOf: (run) => run.length });
    try {
      await consumeFrom(reader);
    } finally {
      reader = undefined;
      // The next subscription replays from the checkpoints: behind until it says it caught up.
      caughtUp = false;
      // Index writes of a batch whose checkpoint was never written: the batch is read again.
      const dropped = landing;
      landing = undefined;
      await dropped?.written;
      // Ended, dropped or failed: a subscription left open would keep what it read ahead.
      await subscribed.unsubscribe().catch(() => undefined);
    }
  };

  const consumeFrom = async (reader: ReadAhead<readonly SubscriptionMessage[]>): Promise<void> => {
    let taken = 0;
    let through: GlobalPosition | undefined;
    let readAt: Date | undefined;
    let linger: ReturnType<typeof lingerTimer> | undefined;
    const limitNow = () => sizing.limit(caughtUp ? batchSize : catchUpBatchSize);
    /** Events per batch at most: the configured size, or fewer while the store refuses that many. */
    let limit = limitNow();
    const pendingCommit = () => through !== undefined && readModels.some(({ position }) => before(position, through));
    const flush = async (leaveLanding = false) => {
      linger?.cancel();
      linger = undefined;
      const events = taken;
      taken = 0;
      try {
        await commit(through!, readAt, leaveLanding);
      } catch (error) {
        if (error instanceof TransactionLimitExceededError) shrunk = sizing.refused(events);
        throw error;
      }
      sizing.committed(events);
      limit = limitNow();
    };
    // The next run is asked for before this one is handled, and awaited only after: a drop meanwhile
    // (while a commit or a turn of the event loop is awaited) is thrown here then, not reported as
    // an unhandled rejection, which would end the process.
    const readNext = () => {
      const read = reader.next();
      read.catch(() => undefined);
      return read;
    };
    let pending = readNext();
    for (;;) {
      if (caughtUp && linger === undefined && pendingCommit()) linger = lingerTimer(lingerMs);
      const next = linger === undefined ? await pending : await Promise.race([pending, linger.expired]);
      if (next === undefined) {
        await flush();
        continue;
      }
      // Stopping: what was read ahead is left for the next start.
      if (next.done || stopped) break;
      pending = readNext();
      for (const message of next.value) {
        if (stopped) break;
        if (message.kind === 'event') {
          const { event } = message;
          for (const readModel of readModels) {
            if (before(readModel.position, event.position) && matchesFilter(readModel.definition.filter, event)) {
              readModel.batch.push(event);
            }
          }
          through = event.position;
          readAt = event.created;
          taken += 1;
          // Events read ahead come without a turn of the event loop: a process that also serves
          // requests gets one every so often while a large batch fills.
          if (taken % YIELD_EVERY === 0) await yieldToEventLoop();
          // Behind the log, the batch's index writes land while the next batch is handled.
          if (taken >= limit) await flush(!caughtUp);
        } else if (message.kind === 'checkpoint') {
          // Past a run of events no read model takes: remember how far the log was read.
          through = message.position;
        } else if (message.kind === 'caughtUp') {
          if (pendingCommit()) await flush();
          lease?.requireHeld();
          // Every index write has landed: a new version's indexes are complete once loaded.
          for (const index of indexesToFinish) {
            await options.searchIndex!.finishLoading(index);
            indexesToFinish.delete(index);
          }
          while (aliasesToMove.length > 0) {
            const { alias, index } = aliasesToMove[0]!;
            await options.searchIndex!.setAlias(alias, index);
            aliasesToMove.shift();
          }
          await recordCaughtUp();
          caughtUp = true;
          failing = undefined;
          limit = limitNow();
          caughtUpOnce();
        } else {
          caughtUp = false;
          limit = limitNow();
        }
      }
      if (stopped) break;
    }
    linger?.cancel();
    if (pendingCommit()) await commit(through!, readAt);
  };

  const lease =
    options.leased === false
      ? undefined
      : createReadModelLease({
          documents,
          readModels: readModels.map(({ checkpointId }) => checkpointId),
          kind: 'projector',
          ...(options.leaseTtlMs === undefined ? {} : { ttlMs: options.leaseTtlMs }),
          onRenewalError: (error) => {
            onError(error);
            const lapsed = error instanceof ReadModelLeaseLapsedError;
            // A caught-up projector with nothing to write learns of its store's outage here first. A
            // lapse ends only as other failures do: the read models are claimed and read again.
            const fromRenewals = !lapsed && (failing === undefined || failing === failingFromRenewals);
            recordFailure(error);
            failingFromRenewals = fromRenewals ? failing : undefined;
            // Nothing more is written: the subscription ends, and the read models are claimed again.
            if (lapsed) void subscription?.unsubscribe().catch(() => undefined);
          },
          onRenewed: () => {
            if (failing !== undefined && failing === failingFromRenewals) failing = undefined;
          },
        });
  /**
   * A rebuild or a prune swaps and drops what the projector writes: it waits until they have
   * ended (it is told once), then reads the checkpoints they left.
   */
  const acquireLease = async (): Promise<boolean> => {
    let told = false;
    for (;;) {
      if (stopped) return false;
      try {
        await lease!.acquire();
        return true;
      } catch (error) {
        if (!(error instanceof ReadModelBusyError)) throw error;
        if (!told) {
          onError(error);
          recordFailure(error);
        }
        told = true;
        await pause(LEASE_RETRY_MS);
      }
    }
  };

  /**
   * Claims the read models when they are not held (at start, and after a lapse), reads the
   * checkpoints, and consumes subscriptions until stopped. Whatever fails (the claim, the
   * checkpoints, the subscription, a commit) is reported and tried again with backoff, as is a
   * subscription the store ended: the store may be away for a while, and comes back.
   */
  const run = async (): Promise<void> => {
    /** Whether the handlers were made for the claim held now: a rebuild may have swapped what they write. */
    let prepared = false;
    failing = { since: new Date(), failures: 0, lastError: undefined };
    while (!stopped) {
      try {
        if (lease !== undefined && !lease.held()) {
          prepared = false;
          if (!(await acquireLease())) return;
        }
        // Checkpoints first: they name the search indexes a read model already writes. After a
        // failure, the last committed ones: the uncommitted batch is read again.
        await readCheckpoints();
        checkpointsReadOnce();
        if (!prepared) {
          aliasesToMove.length = 0;
          indexesToFinish.clear();
          for (const readModel of readModels) readModel.handler = await prepareTarget(readModel);
          prepared = true;
        }
        await consume();
        if (stopped) return;
        // Ended without an error (a server restarting closes it): a store that ends every
        // subscription at once would otherwise be asked again and again without a pause.
        failuresInARow += 1;
        await backoff();
      } catch (error) {
        if (stopped) return;
        // A lapsed claim was reported and recorded as it lapsed.
        if (!(error instanceof SubscriptionDroppedError || error instanceof ReadModelLeaseLapsedError)) onError(error);
        if (!(error instanceof ReadModelLeaseLapsedError)) recordFailure(error);
        // Read again smaller and at once when the batch was refused for its size.
        const smaller = shrunk;
        shrunk = false;
        if (smaller) continue;
        failuresInARow += 1;
        await backoff();
      }
    }
  };

  return {
    /** Starts projecting; resolves once the projector has caught up with the log the first time. */
    start(): Promise<void> {
      running ??= run();
      return firstCatchUp;
    },
    /** Resolves once the stored checkpoints are read: from then on, `status` tells where each read model is. */
    loaded: (): Promise<void> => checkpointsRead,
    status,
    /**
     * Resolves true once every event up to `target` is in the read models named (every one
     * without names), or false after `timeoutMs`: how a reader waits for its own write.
     */
    waitFor: waiters.waitFor,
    async stop(): Promise<void> {
      stopped = true;
      for (const wake of pauses) wake();
      await subscription?.unsubscribe();
      try {
        await running;
      } finally {
        // A projector that failed holds nothing either: a rebuild can repair what it left. A claim
        // the store keeps (it is down, or does not answer in time) lapses by itself: the stop, and
        // the closing of the stores after it, go on.
        await lease?.release().catch(onWarning);
      }
    },
  };
};

export type ProjectorGroup = ReturnType<typeof createProjectorGroup>;

/** Runs one read model (a rebuild, a test): a group of one. */
export const createProjector = (options: ProjectorOptions) => {
  const { definition, collections, searchIndexes, checkpointId, ...shared } = options;
  const target: ReadModelTarget = {
    definition,
    ...(collections === undefined ? {} : { collections }),
    ...(searchIndexes === undefined ? {} : { searchIndexes }),
    ...(checkpointId === undefined ? {} : { checkpointId }),
  };
  const group = createProjectorGroup({ ...shared, readModels: [target] });
  return {
    name: definition.name,
    start: group.start,
    loaded: group.loaded,
    status: (): ProjectorStatus => group.status()[0]!,
    waitFor: group.waitFor,
    stop: group.stop,
  };
};

export type Projector = ReturnType<typeof createProjector>;

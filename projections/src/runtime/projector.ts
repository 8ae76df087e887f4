import {
  sortableBigint,
  SubscriptionDroppedError,
  type DocumentStore,
  type EventStore,
  type GlobalPosition,
  type RecordedEvent,
  type SearchIndex,
  type Subscription,
} from '@folio/shared';
import {
  CHECKPOINTS_COLLECTION,
  liveCollections,
  liveSearchIndexes,
  searchAliases,
  type ProjectionDefinition,
  type ProjectionHandler,
} from './projection.js';

export interface ProjectorOptions {
  eventStore: EventStore;
  documents: DocumentStore;
  definition: ProjectionDefinition;
  /** Required when the projection has search roles. */
  searchIndex?: SearchIndex;
  /** Defaults to the live collections; a rebuild passes its own. */
  collections?: Readonly<Record<string, string>>;
  /** Defaults to the live search indexes; a rebuild passes its own. */
  searchIndexes?: Readonly<Record<string, string>>;
  /** Defaults to `<name>_v<version>`; a rebuild passes its own. */
  checkpointId?: string;
  /** Events per transaction at most. */
  batchSize?: number;
  /** How long a partial batch may wait for more events once the log is quiet. */
  lingerMs?: number;
  onError?: (error: unknown) => void;
  /** Called after each committed batch with the checkpoint it stored (metrics, tests). */
  onCommit?: (position: GlobalPosition) => void;
}

export interface ProjectorStatus {
  name: string;
  /** Last position whose effects are committed (undefined before the first). */
  position: GlobalPosition | undefined;
  caughtUp: boolean;
  /** When the last committed event was recorded in the log. */
  lastEventAt: Date | undefined;
}

interface CheckpointDocument {
  _id: string;
  position: string;
  sortablePosition: string;
  lastEventAt: string | null;
  [key: string]: string | null;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs one projection: subscribes to `$all` after its stored checkpoint, hands events to the
 * projection in order and in batches, and commits each batch's read-model changes together with
 * the checkpoint in one transaction, so a crash can only replay a batch (which the projection
 * absorbs), never skip one. A dropped subscription is resumed from the checkpoint with backoff.
 */
export const createProjector = (options: ProjectorOptions) => {
  const { eventStore, documents, definition } = options;
  const collections = options.collections ?? liveCollections(definition);
  const checkpointId = options.checkpointId ?? `${definition.name}_v${definition.version}`;
  const batchSize = options.batchSize ?? 500;
  const lingerMs = options.lingerMs ?? 2;
  const onError = options.onError ?? ((error: unknown) => console.error(JSON.stringify({ level: 'error', msg: 'projector error', projection: definition.name, error: String(error) })));
  const searchRoles = Object.entries(definition.searchRoles ?? {});
  if (searchRoles.length > 0 && options.searchIndex === undefined) {
    throw new TypeError(`projection ${definition.name} keeps search indexes: the projector needs a search index`);
  }
  let handler: ProjectionHandler | undefined;

  /**
   * The live projector writes to the search index readers search (the alias's target, created
   * on first start); a rebuild writes to its own.
   */
  const prepareTarget = async (): Promise<ProjectionHandler> => {
    for (const [role, indexes] of Object.entries(definition.indexes ?? {})) {
      for (const fields of indexes) await documents.ensureIndex(collections[role]!, fields);
    }
    const search = options.searchIndex;
    const searchIndexes: Record<string, string> = {};
    const aliases = searchAliases(definition);
    const firstIndexes = liveSearchIndexes(definition);
    for (const [role, schema] of searchRoles) {
      const aliased = options.searchIndexes === undefined ? await search!.resolveAlias(aliases[role]!) : undefined;
      const index = options.searchIndexes?.[role] ?? aliased ?? firstIndexes[role]!;
      await search!.ensureIndex(index, schema);
      if (options.searchIndexes === undefined && aliased === undefined) await search!.setAlias(aliases[role]!, index);
      searchIndexes[role] = index;
    }
    return definition.create({ collections, searchIndexes, ...(search === undefined ? {} : { search }) });
  };

  let position: GlobalPosition | undefined;
  let lastEventAt: Date | undefined;
  let caughtUp = false;
  let stopped = false;
  let subscription: Subscription | undefined;
  let running: Promise<void> | undefined;
  const waiters = new Set<{ target: GlobalPosition; resolve: () => void }>();
  let caughtUpOnce!: () => void;
  const firstCatchUp = new Promise<void>((resolve) => {
    caughtUpOnce = resolve;
  });

  const advanced = (to: GlobalPosition, at: Date | undefined) => {
    position = to;
    if (at !== undefined) lastEventAt = at;
    for (const waiter of waiters) {
      if (waiter.target <= to) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };

  const readCheckpoint = async (): Promise<void> => {
    const stored = await documents.get<CheckpointDocument>(CHECKPOINTS_COLLECTION, checkpointId);
    if (stored !== undefined) {
      advanced(BigInt(stored.position), stored.lastEventAt === null ? undefined : new Date(stored.lastEventAt));
    }
  };

  const commit = async (events: readonly RecordedEvent[], through: GlobalPosition): Promise<void> => {
    const last = events.at(-1);
    const at = last?.created ?? lastEventAt;
    await documents.withTransaction(async (session) => {
      if (events.length > 0) await handler!.handle(events, session);
      const checkpoint: CheckpointDocument = {
        _id: checkpointId,
        position: through.toString(),
        sortablePosition: sortableBigint(through),
        lastEventAt: at === undefined ? null : at.toISOString(),
      };
      await session.put(CHECKPOINTS_COLLECTION, checkpoint);
    });
    advanced(through, at);
    options.onCommit?.(through);
  };

  /** Consumes one subscription until it ends; batches events, lingering briefly for more. */
  const consume = async (): Promise<void> => {
    subscription = eventStore.subscribeToAll({
      fromPosition: position ?? 'start',
      filter: definition.filter,
    });
    const iterator = subscription[Symbol.asyncIterator]();
    let batch: RecordedEvent[] = [];
    let through: GlobalPosition | undefined;
    let pending = iterator.next();
    for (;;) {
      const next =
        batch.length > 0 || (through !== undefined && through !== position)
          ? await Promise.race([pending, sleep(lingerMs).then(() => undefined)])
          : await pending;
      if (next === undefined) {
        await commit(batch, through!);
        batch = [];
        continue;
      }
      if (next.done) break;
      pending = iterator.next();
      const message = next.value;
      if (message.kind === 'event') {
        batch.push(message.event);
        through = message.event.position;
        if (batch.length >= batchSize) {
          await commit(batch, through);
          batch = [];
        }
      } else if (message.kind === 'checkpoint') {
        // Past a run of events this projection skips: remember how far the log was read.
        through = message.position;
      } else if (message.kind === 'caughtUp') {
        if (through !== undefined && (batch.length > 0 || through !== position)) {
          await commit(batch, through);
          batch = [];
        }
        caughtUp = true;
        caughtUpOnce();
      } else {
        caughtUp = false;
      }
    }
    if (through !== undefined && (batch.length > 0 || through !== position)) await commit(batch, through);
  };

  const run = async (): Promise<void> => {
    handler = await prepareTarget();
    await readCheckpoint();
    let failures = 0;
    while (!stopped) {
      try {
        await consume();
        failures = 0;
      } catch (error) {
        if (stopped) return;
        if (!(error instanceof SubscriptionDroppedError)) onError(error);
        failures += 1;
        // Back to the last committed checkpoint: the uncommitted batch is read again.
        await readCheckpoint();
        await sleep(Math.min(5_000, 50 * 2 ** Math.min(failures, 7)));
      }
    }
  };

  return {
    name: definition.name,
    /** Starts projecting; resolves once the projector has caught up with the log the first time. */
    start(): Promise<void> {
      running ??= run();
      return firstCatchUp;
    },
    status: (): ProjectorStatus => ({ name: definition.name, position, caughtUp, lastEventAt }),
    /**
     * Resolves true once every event up to `target` is in the read model, or false after
     * `timeoutMs`: how a reader waits for its own write.
     */
    waitFor(target: GlobalPosition, timeoutMs: number): Promise<boolean> {
      if (position !== undefined && position >= target) return Promise.resolve(true);
      return new Promise((resolve) => {
        const waiter = { target, resolve: () => resolve(true) };
        waiters.add(waiter);
        setTimeout(() => {
          if (waiters.delete(waiter)) resolve(false);
        }, timeoutMs).unref();
      });
    },
    async stop(): Promise<void> {
      stopped = true;
      await subscription?.unsubscribe();
      await running;
    },
  };
};

export type Projector = ReturnType<typeof createProjector>;

import { setTimeout as sleep } from 'node:timers/promises';
import {
  MongoClient,
  MongoError,
  MongoErrorLabel,
  MongoServerError,
  ReadConcern,
  type ClientSession,
  type Filter,
  type TransactionOptions,
} from 'mongodb';
import { InvalidArgumentError } from '../eventStore/errors.js';
import type { Document, DocumentSession, DocumentStore, FindOptions, FoundPage, Where } from './documentStore.js';
import {
  createChecksum,
  createSessionGuard,
  createTransactionScope,
  pageOf,
  planFind,
  requireCollectionName,
  requireDocumentId,
  requireDocumentIds,
  requireIndexFields,
  requireWhere,
  serializeDocument,
  serializeDocuments,
  type FindPlan,
  type WhereValue,
} from './documentArguments.js';
import { toPortError } from './mongoErrorMapping.js';

export interface MongoDocumentStoreOptions {
  /**
   * A MongoDB connection string. The deployment must be a replica set (a single node will do).
   * Its `wtimeoutMS` bounds how long a write waits for a majority (`DEFAULT_MAJORITY_WAIT_MS`
   * when absent).
   */
  url: string;
  database: string;
}

/** Documents as stored: exactly the JSON the caller's document serializes to, with its string `_id`. */
interface StoredDocument {
  _id: string;
  [field: string]: unknown;
}

/**
 * How long a commit or a collection change waits for a majority of the replica set to acknowledge
 * it, unless the connection string's `wtimeoutMS` says otherwise. Without a majority (members down
 * or partitioned away) an unbounded wait never ends, and the projector stalls with it. When the
 * wait runs out the write may or may not have been applied: the caller gets
 * `StoreUnavailableError` and retries, which projector batches bear (their position guards make
 * a batch applied twice count once).
 */
export const DEFAULT_MAJORITY_WAIT_MS = 10_000;

/**
 * Multi-document transactions exist only on replica sets (and sharded clusters), which is why
 * docker-compose runs MongoDB as a single-node replica set. Snapshot reads and majority commits
 * give each transaction one consistent view and make what it committed survive a failover.
 *
 * The commit's wait is bounded twice over: `maxCommitTimeMS` fails it once, where a write concern
 * timeout alone would leave its outcome unknown and the commit tried again. Its clock starts with
 * the command, before the write concern's, so it is the one that runs out.
 */
const transactionOptions = (majorityWaitMs: number): TransactionOptions => ({
  readConcern: { level: 'snapshot' },
  writeConcern: { w: 'majority', wtimeoutMS: majorityWaitMs },
  maxCommitTimeMS: majorityWaitMs,
  readPreference: 'primary',
});

/**
 * How long a transaction is tried again after the server aborted it (a write conflict, a
 * failover: `TransientTransactionError`) or did not confirm its commit
 * (`UnknownTransactionCommitResult`). The driver's `withTransaction` retries these for two
 * minutes; the projector, which redoes a failed batch from its checkpoints with its own backoff,
 * must hear of a store that keeps failing long before that, as its lag and health do. No new
 * attempt starts once the window has passed; the one under way is bounded by the operations'
 * own timeouts (`serverSelectionTimeoutMS`, `maxCommitTimeMS`).
 */
export const TRANSACTION_RETRY_WINDOW_MS = 2_000;
/** Pause before the first retry of a transaction, doubled each time up to `RETRY_PAUSE_MAX_MS`, jittered. */
const RETRY_PAUSE_MS = 5;
const RETRY_PAUSE_MAX_MS = 250;

const NAMESPACE_NOT_FOUND = 26;
/** Ids per `$in` query of `getMany`, however short. */
const IDS_PER_QUERY = 1000;
/**
 * Bytes of ids per `$in` query of `getMany`: half the 16 MiB a command may take, which leaves the
 * rest of the command room to spare, and holds the longest id (`MAX_KEY_BYTES`) several times.
 */
const ID_BYTES_PER_QUERY = 8 * 1024 * 1024;
/** What BSON adds around each id in an `$in` array: type, index as key (up to 4 digits), length, terminators. */
const ID_OVERHEAD_BYTES = 16;
/**
 * Documents per read of `checksum`. Each page is a query of its own, short however large the
 * collection: one read of it all would outlast what the server keeps of a snapshot
 * (`minSnapshotHistoryWindowInSeconds`) or lets a transaction live (`transactionLifetimeLimitSeconds`).
 */
const CHECKSUM_PAGE = 1000;

const isNamespaceNotFound = (error: unknown): boolean =>
  error instanceof MongoServerError && error.code === NAMESPACE_NOT_FOUND;

const MAX_TIME_MS_EXPIRED = 50;

const hasLabel = (error: unknown, label: string): boolean => error instanceof MongoError && error.hasErrorLabel(label);

/**
 * A commit that waited `maxCommitTimeMS` for a majority: tried again, it would wait as long again.
 * The server reports it as the command's error or as its write concern's.
 */
const isCommitTimeout = (error: unknown): boolean =>
  error instanceof MongoServerError &&
  (error.code === MAX_TIME_MS_EXPIRED || error.writeConcernError?.code === MAX_TIME_MS_EXPIRED);

/** Full jitter over an exponential pause, so that conflicting writers do not meet again in step. */
const retryPause = (retry: number): Promise<void> =>
  sleep(Math.random() * Math.min(RETRY_PAUSE_MAX_MS, RETRY_PAUSE_MS * 2 ** retry));

/**
 * Equality as SQLite's adapter has it: MongoDB's plain `{ field: value }` would also match an
 * array holding the value, so arrays are ruled out.
 */
const whereFilters = (where: readonly [string, WhereValue][]): Filter<StoredDocument>[] =>
  where.map(([field, value]) =>
    field === '_id' ? { _id: value as string } : { [field]: { $eq: value, $not: { $type: 'array' } } },
  );

/**
 * Keyset condition: strictly after the cursor's (value, _id) in sort order (null < numbers <
 * strings). MongoDB's `$gt`/`$lt` compare within one type only, so each later type is a branch
 * of its own; every branch has index bounds on `{ field, _id }`.
 */
const afterFilter = (plan: FindPlan): Filter<StoredDocument> | undefined => {
  const { after, order } = plan;
  if (after === undefined) return undefined;
  const beyond = order.direction === 'asc' ? '$gt' : '$lt';
  if (order.field === '_id') return { _id: { [beyond]: after.id } };
  const field = order.field;
  const tie = { [field]: after.value, _id: { [beyond]: after.id } };
  const { value } = after;
  if (order.direction === 'asc') {
    if (value === null) return { $or: [{ [field]: { $ne: null } }, tie] };
    if (typeof value === 'number') return { $or: [{ [field]: { $gt: value } }, { [field]: { $type: 'string' } }, tie] };
    return { $or: [{ [field]: { $gt: value } }, tie] };
  }
  if (value === null) return tie;
  if (typeof value === 'number') return { $or: [{ [field]: { $lt: value } }, { [field]: null }, tie] };
  return { $or: [{ [field]: { $lt: value } }, { [field]: { $type: 'number' } }, { [field]: null }, tie] };
};

/** `ids` as the `$in` lists of `getMany`'s queries: at most `IDS_PER_QUERY` ids and `ID_BYTES_PER_QUERY` bytes each. */
const idQueries = (ids: readonly string[]): string[][] => {
  const queries: string[][] = [];
  let query: string[] = [];
  let bytes = 0;
  for (const id of ids) {
    const size = Buffer.byteLength(id, 'utf8') + ID_OVERHEAD_BYTES;
    if (query.length > 0 && (query.length === IDS_PER_QUERY || bytes + size > ID_BYTES_PER_QUERY)) {
      queries.push(query);
      query = [];
      bytes = 0;
    }
    query.push(id);
    bytes += size;
  }
  if (query.length > 0) queries.push(query);
  return queries;
};

const allOf = (filters: Filter<StoredDocument>[]): Filter<StoredDocument> =>
  filters.length === 0 ? {} : filters.length === 1 ? filters[0]! : { $and: filters };

/** The production document store, on the `mongodb` driver. */
export const createMongoDocumentStore = (options: MongoDocumentStoreOptions): DocumentStore => {
  // Neither connects yet: the first operation does (`ready`).
  const client = new MongoClient(options.url);
  const majorityWaitMs = client.options.writeConcern?.wtimeoutMS ?? DEFAULT_MAJORITY_WAIT_MS;
  const transaction = transactionOptions(majorityWaitMs);
  // Collection changes (indexes, renames, drops) wait for a majority as commits do, and no longer.
  // A rename runs on the admin database, which does not inherit this one's write concern.
  const writeConcern = { w: 'majority', wtimeoutMS: majorityWaitMs } as const;
  // Reads outside transactions see only what a majority holds: at the default (`local`) a reader
  // could see a write no majority acknowledged (a commit that timed out waiting for one), which a
  // failover then rolls back; a projector reading its checkpoint so would skip the batch for good.
  // The cost: while the majority lags, reads return its older state, and the primary keeps that
  // history in cache. Transactions read their own snapshot instead (`transactionOptions`).
  const db = client.db(options.database, { writeConcern, readConcern: new ReadConcern('majority') });
  const collectionOf = (name: string) => db.collection<StoredDocument>(name);

  /** Connects on first use; a failed attempt is forgotten so the next call tries again. */
  let connecting: Promise<unknown> | undefined;
  const ready = (): Promise<unknown> =>
    (connecting ??= client.connect().catch((error: unknown) => {
      connecting = undefined;
      throw error;
    }));

  /** Operations under way: `close` lets them finish, as SQLite's lets what it queued commit. */
  const running = new Set<Promise<unknown>>();

  const call = async <T>(operation: () => Promise<T>): Promise<T> => {
    const attempt = (async () => {
      try {
        await ready();
        return await operation();
      } catch (error) {
        throw toPortError(error);
      }
    })();
    running.add(attempt);
    try {
      return await attempt;
    } finally {
      running.delete(attempt);
    }
  };

  const scope = createTransactionScope();

  /**
   * A port session over one attempt of a transaction. `finish` or `abandon` must end it before
   * the attempt does: an operation of the driver's session that starts once its
   * transaction has committed or aborted runs outside any transaction, or inside the retry's.
   */
  const openSession = (
    mongoSession: ClientSession,
  ): { session: DocumentSession; finish(): Promise<void>; abandon(): Promise<void> } => {
    const guard = createSessionGuard();
    // The driver does not support operations of one transaction in flight together.
    let tail: Promise<unknown> = Promise.resolve();
    const inTurn = <T>(operation: () => Promise<T>): Promise<T> => {
      // Checked again when its turn comes: it may be queued behind one that outlived the attempt.
      const result = tail.then(() => {
        guard.check();
        return operation();
      });
      tail = result.catch(() => undefined);
      return result;
    };
    /** Until no operation is queued or running, including any queued meanwhile. */
    const settle = async (): Promise<void> => {
      let settled: Promise<unknown> | undefined;
      while (settled !== tail) {
        settled = tail;
        await settled;
      }
    };
    const session: DocumentSession = {
      async get<D extends Document>(collection: string, id: string) {
        guard.check();
        requireCollectionName(collection);
        requireDocumentId(id);
        const found = await inTurn(() => collectionOf(collection).findOne({ _id: id }, { session: mongoSession }));
        return (found ?? undefined) as D | undefined;
      },
      async getMany<D extends Document>(collection: string, ids: readonly string[]) {
        guard.check();
        requireCollectionName(collection);
        requireDocumentIds(ids);
        const found = new Map<string, D>();
        for (const query of idQueries(ids)) {
          // One batch for every document the query can find, and one more: the server's first
          // batch is 101 documents by default, and one it fills exactly leaves the cursor open, so
          // either would cost another round trip inside the transaction.
          const documents = await inTurn(() =>
            collectionOf(collection)
              .find({ _id: { $in: query } }, { session: mongoSession, batchSize: query.length + 1 })
              .toArray(),
          );
          for (const document of documents) found.set(document._id, document as unknown as D);
        }
        return found;
      },
      async put(collection, document) {
        guard.check();
        requireCollectionName(collection);
        const { id, json } = serializeDocument(document);
        const stored = JSON.parse(json) as StoredDocument;
        await inTurn(() =>
          collectionOf(collection).replaceOne({ _id: id }, stored, { upsert: true, session: mongoSession }),
        );
      },
      async putMany(collection, documents) {
        guard.check();
        requireCollectionName(collection);
        const operations = serializeDocuments(documents).map(({ id, json }) => ({
          replaceOne: { filter: { _id: id }, replacement: JSON.parse(json) as StoredDocument, upsert: true },
        }));
        if (operations.length === 0) return;
        // Ordered: of two writes of one id, the later lands last, as a put each would.
        await inTurn(() => collectionOf(collection).bulkWrite(operations, { session: mongoSession, ordered: true }));
      },
      async delete(collection, id) {
        guard.check();
        requireCollectionName(collection);
        requireDocumentId(id);
        await inTurn(() => collectionOf(collection).deleteOne({ _id: id }, { session: mongoSession }));
      },
    };
    return {
      session,
      // What work called but did not await still lands in this transaction, as SQLite's
      // synchronous calls do.
      async finish() {
        await settle();
        guard.close();
      },
      async abandon() {
        guard.close();
        await settle();
      },
    };
  };

  /** One attempt of `work`, in the transaction just started on `mongoSession`, with a port session of its own. */
  const attemptWork = async <T>(mongoSession: ClientSession, work: (session: DocumentSession) => Promise<T>): Promise<T> => {
    const { session, finish, abandon } = openSession(mongoSession);
    let result: T;
    try {
      result = await scope.run(() => work(session));
    } catch (error) {
      await abandon();
      throw error;
    }
    await finish();
    return result;
  };

  /**
   * Runs `work` in a transaction and commits it, as the driver's `withTransaction` does, but tries
   * again only within `TRANSACTION_RETRY_WINDOW_MS`: the work after a transient error (each time in
   * a new transaction), the commit alone when its outcome is unknown (the server commits a
   * transaction once, however often asked). Driver errors leave unmapped, for `call` to map.
   */
  const runTransaction = async <T>(mongoSession: ClientSession, work: (session: DocumentSession) => Promise<T>): Promise<T> => {
    const deadline = Date.now() + TRANSACTION_RETRY_WINDOW_MS;
    const mayRetry = async (retry: number): Promise<boolean> => {
      if (Date.now() >= deadline) return false;
      await retryPause(retry);
      return Date.now() < deadline;
    };
    for (let retry = 0; ; retry++) {
      mongoSession.startTransaction(transaction);
      let result: T;
      try {
        result = await attemptWork(mongoSession, work);
      } catch (error) {
        // Ignores what the server answers: a transaction it lost is aborted all the same.
        if (mongoSession.inTransaction()) await mongoSession.abortTransaction();
        if (hasLabel(error, MongoErrorLabel.TransientTransactionError) && (await mayRetry(retry))) continue;
        throw error;
      }
      for (let commitRetry = 0; ; commitRetry++) {
        try {
          await mongoSession.commitTransaction();
          return result;
        } catch (error) {
          const unknown = hasLabel(error, MongoErrorLabel.UnknownTransactionCommitResult) && !isCommitTimeout(error);
          if (unknown && (await mayRetry(commitRetry))) continue;
          if (hasLabel(error, MongoErrorLabel.TransientTransactionError) && (await mayRetry(retry))) break;
          throw error;
        }
      }
    }
  };

  const store: DocumentStore = {
    kind: 'mongodb',

    async withTransaction<T>(work: (session: DocumentSession) => Promise<T>): Promise<T> {
      scope.refuseInside('withTransaction');
      return call(async () => {
        const mongoSession = client.startSession();
        try {
          return await runTransaction(mongoSession, work);
        } finally {
          await mongoSession.endSession();
        }
      });
    },

    async get<D extends Document>(collection: string, id: string) {
      requireCollectionName(collection);
      requireDocumentId(id);
      const found = await call(() => collectionOf(collection).findOne({ _id: id }));
      return (found ?? undefined) as D | undefined;
    },

    async find<D extends Document>(collection: string, options?: FindOptions): Promise<FoundPage<D>> {
      requireCollectionName(collection);
      const plan = planFind(options);
      const after = afterFilter(plan);
      const filters = whereFilters(plan.where);
      if (plan.idRange !== undefined) {
        const { from, below } = plan.idRange;
        filters.push({ _id: below === undefined ? { $gte: from } : { $gte: from, $lt: below } });
      }
      if (after !== undefined) filters.push(after);
      const filter = allOf(filters);
      const direction = plan.order.direction === 'asc' ? 1 : -1;
      const sort: [string, 1 | -1][] =
        plan.order.field === '_id' ? [['_id', direction]] : [[plan.order.field, direction], ['_id', direction]];
      // One batch for the whole page: the server's first batch is 101 documents by default, and a
      // page read in two round trips is not one read (a rename between them ends the cursor).
      const documents = await call(() =>
        collectionOf(collection).find(filter, { sort, limit: plan.limit + 1, batchSize: plan.limit + 1 }).toArray(),
      );
      return pageOf(documents as D[], plan);
    },

    async count(collection: string, where?: Where) {
      requireCollectionName(collection);
      const filter = allOf(whereFilters(requireWhere(where)));
      return call(() => collectionOf(collection).countDocuments(filter));
    },

    async ensureIndex(collection, fields) {
      requireCollectionName(collection);
      const { keys } = requireIndexFields(fields);
      scope.refuseInside('ensureIndex');
      await call(() => collectionOf(collection).createIndex(keys.map((key): [string, 1] => [key, 1])));
    },

    async listCollections(prefix = '') {
      if (typeof prefix !== 'string') throw new InvalidArgumentError('a collection prefix is a string');
      const collections = await call(() =>
        db.listCollections({ type: 'collection' }, { nameOnly: true, authorizedCollections: true }).toArray(),
      );
      return collections
        .map((collection) => collection.name)
        .filter((name) => name.startsWith(prefix) && !name.startsWith('system.'))
        .sort();
    },

    async dropCollection(collection) {
      requireCollectionName(collection);
      scope.refuseInside('dropCollection');
      await call(async () => {
        try {
          await db.dropCollection(collection);
        } catch (error) {
          // Servers before 7.0 report a missing collection; dropping it is done all the same.
          if (!isNamespaceNotFound(error)) throw error;
        }
      });
    },

    async renameCollection(from, to) {
      requireCollectionName(from);
      requireCollectionName(to);
      if (from === to) throw new InvalidArgumentError(`cannot rename collection ${from} to itself`);
      scope.refuseInside('renameCollection');
      await call(async () => {
        try {
          // One server command: readers see the old `to` or the new one, never neither.
          await db.renameCollection(from, to, { dropTarget: true, writeConcern });
        } catch (error) {
          if (isNamespaceNotFound(error)) throw new InvalidArgumentError(`collection ${from} does not exist`);
          throw error;
        }
      });
    },

    async checksum(collection) {
      requireCollectionName(collection);
      return call(async () => {
        // Page after page by `_id`, not one snapshot: the port's checksum is of a collection that
        // nothing writes meanwhile, so the pages together read one state of it.
        const checksum = createChecksum();
        let after: string | undefined;
        for (;;) {
          const page = collectionOf(collection).find(after === undefined ? {} : { _id: { $gt: after } }, {
            sort: [['_id', 1]],
            limit: CHECKSUM_PAGE,
            batchSize: CHECKSUM_PAGE,
          });
          let read = 0;
          // Hashed as batches arrive: a page of large documents is never held whole.
          for await (const document of page) {
            checksum.add(document);
            after = document._id;
            read += 1;
          }
          if (read < CHECKSUM_PAGE) return checksum.digest();
        }
      });
    },

    async close() {
      await Promise.allSettled(running);
      await client.close();
    },
  };
  return store;
};

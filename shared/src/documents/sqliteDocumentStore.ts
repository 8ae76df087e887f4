import { makeDirectories } from '../files/makeDirectories.js';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { InvalidArgumentError, StoreUnavailableError } from '../eventStore/errors.js';
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

export interface SqliteDocumentStoreOptions {
  /** The database file; its directory is created when missing. */
  path: string;
}

/** Prepared statements kept per connection; the least recently used go first. */
const MAX_CACHED_STATEMENTS = 256;

/**
 * Names reach SQL only after `requireCollectionName` / `requireFieldName`, whose patterns admit no
 * quote, so quoting them cannot be escaped from; values are always bound parameters.
 */
const table = (collection: string): string => `"${collection}"`;

/** The same text in indexes and queries, so SQLite matches the query to the expression index. */
const keyOf = (field: string): string => (field === '_id' ? '_id' : `json_extract(doc, '$.${field}')`);

/** Index names carry their fields, so a rename can rebuild them under the new collection's name. */
const indexName = (collection: string, fields: readonly string[]): string => `${collection}/${fields.join(',')}`;

const createIndexSql = (collection: string, fields: readonly string[], keys: readonly string[]): string =>
  `CREATE INDEX IF NOT EXISTS "${indexName(collection, fields)}" ` +
  `ON ${table(collection)} (${keys.map(keyOf).join(', ')})`;

/**
 * SQLite's own comparison already orders NULL < numbers < text, as MongoDB does, but its `=`
 * would let `true` equal `1` and a JSON object's text equal a string: the type test keeps
 * equality exact.
 */
const whereSql = (where: readonly [string, WhereValue][], params: unknown[]): string[] =>
  where.map(([field, value]) => {
    const key = keyOf(field);
    const type = `json_type(doc, '$.${field}')`;
    if (field === '_id') {
      params.push(value);
      return '_id = ?';
    }
    if (value === null) return `${key} IS NULL`;
    if (typeof value === 'boolean') return `${key} = ${value ? 1 : 0} AND ${type} = '${value}'`;
    params.push(value);
    return typeof value === 'number'
      ? `${key} = ? AND ${type} IN ('integer', 'real')`
      : `${key} = ? AND ${type} = 'text'`;
  });

/** One query of a page: `condition` narrows it; `keyFixed` when it pins the order key, so `_id` alone orders it. */
interface Segment {
  condition?: string;
  params: unknown[];
  keyFixed: boolean;
}

/**
 * The rows strictly after (`asc`) or before (`desc`) the cursor's (value, _id), in order, as
 * queries that each seek in the `(key, _id)` index instead of scanning up to the cursor. NULLs
 * sort first, and SQL comparisons never match them, so they get segments of their own.
 */
const keysetSegments = (plan: FindPlan): Segment[] => {
  const { after, order } = plan;
  if (after === undefined) return [{ params: [], keyFixed: false }];
  const ascending = order.direction === 'asc';
  if (order.field === '_id') {
    return [{ condition: ascending ? '_id > ?' : '_id < ?', params: [after.id], keyFixed: false }];
  }
  const key = keyOf(order.field);
  if (after.value === null) {
    return ascending
      ? [
          { condition: `${key} IS NULL AND _id > ?`, params: [after.id], keyFixed: true },
          { condition: `${key} IS NOT NULL`, params: [], keyFixed: false },
        ]
      : [{ condition: `${key} IS NULL AND _id < ?`, params: [after.id], keyFixed: true }];
  }
  const params = [after.value, after.value, after.id];
  return ascending
    ? [{ condition: `${key} >= ? AND (${key} > ? OR _id > ?)`, params, keyFixed: false }]
    : [
        { condition: `${key} <= ? AND (${key} < ? OR _id < ?)`, params, keyFixed: false },
        { condition: `${key} IS NULL`, params: [], keyFixed: true },
      ];
};

const whereClause = (conditions: readonly string[]): string =>
  conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`;

const isBusy = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
};

/** Another process held the file's write lock past the busy timeout: the caller may retry. */
const toStoreError = (error: unknown): unknown =>
  isBusy(error)
    ? new StoreUnavailableError(`the document store is busy: ${(error as Error).message}`, { cause: error })
    : error;

const mapErrors = async <T>(operation: () => Promise<T> | T): Promise<T> => {
  try {
    return await operation();
  } catch (error) {
    throw toStoreError(error);
  }
};

const statementCache = (db: Database.Database) => {
  const cache = new Map<string, Database.Statement<unknown[]>>();
  return (sql: string): Database.Statement<unknown[]> => {
    let statement = cache.get(sql);
    if (statement !== undefined) {
      cache.delete(sql);
    } else {
      statement = db.prepare(sql);
      if (cache.size >= MAX_CACHED_STATEMENTS) cache.delete(cache.keys().next().value!);
    }
    cache.set(sql, statement);
    return statement;
  };
};

/**
 * The single-document statements of each collection, prepared once: a projection batch runs
 * them hundreds of thousands of times, where building and looking up their SQL text each time
 * costs as much as a small insert.
 */
const collectionStatements = (db: Database.Database) => {
  const byCollection = new Map<
    string,
    {
      get: Database.Statement<[string], string>;
      getMany: Database.Statement<[string], [string, string]>;
      put: Database.Statement<[string, string]>;
      delete: Database.Statement<[string]>;
    }
  >();
  const statementsOf = (collection: string) => {
    let statements = byCollection.get(collection);
    if (statements === undefined) {
      if (byCollection.size >= MAX_CACHED_STATEMENTS) byCollection.delete(byCollection.keys().next().value!);
      statements = {
        get: db.prepare<[string], string>(`SELECT doc FROM ${table(collection)} WHERE _id = ?`).pluck(),
        // The ids travel as one JSON array: any number of them, in one statement.
        getMany: db
          .prepare<[string], [string, string]>(
            `SELECT _id, doc FROM ${table(collection)} WHERE _id IN (SELECT value FROM json_each(?))`,
          )
          .raw(),
        put: db.prepare<[string, string]>(
          `INSERT INTO ${table(collection)} (_id, doc) VALUES (?, ?) ON CONFLICT (_id) DO UPDATE SET doc = excluded.doc`,
        ),
        delete: db.prepare<[string]>(`DELETE FROM ${table(collection)} WHERE _id = ?`),
      };
      byCollection.set(collection, statements);
    }
    return statements;
  };
  /** After a drop or rename: the statements would otherwise name a table that is gone or another one. */
  statementsOf.forget = (collection: string): void => {
    byCollection.delete(collection);
  };
  return statementsOf;
};

const WAL_BUDGET_BYTES = 64 * 2 ** 20;

/** Runs tasks one at a time, in call order, whether each succeeds or fails. */
const createSerialQueue = () => {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const result = tail.then(task, task);
    tail = result.catch(() => undefined);
    return result;
  };
};

/**
 * The embedded document store: one table per collection (`_id`, `doc` as JSON text) in a SQLite
 * file of its own. Writes go through one connection, one transaction at a time; reads go through
 * a second connection, so under WAL they never see a transaction that has not committed.
 */
export const openSqliteDocumentStore = (options: SqliteDocumentStoreOptions): DocumentStore => {
  const { path } = options;
  if (path === '' || path === ':memory:') {
    throw new InvalidArgumentError('the document store needs a file: it opens it twice (writer and reader)');
  }
  makeDirectories(dirname(path));
  const writer = new Database(path);
  // Before anything is written, so a new file takes it (an existing one keeps its own): read
  // models insert documents all over their B-trees in large batches, and 16 KiB pages make the
  // trees shallower and a commit write fewer pages (a 1,000,000-event catch-up took about 7 %
  // less main-thread time than with the default 4 KiB).
  writer.pragma('page_size = 16384');
  writer.pragma('journal_mode = WAL');
  // Read models are rebuilt from the log: a commit lost to a power cut is replayed from the
  // checkpoint stored in the same transaction, so NORMAL (consistent, not fsynced per commit) is
  // enough and spares the log's disk an fsync per projected batch.
  writer.pragma('synchronous = NORMAL');
  writer.pragma('busy_timeout = 10000');
  // Projections write batches that touch index pages all over the file: a larger page cache
  // keeps them in memory between commits, and a larger WAL copies each back once per checkpoint
  // rather than once per commit.
  writer.pragma('cache_size = -65536');
  // The WAL's budget in bytes (64 MiB), whatever the file's page size.
  writer.pragma(`wal_autocheckpoint = ${WAL_BUDGET_BYTES / Number(writer.pragma('page_size', { simple: true }))}`);
  const reader = new Database(path, { readonly: true });
  reader.pragma('busy_timeout = 10000');

  const readStatement = statementCache(reader);
  const writerStatements = collectionStatements(writer);
  const readerStatements = collectionStatements(reader);
  const forgetStatements = (collection: string): void => {
    writerStatements.forget(collection);
    readerStatements.forget(collection);
  };
  const tableExistsOn = (db: Database.Database) =>
    db.prepare<[string], number>("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").pluck();
  const writerHasTable = tableExistsOn(writer);
  const readerHasTable = tableExistsOn(reader);
  const selectTables = reader
    .prepare<[], string>(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    )
    .pluck();
  const selectIndexes = writer
    .prepare<[string], string>(
      "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
    )
    .pluck();

  /** Checked inside the transaction each time: another process may have created or dropped it. */
  const ensureTable = (collection: string): void => {
    if (writerHasTable.get(collection) !== undefined) return;
    writer.exec(`CREATE TABLE ${table(collection)} (_id TEXT NOT NULL PRIMARY KEY, doc TEXT NOT NULL) STRICT`);
  };

  const parse = <D extends Document>(json: string | undefined): D | undefined =>
    json === undefined ? undefined : (JSON.parse(json) as D);

  /** One read transaction, so the table seen to exist is the one queried even if another process drops it. */
  const read = <T>(collection: string, whenMissing: T, query: () => T): Promise<T> =>
    mapErrors(() => reader.transaction(() => (readerHasTable.get(collection) === undefined ? whenMissing : query()))());

  const writeQueue = createSerialQueue();
  const scope = createTransactionScope();

  /** A short write of its own (index, drop, rename), queued behind any running transaction. */
  const writeAlone = (what: string, change: () => void): Promise<void> => {
    scope.refuseInside(what);
    return writeQueue(() => mapErrors(() => writer.transaction(change).immediate()));
  };

  const openSession = (): { session: DocumentSession; close(): void } => {
    const guard = createSessionGuard();
    // The transaction holds the write lock, so a table seen here stays until it ends.
    const tables = new Set<string>();
    const hasTable = (collection: string): boolean => {
      if (tables.has(collection)) return true;
      if (writerHasTable.get(collection) === undefined) return false;
      tables.add(collection);
      return true;
    };
    const writable = (collection: string) => {
      if (!hasTable(collection)) {
        ensureTable(collection);
        tables.add(collection);
      }
      return writerStatements(collection);
    };
    // Each method is synchronous underneath: its effect happens when it is called, inside the transaction.
    const session: DocumentSession = {
      async get<D extends Document>(collection: string, id: string) {
        guard.check();
        requireCollectionName(collection);
        requireDocumentId(id);
        if (!hasTable(collection)) return undefined;
        return parse<D>(writerStatements(collection).get.get(id));
      },
      async getMany<D extends Document>(collection: string, ids: readonly string[]) {
        guard.check();
        requireCollectionName(collection);
        requireDocumentIds(ids);
        const found = new Map<string, D>();
        if (ids.length === 0 || !hasTable(collection)) return found;
        for (const [id, json] of writerStatements(collection).getMany.all(JSON.stringify(ids))) found.set(id, JSON.parse(json) as D);
        return found;
      },
      async put(collection, document) {
        guard.check();
        requireCollectionName(collection);
        const { id, json } = serializeDocument(document);
        writable(collection).put.run(id, json);
      },
      async putMany(collection, documents) {
        guard.check();
        requireCollectionName(collection);
        const serialized = serializeDocuments(documents);
        if (serialized.length === 0) return;
        const { put } = writable(collection);
        for (const { id, json } of serialized) put.run(id, json);
      },
      async delete(collection, id) {
        guard.check();
        requireCollectionName(collection);
        requireDocumentId(id);
        if (!hasTable(collection)) return;
        writerStatements(collection).delete.run(id);
      },
    };
    return { session, close: guard.close };
  };

  const store: DocumentStore = {
    kind: 'sqlite',

    async withTransaction<T>(work: (session: DocumentSession) => Promise<T>): Promise<T> {
      scope.refuseInside('withTransaction');
      return writeQueue(async () => {
        try {
          writer.exec('BEGIN IMMEDIATE');
        } catch (error) {
          throw toStoreError(error);
        }
        const { session, close } = openSession();
        try {
          const result = await scope.run(() => work(session));
          close();
          writer.exec('COMMIT');
          return result;
        } catch (error) {
          close();
          // SQLite may already have rolled back on its own (a full disk, an I/O error).
          if (writer.inTransaction) writer.exec('ROLLBACK');
          throw toStoreError(error);
        }
      });
    },

    async get<D extends Document>(collection: string, id: string) {
      requireCollectionName(collection);
      requireDocumentId(id);
      return read(collection, undefined, () =>
        parse<D>(readerStatements(collection).get.get(id)),
      );
    },

    async find<D extends Document>(collection: string, options?: FindOptions): Promise<FoundPage<D>> {
      requireCollectionName(collection);
      const plan = planFind(options);
      const whereParams: unknown[] = [];
      const where = whereSql(plan.where, whereParams);
      if (plan.idRange !== undefined) {
        // A range of the primary key: SQLite seeks to it, in either direction.
        where.push('_id >= ?');
        whereParams.push(plan.idRange.from);
        if (plan.idRange.below !== undefined) {
          where.push('_id < ?');
          whereParams.push(plan.idRange.below);
        }
      }
      const { field, direction } = plan.order;
      const queries = keysetSegments(plan).map((segment) => {
        const conditions = segment.condition === undefined ? where : [...where, segment.condition];
        const orderBy =
          field === '_id' || segment.keyFixed ? `_id ${direction}` : `${keyOf(field)} ${direction}, _id ${direction}`;
        return {
          sql: `SELECT doc FROM ${table(collection)}${whereClause(conditions)} ORDER BY ${orderBy} LIMIT ?`,
          params: [...whereParams, ...segment.params],
        };
      });
      const rows = await read(collection, [], () => {
        const found: string[] = [];
        for (const query of queries) {
          // One more than the page holds tells whether another page follows.
          const wanted = plan.limit + 1 - found.length;
          if (wanted === 0) break;
          found.push(...(readStatement(query.sql).pluck().all([...query.params, wanted]) as string[]));
        }
        return found;
      });
      return pageOf(
        rows.map((json) => JSON.parse(json) as D),
        plan,
      );
    },

    async count(collection: string, where?: Where) {
      requireCollectionName(collection);
      const params: unknown[] = [];
      const sql = `SELECT count(*) FROM ${table(collection)}${whereClause(whereSql(requireWhere(where), params))}`;
      return read(collection, 0, () => Number(readStatement(sql).pluck().get(params)));
    },

    async ensureIndex(collection, fields) {
      requireCollectionName(collection);
      const index = requireIndexFields(fields);
      return writeAlone('ensureIndex', () => {
        ensureTable(collection);
        writer.exec(createIndexSql(collection, index.fields, index.keys));
      });
    },

    async listCollections(prefix = '') {
      if (typeof prefix !== 'string') throw new InvalidArgumentError('a collection prefix is a string');
      const names = await mapErrors(() => selectTables.all());
      return names.filter((name) => name.startsWith(prefix)).sort();
    },

    async dropCollection(collection) {
      requireCollectionName(collection);
      return writeAlone('dropCollection', () => {
        forgetStatements(collection);
        writer.exec(`DROP TABLE IF EXISTS ${table(collection)}`);
      });
    },

    async renameCollection(from, to) {
      requireCollectionName(from);
      requireCollectionName(to);
      if (from === to) throw new InvalidArgumentError(`cannot rename collection ${from} to itself`);
      return writeAlone('renameCollection', () => {
        if (writerHasTable.get(from) === undefined) throw new InvalidArgumentError(`collection ${from} does not exist`);
        // An index keeps its name through ALTER TABLE; left as is, it would block the same index on a new `from`.
        const ownIndexes = selectIndexes.all(from).filter((name) => name.startsWith(`${from}/`));
        for (const name of ownIndexes) writer.exec(`DROP INDEX "${name}"`);
        forgetStatements(from);
        forgetStatements(to);
        writer.exec(`DROP TABLE IF EXISTS ${table(to)}`);
        writer.exec(`ALTER TABLE ${table(from)} RENAME TO ${table(to)}`);
        for (const name of ownIndexes) {
          const index = requireIndexFields(name.slice(from.length + 1).split(','));
          writer.exec(createIndexSql(to, index.fields, index.keys));
        }
      });
    },

    async checksum(collection) {
      requireCollectionName(collection);
      const checksum = createChecksum();
      await read(collection, undefined, () => {
        const rows = readStatement(`SELECT doc FROM ${table(collection)} ORDER BY _id`).pluck().iterate();
        for (const json of rows as Iterable<string>) checksum.add(JSON.parse(json));
      });
      return checksum.digest();
    },

    async close() {
      // Transactions already queued commit before the connections close.
      await writeQueue(async () => undefined);
      reader.close();
      writer.close();
    },
  };
  return store;
};

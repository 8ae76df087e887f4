/**
 * The embedded search index: one SQLite file (better-sqlite3, WAL, `synchronous=FULL`) holding
 * any number of indexes and the aliases that point at them; its tables are described in
 * `sqliteSearchTables.ts`.
 */
import type Database from 'better-sqlite3';
import {
  invalid,
  prepareDocuments,
  requireId,
  requireLoading,
  requireIndexName,
  requireSameSchema,
  requireSchema,
  toHit,
  type WireFields,
} from './searchDocuments.js';
import { encodeCursor, planQuery, type PlannedQuery } from './searchQueries.js';
import type { EnsureIndexOptions, SearchDocument, SearchHit, SearchIndex, SearchQuery, SearchResult, SearchSchema } from './searchIndex.js';
import {
  coveringIndexOf,
  createSearchTables,
  KEYS_COLUMN,
  keyToken,
  openSearchDatabase,
  placeholders,
  type Bindable,
  type DocumentRow,
  type OpenIndex,
} from './sqliteSearchTables.js';
import { createSearchWriter } from './sqliteSearchWriter.js';
import { verifiedChecksum } from './sqliteSearchVerification.js';

export { SearchIndexDisagreementError } from './sqliteSearchVerification.js';

export interface SqliteSearchIndexOptions {
  /** The database file; its directory is created when missing. */
  path: string;
  /**
   * Writes documents on a thread of their own, with a connection of its own, so that the
   * inserts and commits of `upsert` run beside the caller's other work (a projector folding
   * events). Searches and every other operation stay on the calling thread.
   */
  writeThread?: boolean;
}

/** Search and probe statements differ by query shape; this many stay prepared. */
const MAX_CACHED_STATEMENTS = 200;
/**
 * Filters are counted up to this many rows. The query starts from the index of the filter
 * matching fewest rows when that is below this and below the rows a walk along the sort order
 * is expected to visit before it fills a page; otherwise it walks the sort order, checking the
 * filters on the way.
 */
const COUNT_CAP = 10_000;
/**
 * Full-text matches kept per connection, each in a temporary table of its own: paging through a
 * search runs its full-text query once, not once per page, for as long as the index is unchanged.
 */
const MATCH_SLOTS = 8;

interface Condition {
  /** The keyword, amount or date field it filters on (none for text). */
  field: string | undefined;
  /** The SQL, given `'+'` to keep SQLite from using an index for it, or `''`. */
  sql: (unindexed: string) => string;
  params: readonly Bindable[];
  /** How many rows match it, counted up to `COUNT_CAP` (words: exactly). */
  rows: number;
}

/**
 * The rows full-text queries matched, in temporary tables of this connection (`search_match_<n>`),
 * reused while the file is unchanged: `data_version` tells commits by other connections (the
 * writer thread, other processes), `changed` this connection's own.
 */
const createMatchCache = (db: Database.Database) => {
  db.pragma('temp_store = MEMORY');
  const slots = Array.from({ length: MATCH_SLOTS }, (_, n) => `temp.search_match_${n}`);
  for (const slot of slots) db.exec(`CREATE TABLE IF NOT EXISTS ${slot} (doc INTEGER PRIMARY KEY)`);
  const clearSlot = slots.map((slot) => db.prepare(`DELETE FROM ${slot}`));
  const fills = new Map<string, Database.Statement<[string]>>();
  /** By query, least recently used first. */
  const entries = new Map<string, { slot: number; rows: number }>();
  let version = '';
  let ownWrites = 0;
  return {
    /** Call inside the read transaction the search runs in, so the rows are those of its snapshot. */
    rowsOf(text: string, match: string): { table: string; rows: number } {
      const now = `${String(db.pragma('data_version', { simple: true }))}:${ownWrites}`;
      if (now !== version) {
        entries.clear();
        version = now;
      }
      const key = `${text}\u0000${match}`;
      let entry = entries.get(key);
      if (entry !== undefined) {
        entries.delete(key);
      } else {
        const used = new Set([...entries.values()].map(({ slot }) => slot));
        let slot = slots.findIndex((_, n) => !used.has(n));
        if (slot < 0) {
          const [oldest, evicted] = entries.entries().next().value!;
          entries.delete(oldest);
          slot = evicted.slot;
        }
        clearSlot[slot]!.run();
        const sql = `INSERT INTO ${slots[slot]} SELECT rowid FROM ${text} WHERE ${text} MATCH ?`;
        let fill = fills.get(sql);
        if (fill === undefined) {
          fill = db.prepare<[string]>(sql);
          fills.set(sql, fill);
        }
        entry = { slot, rows: fill.run(match).changes };
      }
      entries.set(key, entry);
      return { table: slots[entry.slot]!, rows: entry.rows };
    },
    changed(): void {
      ownWrites += 1;
    },
    /** A search that failed rolled its transaction back, and with it the rows it put in a slot. */
    forget(): void {
      entries.clear();
    },
  };
};

const quoted = (token: string): string => `"${token.replaceAll('"', '""')}"`;

export const openSqliteSearchIndex = (options: SqliteSearchIndexOptions): SearchIndex => {
  const db = openSearchDatabase(options.path);
  const tables = createSearchTables(db);
  const { find, resolve } = tables;
  const writer = options.writeThread === true ? createSearchWriter(options.path) : undefined;
  const matches = createMatchCache(db);
  const selectIndexByName = db.prepare<[string], { tag: bigint }>('SELECT tag FROM search_indexes WHERE name = ?');
  const selectIndexNames = db
    .prepare<{ prefix: string }, string>('SELECT name FROM search_indexes WHERE substr(name, 1, length(@prefix)) = @prefix ORDER BY name')
    .pluck();
  const insertIndex = db.prepare<[string, string]>('INSERT INTO search_indexes (name, schema) VALUES (?, ?)');
  const deleteIndex = db.prepare<[bigint]>('DELETE FROM search_indexes WHERE tag = ?');
  const selectAlias = db.prepare<[string], { target: string }>('SELECT target FROM search_aliases WHERE alias = ?');
  const upsertAlias = db.prepare<[string, string]>(
    'INSERT INTO search_aliases (alias, target) VALUES (?, ?) ON CONFLICT (alias) DO UPDATE SET target = excluded.target',
  );
  const deleteAliasesOf = db.prepare<[string]>('DELETE FROM search_aliases WHERE target = ?');
  const selectIndexNamed = db.prepare<[string], { found: bigint }>(
    "SELECT 1 AS found FROM sqlite_schema WHERE type = 'index' AND name = ?",
  );

  const statements = new Map<string, Database.Statement<Bindable[], unknown>>();

  const statement = <R>(sql: string): Database.Statement<Bindable[], R> => {
    let prepared = statements.get(sql);
    if (prepared === undefined) {
      prepared = db.prepare<Bindable[]>(sql);
      if (statements.size >= MAX_CACHED_STATEMENTS) statements.delete(statements.keys().next().value!);
      statements.set(sql, prepared);
    }
    return prepared as Database.Statement<Bindable[], R>;
  };

  const countUpTo = (sql: string, params: readonly Bindable[]): number =>
    Number(statement<{ n: bigint }>(`SELECT count(*) AS n FROM (${sql} LIMIT ${COUNT_CAP})`).get(...params)!.n);

  /** An equality filter on a keyword field, as counted for planning. */
  interface Equality {
    field: string;
    column: string;
    wanted: string[];
    rows: number;
    arrayRows: number;
  }

  /** An FTS5 query for documents holding any of `values` of a multi-valued keyword in its array. */
  const keyMatchOf = (column: string, values: readonly string[]): string =>
    `${KEYS_COLUMN} : (${values.map((value) => quoted(keyToken(column, value))).join(' OR ')})`;

  /**
   * The documents holding any of `wanted` in their array of `field`, as a subquery with its
   * parameters: the side table's rows where the index has one, the FTS5 table's tokens otherwise.
   */
  const inArraysOf = (index: OpenIndex, field: string, column: string, wanted: readonly string[]): { sql: string; params: Bindable[] } =>
    index.values === undefined
      ? { sql: `SELECT rowid FROM ${index.text} WHERE ${index.text} MATCH ?`, params: [keyMatchOf(column, wanted)] }
      : { sql: `SELECT doc FROM ${index.values} WHERE field = ? AND value IN (${placeholders(wanted.length)})`, params: [field, ...wanted] };

  /**
   * The filter's values as FTS5 tokens, when every document it matches holds them in an array
   * (only array values are tokens), so adding them to the full-text query keeps its answer exact.
   */
  const keyTokensOf = (index: OpenIndex, equality: Equality): string[] | undefined => {
    if (!index.keyTokens || equality.arrayRows === 0 || equality.rows >= COUNT_CAP) return undefined;
    const { field, column, wanted } = equality;
    // A document whose column holds a wanted value (its own, or its array's smallest) and whose
    // array holds none of them has that value alone, and so no token.
    const inArrays = inArraysOf(index, field, column, wanted);
    const plainValue = statement(
      `SELECT 1 FROM ${index.docs} d WHERE d.${column} IN (${placeholders(wanted.length)})
       AND d.doc NOT IN (${inArrays.sql}) LIMIT 1`,
    ).get(...wanted, ...inArrays.params);
    return plainValue === undefined ? wanted.map((value) => keyToken(column, value)) : undefined;
  };

  /** The plan's filters as SQL conditions, each with how many rows it matches (up to `COUNT_CAP`). */
  const conditionsOf = (index: OpenIndex, plan: PlannedQuery): Condition[] => {
    const conditions: Condition[] = [];
    const { docs, text } = index;
    const equalities: Equality[] = plan.equals.map(({ field, values: wanted }) => {
      const column = index.columns.get(field)!;
      const columnRows = countUpTo(`SELECT doc FROM ${docs} WHERE ${column} IN (${placeholders(wanted.length)})`, wanted);
      const inArrays = inArraysOf(index, field, column, wanted);
      const arrayRows = countUpTo(inArrays.sql, inArrays.params);
      return { field, column, wanted, rows: Math.min(COUNT_CAP, columnRows + arrayRows), arrayRows };
    });
    if (plan.words.length > 0) {
      const words = plan.words.map((word) => `${quoted(word)}*`).join(' ');
      // Keyword tokens are not words: a text search looks only in the text columns.
      let match = index.keyTokens ? `{${index.textColumns.join(' ')}} : (${words})` : words;
      // FTS5 intersects words with a rare array value by skipping through both, where the words'
      // rows alone (a common word) would all be read.
      const narrowing = equalities
        .map((equality) => ({ equality, tokens: keyTokensOf(index, equality) }))
        .filter(({ tokens }) => tokens !== undefined)
        .sort((a, b) => a.equality.rows - b.equality.rows)[0];
      if (narrowing !== undefined) match = `${match} AND ${keyMatchOf(narrowing.equality.column, narrowing.equality.wanted)}`;
      // Read once into a table of their own: FTS5 materialises a prefix longer than its prefix
      // indexes in full anyway, and the next pages of the same search reuse the table.
      const { table, rows } = matches.rowsOf(text!, match);
      conditions.push({ field: undefined, sql: (u) => `${u}d.doc IN ${table}`, params: [], rows });
    }
    for (const { field, column, wanted, rows, arrayRows } of equalities) {
      const list = placeholders(wanted.length);
      // The column holds a multi-valued field's smallest value; the tokens (or the side table)
      // hold all of them, and are left out when no document of the index has such a value.
      const inArrays = inArraysOf(index, field, column, wanted);
      conditions.push(
        arrayRows === 0
          ? { field, sql: (u) => `${u}d.${column} IN (${list})`, params: wanted, rows }
          : {
              field,
              sql: (u) => `(${u}d.${column} IN (${list}) OR ${u}d.doc IN (${inArrays.sql}))`,
              params: [...wanted, ...inArrays.params],
              rows,
            },
      );
    }
    const ranges = [
      ...plan.amountRanges,
      ...plan.dateRanges.map(({ field, gte, lte }) => ({
        field,
        gte: gte === undefined ? undefined : BigInt(gte),
        lte: lte === undefined ? undefined : BigInt(lte),
      })),
    ];
    for (const { field, gte, lte } of ranges) {
      const column = index.columns.get(field)!;
      const bounds = [...(gte === undefined ? [] : [['>=', gte] as const]), ...(lte === undefined ? [] : [['<=', lte] as const])];
      const sql = (u: string) => bounds.map(([operator]) => `${u}d.${column} ${operator} ?`).join(' AND ');
      const params = bounds.map(([, bound]) => bound);
      conditions.push({ field, sql, params, rows: countUpTo(`SELECT doc FROM ${docs} d WHERE ${sql('')}`, params) });
    }
    return conditions;
  };

  const runSearch = (index: OpenIndex, plan: PlannedQuery): SearchResult => {
    if (plan.equals.some(({ values }) => values.length === 0)) return { hits: [] };
    const { sort, after } = plan;
    const where: string[] = [];
    const params: Bindable[] = [];
    // SQLite has no statistics here to tell a rare value from a common one, so it is told. The
    // filter matching fewest rows drives the query through its index when that visits fewer rows
    // than walking the sort order (or id order) would before a page is full, assuming the filters
    // independent; otherwise the walk checks every filter on the way (`+` hides an index), using
    // only a range on the sort field itself to bound the walk.
    // Read first, so the search's snapshot starts before the full-text matches are looked up.
    const size = Number(index.selectSize.get()?.n ?? 0n);
    const conditions = conditionsOf(index, plan);
    const walk = conditions.reduce((rows, { rows: matching }) => (rows * size) / Math.max(1, matching), plan.limit + 1);
    const driver = conditions.reduce<Condition | undefined>((best, c) => (best === undefined || c.rows < best.rows ? c : best), undefined);
    const drive = driver !== undefined && driver.rows < COUNT_CAP && driver.rows < walk;
    for (const condition of conditions) {
      const indexed = drive ? condition === driver : sort !== undefined && condition.field === sort.field;
      where.push(condition.sql(indexed ? '' : '+'));
      params.push(...condition.params);
    }

    let orderBy = (alias: string): string => `${alias}.id ASC`;
    if (sort === undefined) {
      if (after !== undefined) {
        where.push('d.id > ?');
        params.push(after.id);
      }
    } else {
      const sortColumn = index.columns.get(sort.field)!;
      const column = `d.${sortColumn}`;
      const direction = sort.direction === 'asc' ? 'ASC' : 'DESC';
      // SQLite orders NULL lowest: first ascending, last descending, as the port's other adapter does.
      orderBy = (alias) => `${alias}.${sortColumn} ${direction}, ${alias}.id ${direction}`;
      if (after !== undefined && after.key === null) {
        where.push(
          sort.direction === 'asc'
            ? `((${column} IS NULL AND d.id > ?) OR ${column} IS NOT NULL)`
            : `(${column} IS NULL AND d.id < ?)`,
        );
        params.push(after.id);
      } else if (after !== undefined) {
        where.push(
          sort.direction === 'asc' ? `(${column}, d.id) > (?, ?)` : `((${column}, d.id) < (?, ?) OR ${column} IS NULL)`,
        );
        params.push(sort.type === 'keyword' ? after.key! : BigInt(after.key!), after.id);
      }
    }

    // Driven by its full-text matches, the search filters and sorts them in the covering index and
    // reads the wide rows (the documents' JSON) only for its page: read for every match, all over
    // the table, they cost several times more.
    const cover = coveringIndexOf(index.docs);
    const covered = drive && driver.field === undefined && selectIndexNamed.get(cover) !== undefined;
    const filtered = `FROM ${index.docs} d${covered ? ` INDEXED BY ${cover}` : ''}
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY ${orderBy('d')} LIMIT ?`;
    const sql = covered
      ? `SELECT p.id, p.version, p.fields FROM ${index.docs} p WHERE p.doc IN (SELECT d.doc ${filtered}) ORDER BY ${orderBy('p')}`
      : `SELECT d.id, d.version, d.fields ${filtered}`;
    const rows = statement<DocumentRow>(sql).all(...params, BigInt(plan.limit + 1));
    const page = rows.slice(0, plan.limit).map((row) => ({ row, fields: JSON.parse(row.fields) as WireFields }));
    const hits = page.map(({ row, fields }) => toHit(index.schema, row.id, row.version, fields));
    const last = page.at(-1);
    return rows.length > plan.limit && last !== undefined
      ? { hits, nextCursor: encodeCursor(plan, last.row.id, last.fields) }
      : { hits };
  };

  /** One read transaction: every statement of a search, the full-text matches too, sees the same snapshot. */
  const searchSnapshot = db.transaction(runSearch);

  const ensure = db.transaction((name: string, schema: SearchSchema, loading: boolean) => {
    const existing = find(name);
    if (existing !== undefined) {
      requireSameSchema(name, existing.schema, schema);
      return;
    }
    const tag = BigInt(insertIndex.run(name, JSON.stringify(schema)).lastInsertRowid);
    tables.createTables(tag, schema, loading);
    matches.changed();
  });

  const drop = db.transaction((name: string) => {
    const index = find(name);
    if (index === undefined) return;
    db.exec(`DROP TABLE IF EXISTS ${index.docs}`);
    if (index.values !== undefined) db.exec(`DROP TABLE IF EXISTS ${index.values}`);
    if (index.text !== undefined) db.exec(`DROP TABLE IF EXISTS ${index.text}`);
    deleteIndex.run(index.tag);
    deleteAliasesOf.run(index.name);
    tables.forget(index.tag);
    matches.changed();
  });

  const alias = db.transaction((aliasName: string, name: string) => {
    if (selectIndexByName.get(aliasName) !== undefined) {
      throw invalid('alias', `${aliasName} is an index, so it cannot be an alias`);
    }
    upsertAlias.run(aliasName, resolve(name).name);
  });

  return {
    kind: 'sqlite',

    async ensureIndex(index: string, schema: SearchSchema, options?: EnsureIndexOptions): Promise<void> {
      await writer?.idle();
      // IMMEDIATE: two processes ensuring the same index must not both create it.
      ensure.immediate(requireIndexName(index), requireSchema(schema), requireLoading(options));
    },

    async finishLoading(index: string): Promise<void> {
      const target = resolve(index);
      if (writer === undefined) tables.finishLoading(target);
      else await writer.finishLoading(target.name);
    },

    async upsert(index: string, documents: readonly SearchDocument[]): Promise<void> {
      const target = resolve(index);
      if (writer !== undefined && Array.isArray(documents)) {
        if (documents.length === 0) return;
        try {
          await writer.upsert(target.name, documents);
        } catch (error) {
          // A value that cannot cross to the thread is one the schema refuses: say which.
          if ((error as { name?: unknown }).name === 'DataCloneError') prepareDocuments(target.schema, documents);
          throw error;
        }
        return;
      }
      const prepared = prepareDocuments(target.schema, documents);
      if (prepared.length === 0) return;
      tables.upsert(target, prepared);
      matches.changed();
    },

    async get(index: string, id: string): Promise<SearchHit | undefined> {
      const target = resolve(index);
      const row = target.selectOne.get(requireId(id));
      return row === undefined ? undefined : toHit(target.schema, row.id, row.version, JSON.parse(row.fields) as WireFields);
    },

    async search(index: string, query: SearchQuery): Promise<SearchResult> {
      const target = resolve(index);
      const plan = planQuery(target.schema, query ?? {});
      try {
        return searchSnapshot(target, plan);
      } catch (error) {
        matches.forget();
        throw error;
      }
    },

    async refresh(index: string): Promise<void> {
      // Committed writes are visible at once; only the index's existence is checked.
      resolve(index);
    },

    async setAlias(aliasName: string, index: string): Promise<void> {
      await writer?.idle();
      alias.immediate(requireIndexName(aliasName, 'alias'), index);
    },

    async resolveAlias(aliasName: string): Promise<string | undefined> {
      return selectAlias.get(requireIndexName(aliasName, 'alias'))?.target;
    },

    async dropIndex(index: string): Promise<void> {
      await writer?.idle();
      drop.immediate(requireIndexName(index));
    },

    async listIndexes(prefix: string): Promise<string[]> {
      return selectIndexNames.all({ prefix: requireIndexName(prefix, 'prefix') });
    },

    /**
     * The documents' checksum, as the other adapter computes it, once the rows searches read
     * are verified to agree with them (`sqliteSearchVerification.ts`): an index that would answer
     * some search otherwise throws `SearchIndexDisagreementError` rather than checksum equal.
     */
    async checksum(index: string): Promise<string> {
      return verifiedChecksum(options.path, resolve(index));
    },

    async close(): Promise<void> {
      await writer?.close();
      if (db.open) db.close();
    },
  };
};

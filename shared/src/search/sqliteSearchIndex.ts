/**
 * The embedded search index: one SQLite file (better-sqlite3, WAL, `synchronous=FULL`) holding
 * any number of indexes and the aliases that point at them.
 *
 * Per index, a documents table keeps each document's wire JSON plus one column per keyword,
 * amount and date field for filtering and sorting (amounts as 64-bit INTEGERs, exact; dates as
 * epoch milliseconds; a multi-valued keyword as its smallest value, with every value of the array
 * in a side table), and a contentless FTS5 table indexes the text fields. The FTS5 table also
 * holds each multi-valued keyword's values as tokens of their own, so words and such a filter
 * (a text search within one account's transactions) are answered together by FTS5.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { NotFoundError } from '../errors/commonErrors.js';
import {
  DocumentChecksum,
  invalid,
  keywordSortKey,
  prepareDocuments,
  requireId,
  requireIndexName,
  requireSameSchema,
  requireSchema,
  toHit,
  type PreparedDocument,
  type WireFields,
} from './searchDocuments.js';
import { encodeCursor, planQuery, type PlannedQuery } from './searchQueries.js';
import type { SearchDocument, SearchHit, SearchIndex, SearchQuery, SearchResult, SearchSchema } from './searchIndex.js';

export interface SqliteSearchIndexOptions {
  /** The database file; its directory is created when missing. */
  path: string;
}

const CATALOG = `
CREATE TABLE IF NOT EXISTS search_indexes (
  -- never reused, so a dropped and recreated index gets new tables and new cached statements
  tag    INTEGER PRIMARY KEY AUTOINCREMENT,
  name   TEXT NOT NULL UNIQUE,
  schema TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS search_aliases (
  alias  TEXT PRIMARY KEY,
  target TEXT NOT NULL
) WITHOUT ROWID;
`;

/** Search and probe statements differ by query shape; this many stay prepared. */
const MAX_CACHED_STATEMENTS = 200;
/** Words matching fewer documents than this are handed to the query as a list of rows. */
const SELECTIVE_ROWS = 2000;
/**
 * Filters are counted up to this many rows. The query starts from the index of the filter
 * matching fewest rows when that is below this and below the rows a walk along the sort order
 * is expected to visit before it fills a page; otherwise it walks the sort order, checking the
 * filters on the way.
 */
const COUNT_CAP = 10_000;
/** The FTS5 column holding multi-valued keywords as tokens (absent from indexes made before it). */
const KEYS_COLUMN = 'keys';

interface DocumentRow {
  id: string;
  version: bigint;
  fields: string;
}

type Bindable = string | bigint | null;

interface Condition {
  /** The keyword, amount or date field it filters on (none for text). */
  field: string | undefined;
  /** The SQL, given `'+'` to keep SQLite from using an index for it, or `''`. */
  sql: (unindexed: string) => string;
  params: readonly Bindable[];
  /** How many rows match it, counted up to `COUNT_CAP`. */
  rows: number;
}

/** One index as this connection knows it: its schema, column layout and write statements. */
interface OpenIndex {
  tag: bigint;
  name: string;
  schema: SearchSchema;
  docs: string;
  values: string;
  /** Undefined when the schema has no text field. */
  text: string | undefined;
  /** Column of each keyword, amount and date field. */
  columns: Map<string, string>;
  textFields: string[];
  /** FTS5 columns of the text fields. */
  textColumns: string[];
  /** Whether the FTS5 table has the keyword tokens column. */
  keyTokens: boolean;
  selectHead: Database.Statement<[string], { doc: bigint; version: bigint; fields: string }>;
  selectOne: Database.Statement<[string], DocumentRow>;
  insert: Database.Statement<Bindable[]>;
  update: Database.Statement<Bindable[]>;
  deleteValues: Database.Statement<[bigint]>;
  insertValue: Database.Statement<[string, string, bigint]>;
  deleteText: Database.Statement<[bigint]> | undefined;
  insertText: Database.Statement<Bindable[]> | undefined;
  selectAll: Database.Statement<[], DocumentRow>;
  /** The highest row number: about how many documents the index holds. */
  selectSize: Database.Statement<[], { n: bigint | null }>;
}

const quoted = (token: string): string => `"${token.replaceAll('"', '""')}"`;

/** A multi-valued keyword's value as one FTS5 token: its column, then its UTF-8 bytes in hex. */
const keyToken = (column: string, value: string): string => `${column}x${Buffer.from(value, 'utf8').toString('hex')}`;

const placeholders = (count: number): string => Array.from({ length: count }, () => '?').join(', ');

export const openSqliteSearchIndex = (options: SqliteSearchIndexOptions): SearchIndex => {
  mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path);
  db.pragma('journal_mode = WAL');
  // FULL makes every commit durable across power loss, not just process crashes.
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 10000');
  // Batches of documents touch index pages all over the file: a larger page cache keeps them in
  // memory between commits, and a larger WAL copies each back once per checkpoint rather than
  // once per commit.
  db.pragma('cache_size = -131072');
  db.pragma('wal_autocheckpoint = 16384');
  db.exec(CATALOG);
  db.defaultSafeIntegers(true);

  const selectIndex = db.prepare<{ name: string }, { tag: bigint; name: string; schema: string }>(
    `SELECT tag, name, schema FROM search_indexes
     WHERE name = coalesce((SELECT target FROM search_aliases WHERE alias = @name), @name)`,
  );
  const selectIndexByName = db.prepare<[string], { tag: bigint }>('SELECT tag FROM search_indexes WHERE name = ?');
  const insertIndex = db.prepare<[string, string]>('INSERT INTO search_indexes (name, schema) VALUES (?, ?)');
  const deleteIndex = db.prepare<[bigint]>('DELETE FROM search_indexes WHERE tag = ?');
  const selectAlias = db.prepare<[string], { target: string }>('SELECT target FROM search_aliases WHERE alias = ?');
  const upsertAlias = db.prepare<[string, string]>(
    'INSERT INTO search_aliases (alias, target) VALUES (?, ?) ON CONFLICT (alias) DO UPDATE SET target = excluded.target',
  );
  const deleteAliasesOf = db.prepare<[string]>('DELETE FROM search_aliases WHERE target = ?');

  const selectTextColumn = db.prepare<[string, string], { found: bigint }>(
    'SELECT 1 AS found FROM pragma_table_info(?) WHERE name = ?',
  );

  const openIndexes = new Map<bigint, OpenIndex>();
  const statements = new Map<string, Database.Statement<Bindable[], unknown>>();

  const layoutOf = (tag: bigint, schema: SearchSchema) => {
    const entries = Object.entries(schema.fields);
    const columnOf = (field: string) => `f${entries.findIndex(([name]) => name === field)}`;
    return {
      docs: `search_${tag}_docs`,
      values: `search_${tag}_values`,
      text: entries.some(([, type]) => type === 'text') ? `search_${tag}_text` : undefined,
      keywordFields: entries.filter(([, type]) => type === 'keyword').map(([name]) => name),
      columns: new Map(entries.filter(([, type]) => type !== 'text').map(([name]) => [name, columnOf(name)])),
      textFields: entries.filter(([, type]) => type === 'text').map(([name]) => name),
      columnOf,
    };
  };

  const createTables = (tag: bigint, schema: SearchSchema): void => {
    const { docs, values, text, columns, textFields, columnOf } = layoutOf(tag, schema);
    const columnDefs = [...columns].map(
      ([field, column]) => `${column} ${schema.fields[field] === 'keyword' ? 'TEXT' : 'INTEGER'}`,
    );
    db.exec(`
      CREATE TABLE ${docs} (
        doc     INTEGER PRIMARY KEY,
        id      TEXT    NOT NULL UNIQUE,
        version INTEGER NOT NULL,
        fields  TEXT    NOT NULL${columnDefs.map((def) => `,\n        ${def}`).join('')}
      );
      ${[...columns.values()].map((column) => `CREATE INDEX ${docs}_${column} ON ${docs} (${column}, id);`).join('\n')}
      CREATE TABLE ${values} (
        field TEXT    NOT NULL,
        value TEXT    NOT NULL,
        doc   INTEGER NOT NULL,
        PRIMARY KEY (field, value, doc)
      ) WITHOUT ROWID;
      CREATE INDEX ${values}_doc ON ${values} (doc);
    `);
    if (text !== undefined) {
      // Contentless: the text already lives in the documents' JSON; prefix indexes keep
      // search-as-you-type fast from the first letter.
      db.exec(`CREATE VIRTUAL TABLE ${text} USING fts5(${[...textFields.map(columnOf), KEYS_COLUMN].join(', ')},
        content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2', prefix='1 2 3')`);
    }
  };

  const open = (tag: bigint, name: string, schemaJson: string): OpenIndex => {
    const known = openIndexes.get(tag);
    if (known !== undefined) return known;
    const schema = JSON.parse(schemaJson) as SearchSchema;
    const { docs, values, text, columns, textFields, columnOf } = layoutOf(tag, schema);
    const columnList = [...columns.values()];
    const keyTokens = text !== undefined && selectTextColumn.get(text, KEYS_COLUMN) !== undefined;
    const textColumns = textFields.map(columnOf);
    const ftsColumns = [...textColumns, ...(keyTokens ? [KEYS_COLUMN] : [])];
    const opened: OpenIndex = {
      tag,
      name,
      schema,
      docs,
      values,
      text,
      columns,
      textFields,
      textColumns,
      keyTokens,
      selectHead: db.prepare(`SELECT doc, version, fields FROM ${docs} WHERE id = ?`),
      selectOne: db.prepare(`SELECT id, version, fields FROM ${docs} WHERE id = ?`),
      insert: db.prepare<Bindable[]>(
        `INSERT INTO ${docs} (id, version, fields${columnList.map((c) => `, ${c}`).join('')})
         VALUES (${placeholders(3 + columnList.length)})`,
      ),
      update: db.prepare<Bindable[]>(
        `UPDATE ${docs} SET version = ?, fields = ?${columnList.map((c) => `, ${c} = ?`).join('')} WHERE doc = ?`,
      ),
      deleteValues: db.prepare(`DELETE FROM ${values} WHERE doc = ?`),
      insertValue: db.prepare(`INSERT OR IGNORE INTO ${values} (field, value, doc) VALUES (?, ?, ?)`),
      deleteText: text === undefined ? undefined : db.prepare(`DELETE FROM ${text} WHERE rowid = ?`),
      insertText:
        text === undefined
          ? undefined
          : db.prepare<Bindable[]>(
              `INSERT INTO ${text} (rowid, ${ftsColumns.join(', ')}) VALUES (${placeholders(1 + ftsColumns.length)})`,
            ),
      selectAll: db.prepare(`SELECT id, version, fields FROM ${docs} ORDER BY id`),
      selectSize: db.prepare(`SELECT max(doc) AS n FROM ${docs}`),
    };
    openIndexes.set(tag, opened);
    return opened;
  };

  /** The index `name` denotes, directly or through an alias; `undefined` when there is none. */
  const find = (name: string): OpenIndex | undefined => {
    const row = selectIndex.get({ name: requireIndexName(name) });
    return row === undefined ? undefined : open(row.tag, row.name, row.schema);
  };

  const resolve = (name: string): OpenIndex => {
    const found = find(name);
    if (found === undefined) throw new NotFoundError('search index', name);
    return found;
  };

  const columnValues = (index: OpenIndex, fields: WireFields): Bindable[] =>
    [...index.columns.keys()].map((field) => {
      const value = fields[field];
      if (value === undefined || value === null) return null;
      switch (index.schema.fields[field]) {
        case 'amount':
          return BigInt(value as string);
        case 'date':
          return BigInt(Date.parse(value as string));
        default:
          return keywordSortKey(value);
      }
    });

  /** Whether two stored values put the same rows in the side table (only arrays put any). */
  const sameArray = (a: WireFields[string] | undefined, b: WireFields[string] | undefined): boolean => {
    const left = Array.isArray(a) ? a : [];
    const right = Array.isArray(b) ? b : [];
    return left.length === right.length && left.every((value, n) => value === right[n]);
  };

  const textValue = (value: WireFields[string] | undefined): string | null =>
    value === undefined || value === null ? null : Array.isArray(value) ? value.join('\n') : value;

  /** What the FTS5 table holds of a document: its text fields, then its multi-valued keywords as tokens. */
  const ftsValues = (index: OpenIndex, fields: WireFields): (string | null)[] => {
    const texts = index.textFields.map((field) => textValue(fields[field]));
    if (!index.keyTokens) return texts;
    const tokens: string[] = [];
    for (const [field, column] of index.columns) {
      const value = fields[field];
      if (Array.isArray(value)) for (const item of value) tokens.push(keyToken(column, item));
    }
    return [...texts, tokens.length === 0 ? null : tokens.join(' ')];
  };

  const write = (index: OpenIndex, document: PreparedDocument): void => {
    const head = index.selectHead.get(document.id);
    if (head !== undefined && head.version >= document.version) return;
    const columns = columnValues(index, document.fields);
    const texts = ftsValues(index, document.fields);
    let doc: bigint;
    // A new version often changes only a status: its side-table and full-text rows stay as they are.
    let sameValues = false;
    let sameText = false;
    if (head === undefined) {
      doc = BigInt(index.insert.run(document.id, document.version, document.fieldsJson, ...columns).lastInsertRowid);
    } else {
      doc = head.doc;
      const stored = JSON.parse(head.fields) as WireFields;
      sameValues = [...index.columns.keys()].every((field) => sameArray(stored[field], document.fields[field]));
      sameText = ftsValues(index, stored).every((text, n) => text === texts[n]);
      index.update.run(document.version, document.fieldsJson, ...columns, doc);
      if (!sameValues) index.deleteValues.run(doc);
      if (!sameText) index.deleteText?.run(doc);
    }
    if (!sameValues) {
      for (const field of index.columns.keys()) {
        const value = document.fields[field];
        if (Array.isArray(value)) for (const item of value) index.insertValue.run(field, item, doc);
      }
    }
    if (!sameText && texts.some((text) => text !== null)) index.insertText?.run(doc, ...texts);
  };

  const upsertAll = db.transaction((index: OpenIndex, documents: readonly PreparedDocument[]) => {
    for (const document of documents) write(index, document);
  });

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

  /**
   * The filter's values as FTS5 tokens, when every document it matches holds them in an array
   * (only array values are tokens), so adding them to the full-text query keeps its answer exact.
   */
  const keyTokensOf = (index: OpenIndex, equality: Equality): string[] | undefined => {
    if (!index.keyTokens || equality.arrayRows === 0 || equality.rows >= COUNT_CAP) return undefined;
    const { field, column, wanted } = equality;
    const plainValue = statement(
      `SELECT 1 FROM ${index.docs} d WHERE d.${column} IN (${placeholders(wanted.length)})
       AND NOT EXISTS (SELECT 1 FROM ${index.values} v WHERE v.doc = d.doc AND v.field = ?) LIMIT 1`,
    ).get(...wanted, field);
    return plainValue === undefined ? wanted.map((value) => keyToken(column, value)) : undefined;
  };

  /** The plan's filters as SQL conditions, each with how many rows it matches (up to `COUNT_CAP`). */
  const conditionsOf = (index: OpenIndex, plan: PlannedQuery): Condition[] => {
    const conditions: Condition[] = [];
    const { docs, values, text } = index;
    const equalities: Equality[] = plan.equals.map(({ field, values: wanted }) => {
      const column = index.columns.get(field)!;
      const list = placeholders(wanted.length);
      const columnRows = countUpTo(`SELECT doc FROM ${docs} WHERE ${column} IN (${list})`, wanted);
      const arrayRows = countUpTo(`SELECT doc FROM ${values} WHERE field = ? AND value IN (${list})`, [field, ...wanted]);
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
      if (narrowing !== undefined) match = `${match} AND ${KEYS_COLUMN} : (${narrowing.tokens!.map(quoted).join(' OR ')})`;
      const matching = `SELECT rowid FROM ${text} WHERE ${text} MATCH ?`;
      const few = statement<{ rowid: bigint }>(`${matching} LIMIT ${SELECTIVE_ROWS}`).all(match);
      // Few matches are handed over as they are, so the full-text query does not run twice.
      conditions.push(
        few.length < SELECTIVE_ROWS
          ? {
              field: undefined,
              sql: () => 'd.doc IN (SELECT value FROM json_each(?))',
              params: [`[${few.map(({ rowid }) => rowid).join(',')}]`],
              rows: few.length,
            }
          : { field: undefined, sql: (u) => `${u}d.doc IN (${matching})`, params: [match], rows: COUNT_CAP },
      );
    }
    for (const { field, column, wanted, rows, arrayRows } of equalities) {
      const list = placeholders(wanted.length);
      const inArrays = `SELECT doc FROM ${values} WHERE field = ? AND value IN (${list})`;
      // The column holds a multi-valued field's smallest value; the side table holds all of them,
      // and is left out when no document of the index has such a value.
      conditions.push(
        arrayRows === 0
          ? { field, sql: (u) => `${u}d.${column} IN (${list})`, params: wanted, rows }
          : {
              field,
              sql: (u) => `(${u}d.${column} IN (${list}) OR ${u}d.doc IN (${inArrays}))`,
              params: [...wanted, field, ...wanted],
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
    const conditions = conditionsOf(index, plan);
    const size = Number(index.selectSize.get()?.n ?? 0n);
    const walk = conditions.reduce((rows, { rows: matching }) => (rows * size) / Math.max(1, matching), plan.limit + 1);
    const driver = conditions.reduce<Condition | undefined>((best, c) => (best === undefined || c.rows < best.rows ? c : best), undefined);
    const drive = driver !== undefined && driver.rows < COUNT_CAP && driver.rows < walk;
    for (const condition of conditions) {
      const indexed = drive ? condition === driver : sort !== undefined && condition.field === sort.field;
      where.push(condition.sql(indexed ? '' : '+'));
      params.push(...condition.params);
    }

    let orderBy = 'd.id ASC';
    if (sort === undefined) {
      if (after !== undefined) {
        where.push('d.id > ?');
        params.push(after.id);
      }
    } else {
      const column = `d.${index.columns.get(sort.field)}`;
      const direction = sort.direction === 'asc' ? 'ASC' : 'DESC';
      // SQLite orders NULL lowest: first ascending, last descending, as the port's other adapter does.
      orderBy = `${column} ${direction}, d.id ${direction}`;
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

    const sql = `SELECT d.id, d.version, d.fields FROM ${index.docs} d
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY ${orderBy} LIMIT ?`;
    const rows = statement<DocumentRow>(sql).all(...params, BigInt(plan.limit + 1));
    const page = rows.slice(0, plan.limit).map((row) => ({ row, fields: JSON.parse(row.fields) as WireFields }));
    const hits = page.map(({ row, fields }) => toHit(index.schema, row.id, row.version, fields));
    const last = page.at(-1);
    return rows.length > plan.limit && last !== undefined
      ? { hits, nextCursor: encodeCursor(plan, last.row.id, last.fields) }
      : { hits };
  };

  const ensure = db.transaction((name: string, schema: SearchSchema) => {
    const existing = find(name);
    if (existing !== undefined) {
      requireSameSchema(name, existing.schema, schema);
      return;
    }
    const tag = BigInt(insertIndex.run(name, JSON.stringify(schema)).lastInsertRowid);
    createTables(tag, schema);
  });

  const drop = db.transaction((name: string) => {
    const index = find(name);
    if (index === undefined) return;
    db.exec(`DROP TABLE IF EXISTS ${index.docs}; DROP TABLE IF EXISTS ${index.values};`);
    if (index.text !== undefined) db.exec(`DROP TABLE IF EXISTS ${index.text}`);
    deleteIndex.run(index.tag);
    deleteAliasesOf.run(index.name);
    openIndexes.delete(index.tag);
  });

  const alias = db.transaction((aliasName: string, name: string) => {
    if (selectIndexByName.get(aliasName) !== undefined) {
      throw invalid('alias', `${aliasName} is an index, so it cannot be an alias`);
    }
    upsertAlias.run(aliasName, resolve(name).name);
  });

  return {
    kind: 'sqlite',

    async ensureIndex(index: string, schema: SearchSchema): Promise<void> {
      // IMMEDIATE: two processes ensuring the same index must not both create it.
      ensure.immediate(requireIndexName(index), requireSchema(schema));
    },

    async upsert(index: string, documents: readonly SearchDocument[]): Promise<void> {
      const target = resolve(index);
      const prepared = prepareDocuments(target.schema, documents);
      if (prepared.length > 0) upsertAll.immediate(target, prepared);
    },

    async get(index: string, id: string): Promise<SearchHit | undefined> {
      const target = resolve(index);
      const row = target.selectOne.get(requireId(id));
      return row === undefined ? undefined : toHit(target.schema, row.id, row.version, JSON.parse(row.fields) as WireFields);
    },

    async search(index: string, query: SearchQuery): Promise<SearchResult> {
      const target = resolve(index);
      return runSearch(target, planQuery(target.schema, query ?? {}));
    },

    async refresh(index: string): Promise<void> {
      // Committed writes are visible at once; only the index's existence is checked.
      resolve(index);
    },

    async setAlias(aliasName: string, index: string): Promise<void> {
      alias.immediate(requireIndexName(aliasName, 'alias'), index);
    },

    async resolveAlias(aliasName: string): Promise<string | undefined> {
      return selectAlias.get(requireIndexName(aliasName, 'alias'))?.target;
    },

    async dropIndex(index: string): Promise<void> {
      drop.immediate(requireIndexName(index));
    },

    async checksum(index: string): Promise<string> {
      const target = resolve(index);
      const checksum = new DocumentChecksum();
      for (const row of target.selectAll.iterate()) checksum.add(row.id, row.version, row.fields);
      return checksum.digest();
    },

    async close(): Promise<void> {
      if (db.open) db.close();
    },
  };
};

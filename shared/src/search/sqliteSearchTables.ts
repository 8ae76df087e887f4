/**
 * The tables of the embedded search index and how documents are written to them, shared by the
 * connection that searches and the thread that writes (see `sqliteSearchIndex.ts`).
 *
 * Per index, a documents table keeps each document's wire JSON plus one column per keyword,
 * amount and date field for filtering and sorting (amounts as 64-bit INTEGERs, exact; dates as
 * epoch milliseconds; a multi-valued keyword as its smallest value), and a contentless FTS5 table
 * indexes the text fields. The FTS5 table also holds every value of each multi-valued keyword as
 * a token of its own, so a filter on such a field is answered by FTS5, alone or together with
 * words (a text search within one account's transactions). An index without text fields has no
 * FTS5 table and keeps those values in a side table instead. An index made by an earlier version
 * keeps the layout it was made with (a side table beside the tokens, positions, one-letter
 * prefixes, the tokenizer's default word characters): every query is written so that it runs on
 * all of them.
 */
import { makeDirectories } from '../files/makeDirectories.js';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { NotFoundError } from '../errors/commonErrors.js';
import { keywordSortKey, requireIndexName, type PreparedDocument, type WireFields } from './searchDocuments.js';
import type { SearchSchema } from './searchIndex.js';
import { searchWordsOf } from './searchWords.js';

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

const WAL_BYTES = 64 * 2 ** 20;

/** The FTS5 column holding multi-valued keywords as tokens (absent from indexes made before it). */
export const KEYS_COLUMN = 'keys';

export interface DocumentRow {
  id: string;
  version: bigint;
  fields: string;
}

export type Bindable = string | bigint | null;

/** One index as this connection knows it: its schema, column layout and write statements. */
export interface OpenIndex {
  tag: bigint;
  name: string;
  schema: SearchSchema;
  docs: string;
  /** The side table of multi-valued keywords' values; absent where the FTS5 table's tokens are the only record of them. */
  values: string | undefined;
  /** Undefined when the schema has no text field. */
  text: string | undefined;
  /** Column of each keyword, amount and date field. */
  columns: Map<string, string>;
  textFields: string[];
  /** FTS5 columns of the text fields. */
  textColumns: string[];
  /** Whether the FTS5 table has the keyword tokens column. */
  keyTokens: boolean;
  /** Every FTS5 column, in the order `ftsValues` gives a document's values. */
  ftsColumns: string[];
  selectHead: Database.Statement<[string], { doc: bigint; version: bigint; fields: string }>;
  selectOne: Database.Statement<[string], DocumentRow>;
  insert: Database.Statement<Bindable[]>;
  update: Database.Statement<Bindable[]>;
  deleteValues: Database.Statement<[bigint]> | undefined;
  insertValue: Database.Statement<[string, string, bigint]> | undefined;
  deleteText: Database.Statement<[bigint]> | undefined;
  insertText: Database.Statement<Bindable[]> | undefined;
  /** The highest row number: about how many documents the index holds. */
  selectSize: Database.Statement<[], { n: bigint | null }>;
}

/** A multi-valued keyword's value as one FTS5 token: its column, then its UTF-8 bytes in hex. */
export const keyToken = (column: string, value: string): string => `${column}x${Buffer.from(value, 'utf8').toString('hex')}`;

export const placeholders = (count: number): string => Array.from({ length: count }, () => '?').join(', ');

/** The name of an index's covering index (see `createSearchTables`). */
export const coveringIndexOf = (docs: string): string => `${docs}_cover`;

/**
 * What a document's stored fields put in its row's filter and sort columns, in the order of
 * `OpenIndex.columns`. With `sideValues` and `ftsValues`, all that a document's JSON derives:
 * writes use them, and so does the check that the derived rows still agree with the JSON
 * (`sqliteSearchVerification.ts`).
 */
export const columnValues = (index: OpenIndex, fields: WireFields): Bindable[] =>
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

/** The side table's rows of a document, as field and value: every value of a multi-valued keyword. */
export const sideValues = (index: OpenIndex, fields: WireFields): [string, string][] => {
  const rows: [string, string][] = [];
  for (const field of index.columns.keys()) {
    const value = fields[field];
    if (Array.isArray(value)) for (const item of value) rows.push([field, item]);
  }
  return rows;
};

/** A text field's words, split as a query splits them, so every word written can be found. */
const textValue = (value: WireFields[string] | undefined): string | null => {
  if (value === undefined || value === null) return null;
  const words = (Array.isArray(value) ? value : [value]).flatMap(searchWordsOf);
  return words.length === 0 ? null : words.join(' ');
};

/**
 * What the FTS5 table holds of a document, column by column (`OpenIndex.ftsColumns`): its text
 * fields, then its multi-valued keywords as tokens. No row when every one is null.
 */
export const ftsValues = (index: OpenIndex, fields: WireFields): (string | null)[] => {
  const texts = index.textFields.map((field) => textValue(fields[field]));
  if (!index.keyTokens) return texts;
  const tokens: string[] = [];
  for (const [field, column] of index.columns) {
    const value = fields[field];
    if (Array.isArray(value)) for (const item of value) tokens.push(keyToken(column, item));
  }
  return [...texts, tokens.length === 0 ? null : tokens.join(' ')];
};

/** Opens the file as every connection to it is configured. */
export const openSearchDatabase = (path: string): Database.Database => {
  makeDirectories(dirname(path));
  const db = new Database(path);
  // Only a new file takes it (one made earlier keeps its pages). Larger pages make shallower
  // B-trees and fewer pages for a batch to dirty and copy to the WAL at each commit.
  db.pragma('page_size = 16384');
  db.pragma('journal_mode = WAL');
  // FULL makes every commit durable across power loss, not just process crashes.
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 10000');
  // Batches of documents touch index pages all over the file: a larger page cache keeps them in
  // memory between commits, and a larger WAL (64 MiB, whatever the file's page size) copies each
  // back once per checkpoint rather than once per commit.
  db.pragma('cache_size = -131072');
  db.pragma(`wal_autocheckpoint = ${WAL_BYTES / Number(db.pragma('page_size', { simple: true }))}`);
  db.exec(CATALOG);
  db.defaultSafeIntegers(true);
  return db;
};

/** The indexes as one connection knows them, and the writes of documents into them. */
export const createSearchTables = (db: Database.Database) => {
  const selectIndex = db.prepare<{ name: string }, { tag: bigint; name: string; schema: string }>(
    `SELECT tag, name, schema FROM search_indexes
     WHERE name = coalesce((SELECT target FROM search_aliases WHERE alias = @name), @name)`,
  );
  const selectTextColumn = db.prepare<[string, string], { found: bigint }>(
    'SELECT 1 AS found FROM pragma_table_info(?) WHERE name = ?',
  );
  const selectTable = db.prepare<[string], { found: bigint }>("SELECT 1 AS found FROM sqlite_schema WHERE type = 'table' AND name = ?");

  const openIndexes = new Map<bigint, OpenIndex>();

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

  /** The filter and sort index of one column: what a `loading` index builds only when it finishes loading. */
  const columnIndexSql = (docs: string, column: string): string =>
    `CREATE INDEX IF NOT EXISTS ${docs}_${column} ON ${docs} (${column}, id);`;

  /**
   * Every column but the documents' JSON, by row number (`coveringIndexOf`): a search driven by its
   * full-text matches filters and sorts them here, and reads the wide rows only for the page it
   * returns. An index made before it existed has none and is searched without it.
   */
  const coveringIndexSql = (docs: string, columns: Iterable<string>): string =>
    `CREATE INDEX IF NOT EXISTS ${coveringIndexOf(docs)} ON ${docs} (${['doc', ...columns, 'id'].join(', ')});`;

  /** The indexes a `loading` index is created without. */
  const deferredIndexesSql = (docs: string, columns: ReadonlyMap<string, string>): string[] => [
    ...[...columns.values()].map((column) => columnIndexSql(docs, column)),
    coveringIndexSql(docs, columns.values()),
  ];

  /**
   * `loading`: without the column and covering indexes. A projector catching up from position 0
   * inserts rows all over each of them, batch after batch; built at the end, each is one sort of
   * the table.
   */
  const createTables = (tag: bigint, schema: SearchSchema, loading: boolean): void => {
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
      ${loading ? '' : deferredIndexesSql(docs, columns).join('\n')}
    `);
    // With an FTS5 table, its tokens are the only record of the arrays' values: a side table as
    // well would cost every document another B-tree insert per value, plus one in its index.
    if (text === undefined) {
      db.exec(`
        CREATE TABLE ${values} (
          field TEXT    NOT NULL,
          value TEXT    NOT NULL,
          doc   INTEGER NOT NULL,
          PRIMARY KEY (field, value, doc)
        ) WITHOUT ROWID;
        CREATE INDEX ${values}_doc ON ${values} (doc);
      `);
    } else {
      // Contentless: the text already lives in the documents' JSON. Searches match words by
      // prefix within columns and never by position, so no positions are kept (detail=column).
      // Marks, and letters newer than the tokenizer's Unicode tables (`Cn` to it), are word
      // characters as they are to `searchQueries.ts`: a query word is then always one token, never
      // a phrase, which detail=column could not answer. Prefix indexes of two and three letters
      // keep search-as-you-type fast; a single letter matches so many documents that reading them
      // costs more than merging its terms.
      db.exec(`CREATE VIRTUAL TABLE ${text} USING fts5(${[...textFields.map(columnOf), KEYS_COLUMN].join(', ')},
        content='', contentless_delete=1, detail=column, prefix='2 3',
        tokenize="unicode61 remove_diacritics 2 categories 'L* N* M* Co Cn'")`);
    }
  };

  const open = (tag: bigint, name: string, schemaJson: string): OpenIndex => {
    const known = openIndexes.get(tag);
    if (known !== undefined) return known;
    const schema = JSON.parse(schemaJson) as SearchSchema;
    const { docs, text, columns, textFields, columnOf, ...layout } = layoutOf(tag, schema);
    const columnList = [...columns.values()];
    const keyTokens = text !== undefined && selectTextColumn.get(text, KEYS_COLUMN) !== undefined;
    const values = selectTable.get(layout.values) === undefined ? undefined : layout.values;
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
      ftsColumns,
      selectHead: db.prepare(`SELECT doc, version, fields FROM ${docs} WHERE id = ?`),
      selectOne: db.prepare(`SELECT id, version, fields FROM ${docs} WHERE id = ?`),
      insert: db.prepare<Bindable[]>(
        `INSERT INTO ${docs} (id, version, fields${columnList.map((c) => `, ${c}`).join('')})
         VALUES (${placeholders(3 + columnList.length)})`,
      ),
      update: db.prepare<Bindable[]>(
        `UPDATE ${docs} SET version = ?, fields = ?${columnList.map((c) => `, ${c} = ?`).join('')} WHERE doc = ?`,
      ),
      deleteValues: values === undefined ? undefined : db.prepare(`DELETE FROM ${values} WHERE doc = ?`),
      insertValue: values === undefined ? undefined : db.prepare(`INSERT OR IGNORE INTO ${values} (field, value, doc) VALUES (?, ?, ?)`),
      deleteText: text === undefined ? undefined : db.prepare(`DELETE FROM ${text} WHERE rowid = ?`),
      insertText:
        text === undefined
          ? undefined
          : db.prepare<Bindable[]>(
              `INSERT INTO ${text} (rowid, ${ftsColumns.join(', ')}) VALUES (${placeholders(1 + ftsColumns.length)})`,
            ),
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
  /** Whether two stored values put the same rows in the side table (only arrays put any). */
  const sameArray = (a: WireFields[string] | undefined, b: WireFields[string] | undefined): boolean => {
    const left = Array.isArray(a) ? a : [];
    const right = Array.isArray(b) ? b : [];
    return left.length === right.length && left.every((value, n) => value === right[n]);
  };

  const write = (index: OpenIndex, document: PreparedDocument): void => {
    const head = index.selectHead.get(document.id);
    if (head !== undefined && head.version >= document.version) return;
    const columns = columnValues(index, document.fields);
    const texts = ftsValues(index, document.fields);
    let doc: bigint;
    // A new version often changes only a status: its side-table and full-text rows stay as they are.
    let sameValues = index.insertValue === undefined;
    let sameText = false;
    if (head === undefined) {
      doc = BigInt(index.insert.run(document.id, document.version, document.fieldsJson, ...columns).lastInsertRowid);
    } else {
      doc = head.doc;
      const stored = JSON.parse(head.fields) as WireFields;
      sameValues ||= [...index.columns.keys()].every((field) => sameArray(stored[field], document.fields[field]));
      sameText = ftsValues(index, stored).every((text, n) => text === texts[n]);
      index.update.run(document.version, document.fieldsJson, ...columns, doc);
      if (!sameValues) index.deleteValues!.run(doc);
      if (!sameText) index.deleteText?.run(doc);
    }
    if (!sameValues) for (const [field, item] of sideValues(index, document.fields)) index.insertValue!.run(field, item, doc);
    if (!sameText && texts.some((text) => text !== null)) index.insertText?.run(doc, ...texts);
  };

  const upsertAll = db.transaction((index: OpenIndex, documents: readonly PreparedDocument[]) => {
    for (const document of documents) write(index, document);
  });

  const buildDeferredIndexes = db.transaction((index: OpenIndex) => {
    for (const sql of deferredIndexesSql(index.docs, index.columns)) db.exec(sql);
  });

  return {
    find,
    resolve,
    createTables,
    /** Forgets a dropped index's statements. */
    forget: (tag: bigint): void => {
      openIndexes.delete(tag);
    },
    /** Writes documents in one transaction, each skipped unless its version is above the stored one. */
    upsert: (index: OpenIndex, documents: readonly PreparedDocument[]): void => upsertAll.immediate(index, documents),
    /** Builds the indexes a `loading` index was created without; those there already stay. */
    finishLoading: (index: OpenIndex): void => buildDeferredIndexes.immediate(index),
  };
};

export type SearchTables = ReturnType<typeof createSearchTables>;

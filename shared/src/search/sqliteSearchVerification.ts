/**
 * The embedded index's checksum, verified. Searches read an index's filter and sort columns, its
 * FTS5 postings (array values' tokens included) and, in an index that has one, its side table of
 * array values, never the documents' JSON the checksum hashes:
 * before it hashes them, every one of those is checked against what the JSON derives (with the
 * functions writes use, `sqliteSearchTables.ts`), in the snapshot it hashes. Two indexes that pass
 * and checksum equal then answer every search the same, whatever their row numbers.
 *
 * SQLite checks what it can itself first (`PRAGMA integrity_check` of the documents table with its
 * filter, sort and covering indexes, of the side table, and of the FTS5 index, prefix indexes
 * included). The FTS5 table is contentless, so FTS5 cannot check it against the documents (its
 * check compares against content only for tables that have some): the documents' text is indexed
 * again into a private temporary FTS5 table declared as the index's own, and the two tables'
 * postings (`fts5vocab` 'instance', in FTS5's order: term, row, column, position) are compared
 * term by term. Everything is streamed: documents are read a page at a time, postings a term at a
 * time, and the temporary table spills to a temporary file.
 */
import Database from 'better-sqlite3';
import { FolioError } from '../errors/folioError.js';
import { DocumentChecksum, type WireFields } from './searchDocuments.js';
import { columnValues, ftsValues, KEYS_COLUMN, placeholders, sideValues, type Bindable, type OpenIndex } from './sqliteSearchTables.js';

/** Documents read, checked and indexed again per step: a few MiB of JSON at most. */
const PAGE = 2_000;
const MAX_ROW = 2n ** 63n - 1n;

/** What searches read of an index disagrees with its documents: the index must be rebuilt. */
export class SearchIndexDisagreementError extends FolioError {
  readonly type = 'search-index-disagreement';
  readonly status = 500;

  constructor(
    readonly index: string,
    readonly problem: string,
    /** Where, when one row is to blame: its row number, and its document's id unless no document has that row. */
    readonly at?: { row: bigint; documentId: string | undefined },
  ) {
    const where =
      at === undefined
        ? ''
        : at.documentId === undefined
          ? ` at row ${at.row}, which holds no document`
          : ` at document ${JSON.stringify(at.documentId)}`;
    super(`search index ${index} disagrees with its documents${where}: ${problem}; rebuild it from the log (folio projections rebuild)`);
  }

  override problemExtensions(): Record<string, unknown> {
    return { index: this.index, ...(this.at?.documentId === undefined ? {} : { documentId: this.at.documentId }) };
  }
}

const shown = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value) : String(value));

/** The byte order FTS5 keeps its terms in. */
const compareTerms = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** One term's postings, as `postingsSql` lists them. */
type TermPostings = [term: string, postings: string];

/** A row of `fts5vocab` 'instance': a term in a column of a row, at a position unless detail=column. */
type Posting = [term: string, doc: bigint, column: string, offset: bigint | null];

/**
 * Each term with its postings as one string (`<row><column>[ <position>]`, comma separated, in
 * FTS5's order), so that a term's postings cross from SQLite to JavaScript as one value: the
 * comparison costs a few times less than row by row. FTS5 already yields them in term order.
 */
const postingsSql = (table: string): string =>
  `SELECT term, group_concat(doc || col || coalesce(' ' || offset, '')) FROM ${table} GROUP BY term ORDER BY term`;

const POSTING = /^(\d+)([A-Za-z]\w*?)(?: (\d+))?$/;

const postingsOf = ([term, postings]: TermPostings): Posting[] =>
  postings.split(',').map((posting) => {
    const [, doc, column, offset] = POSTING.exec(posting)!;
    return [term, BigInt(doc!), column!, offset === undefined ? null : BigInt(offset)];
  });

/**
 * Checks the index in `path` against its documents and returns their `DocumentChecksum`, both
 * over one snapshot; throws `SearchIndexDisagreementError` at the first disagreement.
 */
export const verifiedChecksum = (path: string, index: OpenIndex): string => {
  const live = new Database(path, { readonly: true, fileMustExist: true });
  // A private temporary file, never memory, whatever the size of the index.
  const shadow = new Database('');
  try {
    live.defaultSafeIntegers(true);
    live.pragma('busy_timeout = 10000');
    // SQLite's own check seeks every row in each of the documents' indexes: at a million
    // documents, 64 MiB of cache takes a quarter off the whole verification (more gains nothing).
    live.pragma('cache_size = -65536');
    shadow.defaultSafeIntegers(true);
    shadow.pragma('journal_mode = OFF');
    shadow.pragma('temp_store = FILE');
    if (index.text !== undefined) {
      // The FTS5 options (tokenizer, detail, columns) the index was made with, whichever layout;
      // not its prefix indexes, which its postings do not list (SQLite's own check covers them).
      const declared = live.prepare<[string], string>('SELECT sql FROM sqlite_schema WHERE name = ?').pluck().get(index.text)!;
      const options = declared.slice(declared.search(/\sUSING\s/i)).replace(/,\s*prefix\s*=\s*'[^']*'/i, '');
      shadow.exec(`CREATE VIRTUAL TABLE derived ${options}`);
      shadow.exec("CREATE VIRTUAL TABLE derived_postings USING fts5vocab(derived, 'instance')");
      live.exec(`CREATE VIRTUAL TABLE temp.postings USING fts5vocab(main, ${JSON.stringify(index.text)}, 'instance')`);
    }
    live.exec('BEGIN');
    try {
      for (const table of [index.docs, index.values, index.text].filter((name) => name !== undefined)) {
        const found = live.prepare<[], string>(`PRAGMA integrity_check(${JSON.stringify(table)})`).pluck().all();
        if (found.join() !== 'ok') throw new SearchIndexDisagreementError(index.name, `SQLite finds ${table} damaged: ${found.slice(0, 3).join('; ')}`);
      }
      const failure = (row: bigint, problem: string): SearchIndexDisagreementError => {
        const documentId = live.prepare<[bigint], string>(`SELECT id FROM ${index.docs} WHERE doc = ?`).pluck().get(row);
        return new SearchIndexDisagreementError(index.name, problem, { row, documentId });
      };
      checkRows(live, shadow, index, failure);
      if (index.text !== undefined) checkPostings(live, shadow, index, failure);
      const checksum = new DocumentChecksum();
      const all = live.prepare<[], [string, bigint, string]>(`SELECT id, version, fields FROM ${index.docs} ORDER BY id`).raw();
      for (const [id, version, fields] of all.iterate()) checksum.add(id, version, fields);
      return checksum.digest();
    } finally {
      live.exec('COMMIT');
    }
  } finally {
    shadow.close();
    live.close();
  }
};

type Failure = (doc: bigint, problem: string) => SearchIndexDisagreementError;

/**
 * Each document's columns and side-table rows against its JSON, page by page in row order, and
 * its text into the temporary FTS5 table; side-table rows of no document are found on the way.
 */
const checkRows = (live: Database.Database, shadow: Database.Database, index: OpenIndex, failure: Failure): void => {
  const columns = [...index.columns.values()];
  const fieldOfColumn = [...index.columns.keys()];
  const page = live
    .prepare<[bigint], [bigint, string, ...Bindable[]]>(
      `SELECT doc, fields${columns.map((column) => `, ${column}`).join('')} FROM ${index.docs} WHERE doc > ? ORDER BY doc LIMIT ${PAGE}`,
    )
    .raw();
  const values =
    index.values === undefined
      ? undefined
      : live
          .prepare<[bigint, bigint], [bigint, string, string]>(
            `SELECT doc, field, value FROM ${index.values} WHERE doc > ? AND doc <= ? ORDER BY doc`,
          )
          .raw();
  const insertText =
    index.text === undefined
      ? undefined
      : shadow.prepare<Bindable[]>(`INSERT INTO derived (rowid, ${index.ftsColumns.join(', ')}) VALUES (${placeholders(1 + index.ftsColumns.length)})`);

  shadow.exec('BEGIN');
  let after = 0n;
  for (;;) {
    const rows = page.all(after);
    // The last page reaches every row number above, so side-table rows of no document are read too.
    const upTo = rows.length < PAGE ? MAX_ROW : rows.at(-1)![0];
    const stored = new Map<bigint, Set<string>>();
    for (const [doc, field, value] of values?.all(after, upTo) ?? []) {
      let set = stored.get(doc);
      if (set === undefined) stored.set(doc, (set = new Set()));
      set.add(`${field}\u0000${value}`);
    }
    for (const [doc, fieldsJson, ...actual] of rows) {
      const fields = JSON.parse(fieldsJson) as WireFields;
      const expected = columnValues(index, fields);
      const differing = expected.findIndex((value, n) => value !== actual[n]);
      if (differing >= 0) {
        throw failure(doc, `its ${fieldOfColumn[differing]} column holds ${shown(actual[differing])} where its fields give ${shown(expected[differing])}`);
      }
      const wanted = new Set(values === undefined ? [] : sideValues(index, fields).map(([field, value]) => `${field}\u0000${value}`));
      const held = stored.get(doc) ?? new Set<string>();
      stored.delete(doc);
      const missing = [...wanted].find((entry) => !held.has(entry));
      if (missing !== undefined) throw failure(doc, `the side table lacks ${sideEntry(missing)}`);
      const stale = [...held].find((entry) => !wanted.has(entry));
      if (stale !== undefined) throw failure(doc, `the side table has ${sideEntry(stale)}, which its fields do not`);
      const texts = ftsValues(index, fields);
      if (texts.some((text) => text !== null)) insertText?.run(doc, ...texts);
    }
    const [orphan] = stored;
    if (orphan !== undefined) throw failure(orphan[0], `the side table has ${sideEntry([...orphan[1]][0]!)} for it`);
    if (rows.length < PAGE) break;
    after = upTo;
  }
  shadow.exec('COMMIT');
};

const sideEntry = (entry: string): string => {
  const [field, value] = entry.split('\u0000') as [string, string];
  return `${field} = ${shown(value)}`;
};

/**
 * The index's postings against those its documents' text makes, term by term in FTS5's order:
 * the first posting one has and the other lacks names the document.
 */
const checkPostings = (live: Database.Database, shadow: Database.Database, index: OpenIndex, failure: Failure): void => {
  const columnOrder = new Map(index.ftsColumns.map((column, n) => [column, n]));
  const compare = (a: Posting, b: Posting): number =>
    compareTerms(a[0], b[0]) ||
    (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) ||
    (columnOrder.get(a[2]) ?? -1) - (columnOrder.get(b[2]) ?? -1) ||
    Number((a[3] ?? -1n) - (b[3] ?? -1n));
  const held = live.prepare<[], TermPostings>(postingsSql('temp.postings')).raw().iterate();
  const derived = shadow.prepare<[], TermPostings>(postingsSql('derived_postings')).raw().iterate();
  /** The first posting of `a` or `b` missing from the other: `lacking` when it is one of `b`'s. */
  const firstOf = (a: Posting[], b: Posting[]): { posting: Posting; lacking: boolean } => {
    let n = 0;
    while (n < a.length && n < b.length && compare(a[n]!, b[n]!) === 0) n += 1;
    const lacking = n >= a.length || (n < b.length && compare(b[n]!, a[n]!) < 0);
    return { posting: lacking ? b[n]! : a[n]!, lacking };
  };
  const firstDifference = (): { posting: Posting; lacking: boolean } | undefined => {
    for (;;) {
      const a = held.next();
      const b = derived.next();
      if (a.done === true && b.done === true) return undefined;
      if (a.done !== true && b.done !== true && a.value[0] === b.value[0] && a.value[1] === b.value[1]) continue;
      // The smaller term first: when only one side has it, its postings compare against none.
      const term = a.done === true || (b.done !== true && compareTerms(b.value[0], a.value[0]) < 0) ? (b.value as TermPostings)[0] : a.value[0];
      const postingsAt = (side: IteratorResult<TermPostings>): Posting[] =>
        side.done !== true && side.value[0] === term ? postingsOf(side.value) : [];
      return firstOf(postingsAt(a), postingsAt(b));
    }
  };
  let difference: ReturnType<typeof firstDifference>;
  try {
    difference = firstDifference();
  } finally {
    // The connections must be free again before the document is looked up.
    held.return?.();
    derived.return?.();
  }
  if (difference === undefined) return;
  const { posting, lacking } = difference;
  const what = describePosting(index, posting);
  throw failure(posting[1], lacking ? `the full-text index lacks ${what}` : `the full-text index has ${what}, which its fields do not`);
};

/** A posting as the document's field and word or value it stands for. */
const describePosting = (index: OpenIndex, [term, , column, offset]: Posting): string => {
  const at = offset === null ? '' : ` at word ${offset}`;
  const text = index.textColumns.indexOf(column);
  if (text >= 0) return `the word ${shown(term)} in ${index.textFields[text]}${at}`;
  const token = column === KEYS_COLUMN ? /^(f\d+)x((?:[0-9a-f]{2})*)$/.exec(term) : null;
  const field = token === null ? undefined : [...index.columns].find(([, name]) => name === token[1])?.[0];
  return field === undefined
    ? `the token ${shown(term)} in ${column}${at}`
    : `the value ${shown(Buffer.from(token![2]!, 'hex').toString('utf8'))} of ${field}${at}`;
};

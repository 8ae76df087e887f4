import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import type { SearchDocument, SearchIndex, SearchQuery, SearchSchema } from '../../src/search/searchIndex.js';
import { openSqliteSearchIndex, SearchIndexDisagreementError } from '../../src/search/sqliteSearchIndex.js';
import { keyToken } from '../../src/search/sqliteSearchTables.js';

/**
 * The checksum `folio projections rebuild` compares must tell an index whose full-text postings,
 * side table or filter columns drifted from its documents: searches read those, not the JSON.
 */

// Columns by position in the schema: description f0, account f1, status f2, amount f3, at f4.
const SCHEMA: SearchSchema = {
  fields: { description: 'text', account: 'keyword', status: 'keyword', amount: 'amount', at: 'date' },
};
const WORDS = ['coffee', 'rent', 'salary', 'refund', 'taxi'];

const documentOf = (i: number, version = 1n): SearchDocument => ({
  id: `d${String(i).padStart(4, '0')}`,
  version,
  fields: {
    description: `${WORDS[i % 5]} ${WORDS[(i * 3 + 1) % 5]} item${i}`,
    account: i % 2 === 0 ? [`acc-${i % 7}`, 'acc-shared'] : `acc-${i % 7}`,
    status: i % 3 === 0 ? 'PAID' : 'PENDING',
    amount: BigInt(i * 100),
    at: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(),
  },
});

const DOCUMENTS = Array.from({ length: 400 }, (_, i) => documentOf(i));
/** d0040: "coffee rent item40", accounts acc-5 and acc-shared, PENDING. */
const VICTIM = 'd0040';
/** The victim's accounts as the full-text table holds them. */
const VICTIM_TOKENS = `${keyToken('f1', 'acc-5')} ${keyToken('f1', 'acc-shared')}`;

const ids = async (index: SearchIndex, query: SearchQuery): Promise<string[]> =>
  (await index.search('tx', { ...query, limit: 500 })).hits.map((hit) => hit.id);

const outcomeOf = (checksum: Promise<string>): Promise<{ value?: string; error?: unknown }> =>
  checksum.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );

describe('SQLite search index checksum: what searches read agrees with the documents', () => {
  let directory: string;
  let path: string;
  let index: SearchIndex;
  /** The same documents, written the same way, never corrupted. */
  let twin: SearchIndex;
  let raw: Database.Database;

  const rowOf = (id: string): bigint =>
    raw.prepare<[string], bigint>('SELECT doc FROM search_1_docs WHERE id = ?').pluck().get(id)!;

  beforeEach(async () => {
    directory = mkdtempSync(join(tmpdir(), 'folio-search-verify-'));
    path = join(directory, 'search.db');
    index = openSqliteSearchIndex({ path });
    twin = openSqliteSearchIndex({ path: join(directory, 'twin.db') });
    for (const written of [index, twin]) {
      await written.ensureIndex('tx', SCHEMA);
      await written.upsert('tx', DOCUMENTS);
    }
    raw = new Database(path);
    raw.defaultSafeIntegers(true);
  });

  afterEach(async () => {
    raw.close();
    await index.close();
    await twin.close();
    rmSync(directory, { recursive: true, force: true });
  });

  /**
   * Each changes what `query` answers while leaving every document's JSON as it was; `then` are
   * documents written afterwards to both the corrupted index and its twin.
   */
  const corruptions: { what: string; corrupt: () => void; query: SearchQuery; then?: SearchDocument[]; problem: string }[] = [
    {
      what: 'a word missing from the full-text index',
      corrupt: () => {
        const doc = rowOf(VICTIM);
        raw.prepare('DELETE FROM search_1_text WHERE rowid = ?').run(doc);
        raw.prepare('INSERT INTO search_1_text (rowid, f0, keys) VALUES (?, ?, ?)').run(doc, 'rent item40', VICTIM_TOKENS);
      },
      query: { text: 'coffee' },
      problem: 'at document "d0040": the full-text index lacks the word "coffee" in description',
    },
    {
      what: 'a word the document does not have',
      corrupt: () => {
        const doc = rowOf(VICTIM);
        raw.prepare('DELETE FROM search_1_text WHERE rowid = ?').run(doc);
        raw.prepare('INSERT INTO search_1_text (rowid, f0, keys) VALUES (?, ?, ?)').run(doc, 'coffee rent item40 yacht', VICTIM_TOKENS);
      },
      query: { text: 'yacht' },
      problem: 'at document "d0040": the full-text index has the word "yacht" in description, which its fields do not',
    },
    {
      what: "an array value's token missing from the full-text index",
      corrupt: () => {
        const doc = rowOf(VICTIM);
        raw.prepare('DELETE FROM search_1_text WHERE rowid = ?').run(doc);
        raw.prepare('INSERT INTO search_1_text (rowid, f0, keys) VALUES (?, ?, ?)').run(doc, 'coffee rent item40', keyToken('f1', 'acc-5'));
      },
      query: { text: 'coffee', equals: { account: 'acc-shared' } },
      problem: 'at document "d0040": the full-text index lacks the value "acc-shared" of account',
    },
    {
      what: 'words of a row that holds no document, which the next new document would inherit',
      corrupt: () => {
        raw.prepare('INSERT INTO search_1_text (rowid, f0) VALUES (?, ?)').run(rowOf('d0399') + 1n, 'yacht');
      },
      query: { text: 'yacht' },
      then: [documentOf(400)],
      problem: 'at document "d0400": the full-text index has the word "yacht" in description, which its fields do not',
    },
    {
      what: "a stale array value's token in the full-text index",
      corrupt: () => {
        const doc = rowOf(VICTIM);
        raw.prepare('DELETE FROM search_1_text WHERE rowid = ?').run(doc);
        raw.prepare('INSERT INTO search_1_text (rowid, f0, keys) VALUES (?, ?, ?)').run(doc, 'coffee rent item40', `${VICTIM_TOKENS} ${keyToken('f1', 'acc-gone')}`);
      },
      query: { equals: { account: 'acc-gone' } },
      problem: 'at document "d0040": the full-text index has the value "acc-gone" of account, which its fields do not',
    },
    {
      what: 'a filter column that differs from the JSON',
      corrupt: () => {
        raw.prepare("UPDATE search_1_docs SET f2 = 'PAID' WHERE id = ?").run(VICTIM);
      },
      query: { equals: { status: 'PAID' } },
      problem: 'at document "d0040": its status column holds "PAID" where its fields give "PENDING"',
    },
    {
      what: 'a sort column that differs from the JSON',
      corrupt: () => {
        raw.prepare('UPDATE search_1_docs SET f3 = 1 WHERE id = ?').run(VICTIM);
      },
      query: { ranges: { amount: { lte: 1n } } },
      problem: 'at document "d0040": its amount column holds 1 where its fields give 4000',
    },
  ];

  for (const { what, corrupt, query, then = [], problem } of corruptions) {
    it(`does not checksum an index with ${what} as the clean one`, async () => {
      corrupt();
      for (const written of [index, twin]) await written.upsert('tx', then);
      expect(await ids(index, query), 'the corruption changes what a search answers').to.not.deep.equal(await ids(twin, query));

      const outcome = await outcomeOf(index.checksum('tx'));
      expect(outcome.value, 'the checksum of the corrupted index').to.not.equal(await twin.checksum('tx'));
      expect(outcome.error).to.be.instanceOf(SearchIndexDisagreementError);
      expect((outcome.error as Error).message).to.equal(
        `search index tx disagrees with its documents ${problem}; rebuild it from the log (folio projections rebuild)`,
      );
    });
  }

  it('refuses full-text rows of a row number no document has, naming the row', async () => {
    const orphan = rowOf('d0399') + 5n;
    raw.prepare('INSERT INTO search_1_text (rowid, f0) VALUES (?, ?)').run(orphan, 'yacht');
    await expectRefused(index, `at row ${orphan}, which holds no document: the full-text index has the word "yacht" in description, which its fields do not`);
    raw.prepare('DELETE FROM search_1_text WHERE rowid = ?').run(orphan);
    expect(await index.checksum('tx')).to.equal(await twin.checksum('tx'));
  });

  it("keeps an array's values only as full-text tokens where the index has a full-text table", () => {
    expect(raw.prepare("SELECT name FROM sqlite_schema WHERE name LIKE 'search_1_values%'").pluck().all()).to.deep.equal([]);
  });

  it('checks an index without text fields, which has no full-text table', async () => {
    const schema: SearchSchema = { fields: { account: 'keyword' } };
    await index.ensureIndex('accounts', schema);
    await index.upsert('accounts', [{ id: 'a', version: 1n, fields: { account: ['x', 'y'] } }]);
    await index.checksum('accounts');
    raw.prepare("DELETE FROM search_2_values WHERE value = 'y'").run();
    await expectRefused(index, 'at document "a": the side table lacks account = "y"', 'accounts');
  });

  /** What an earlier version made for `ensureIndex('tx', SCHEMA)` (see sqliteSearchIndex.test.ts), opened raw. */
  const earlierFile = (): Database.Database => {
    const file = new Database(join(directory, 'earlier.db'));
    file.defaultSafeIntegers(true);
    file.exec(`
      CREATE TABLE search_indexes (tag INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, schema TEXT NOT NULL);
      CREATE TABLE search_aliases (alias TEXT PRIMARY KEY, target TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE search_1_docs (
        doc INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, version INTEGER NOT NULL, fields TEXT NOT NULL,
        f1 TEXT, f2 TEXT, f3 INTEGER, f4 INTEGER
      );
      CREATE TABLE search_1_values (
        field TEXT NOT NULL, value TEXT NOT NULL, doc INTEGER NOT NULL, PRIMARY KEY (field, value, doc)
      ) WITHOUT ROWID;
      CREATE INDEX search_1_values_doc ON search_1_values (doc);
      CREATE VIRTUAL TABLE search_1_text USING fts5(f0, keys,
        content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2', prefix='1 2 3');
      INSERT INTO search_indexes (tag, name, schema) VALUES (1, 'tx', '${JSON.stringify(SCHEMA)}');
    `);
    return file;
  };

  /**
   * Runs `check` on an index of the earlier layout holding the documents, checked equal to the
   * clean twin first, with the file opened raw and the row of the victim document.
   */
  const withEarlierIndex = async (check: (earlier: SearchIndex, file: Database.Database, doc: bigint) => Promise<void>): Promise<void> => {
    const file = earlierFile();
    const earlier = openSqliteSearchIndex({ path: join(directory, 'earlier.db') });
    try {
      await earlier.upsert('tx', DOCUMENTS);
      expect(await earlier.checksum('tx')).to.equal(await twin.checksum('tx'));
      await check(earlier, file, file.prepare<[string], bigint>('SELECT doc FROM search_1_docs WHERE id = ?').pluck().get(VICTIM)!);
    } finally {
      file.close();
      await earlier.close();
    }
  };

  it('checks an index made by the earlier layout, which keeps word positions, to the position', () =>
    withEarlierIndex(async (earlier, file, doc) => {
      file.prepare('DELETE FROM search_1_text WHERE rowid = ?').run(doc);
      file.prepare('INSERT INTO search_1_text (rowid, f0, keys) VALUES (?, ?, ?)').run(doc, 'rent coffee item40', VICTIM_TOKENS);
      await expectRefused(earlier, 'at document "d0040": the full-text index lacks the word "coffee" in description at word 0');
    }));

  it('checks the side table of an index made by the earlier layout against the arrays of its documents', () =>
    withEarlierIndex(async (earlier, file, doc) => {
      const orphan = file.prepare<[], bigint>('SELECT max(doc) FROM search_1_docs').pluck().get()! + 5n;
      const shared = `DELETE FROM search_1_values WHERE doc = ${doc} AND value = 'acc-shared'`;
      const gone = (row: bigint) => `INSERT INTO search_1_values (field, value, doc) VALUES ('account', 'acc-gone', ${row})`;
      const sideRows: [corrupt: string, restore: string, problem: string][] = [
        [shared, `INSERT INTO search_1_values (field, value, doc) VALUES ('account', 'acc-shared', ${doc})`, 'at document "d0040": the side table lacks account = "acc-shared"'],
        [gone(doc), `DELETE FROM search_1_values WHERE doc = ${doc} AND value = 'acc-gone'`, 'at document "d0040": the side table has account = "acc-gone", which its fields do not'],
        [gone(orphan), `DELETE FROM search_1_values WHERE doc = ${orphan}`, `at row ${orphan}, which holds no document: the side table has account = "acc-gone" for it`],
      ];
      for (const [corrupt, restore, problem] of sideRows) {
        file.exec(corrupt);
        await expectRefused(earlier, problem);
        file.exec(restore);
      }
      expect(await earlier.checksum('tx')).to.equal(await twin.checksum('tx'));
    }));
});

const expectRefused = async (index: SearchIndex, problem: string, name = 'tx'): Promise<void> => {
  const { value, error } = await outcomeOf(index.checksum(name));
  expect(value).to.equal(undefined);
  expect(error).to.be.instanceOf(SearchIndexDisagreementError);
  expect((error as Error).message).to.equal(
    `search index ${name} disagrees with its documents ${problem}; rebuild it from the log (folio projections rebuild)`,
  );
};

describe('SQLite search index checksum: a live index and one rebuilt from its final documents', () => {
  let directory: string;

  before(() => {
    directory = mkdtempSync(join(tmpdir(), 'folio-search-verify-'));
  });

  after(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  /** Several pages of documents (pages are 2,000 rows), every kind of change among them. */
  const COUNT = 5_000;
  const changed = (i: number, version: bigint): SearchDocument => {
    const { id, fields } = documentOf(i);
    switch (i % 6) {
      case 0: // new words: the full-text row is replaced
        return { id, version, fields: { ...fields, description: `yacht harbour ${id}` } };
      case 1: // arrays become one value: side-table rows and keyword tokens go
        return { id, version, fields: { ...fields, account: 'acc-single' } };
      case 2: // no text and no array left: no full-text row at all
        return { id, version, fields: { ...fields, description: null, account: 'acc-single' } };
      case 3: // only the status: the full-text and side-table rows stay as they are
        return { id, version, fields: { ...fields, status: 'SETTLED' } };
      case 4: // one value becomes an array with new values
        return { id, version, fields: { ...fields, account: ['acc-new', 'acc-shared', 'acc-new-2'] } };
      default: // words that fold to the same tokens, and a text made of no word at all
        return { id, version, fields: { ...fields, description: i % 12 === 5 ? 'CAFÉ Café café' : '— … —' } };
    }
  };

  it('checksum equal, through an alias too, whatever order the changes reached the live one in', async () => {
    const live = openSqliteSearchIndex({ path: join(directory, 'live.db'), writeThread: true });
    const rebuilt = openSqliteSearchIndex({ path: join(directory, 'rebuilt.db') });
    try {
      await live.ensureIndex('tx', SCHEMA);
      const all = Array.from({ length: COUNT }, (_, i) => i);
      await live.upsert('tx', all.map((i) => documentOf(i)));
      await live.upsert('tx', all.filter((i) => i % 2 === 0).map((i) => changed(i, 2n)));
      await live.upsert('tx', all.filter((i) => i % 2 === 1).map((i) => changed(i, 2n)));
      // Text back on documents that had none, and a replayed old version, which changes nothing.
      const restored = all.filter((i) => i % 6 === 2).map((i) => documentOf(i, 3n));
      await live.upsert('tx', [...restored, documentOf(0)]);

      const final = all.map((i) => (i % 6 === 2 ? documentOf(i, 3n) : changed(i, 2n)));
      await rebuilt.ensureIndex('tx-rebuilt', SCHEMA, { loading: true });
      await rebuilt.upsert('tx-rebuilt', [...final].reverse());
      await rebuilt.finishLoading('tx-rebuilt');
      await rebuilt.setAlias('tx', 'tx-rebuilt');

      const checksum = await live.checksum('tx');
      expect(await rebuilt.checksum('tx')).to.equal(checksum);
      for (const query of [{ text: 'yacht' }, { text: 'cafe' }, { text: 'coffee', equals: { account: 'acc-shared' } }, { equals: { account: 'acc-new' } }]) {
        expect(await ids(rebuilt, query), JSON.stringify(query)).to.deep.equal(await ids(live, query));
      }
    } finally {
      await live.close();
      await rebuilt.close();
    }
  });
});

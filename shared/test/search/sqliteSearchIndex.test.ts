import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { NotFoundError } from '../../src/errors/commonErrors.js';
import type { SearchDocument, SearchIndex, SearchQuery, SearchSchema } from '../../src/search/searchIndex.js';
import { openSqliteSearchIndex } from '../../src/search/sqliteSearchIndex.js';

/**
 * What the contract cannot see of the embedded adapter: its query planning for broad filters
 * (which only kicks in past a couple of thousand matching rows) and sharing one file between
 * connections, as the projector and the query side do.
 */

const SCHEMA: SearchSchema = {
  fields: { description: 'text', account: 'keyword', status: 'keyword', amount: 'amount', at: 'date' },
};
const STATUSES = ['PAID', 'PENDING', 'SETTLED', 'FAILED'];
const WORDS = ['coffee', 'rent', 'salary', 'refund', 'taxi'];

interface Row {
  id: string;
  description: string;
  account: string | string[];
  status: string;
  amount: bigint | null;
  at: string;
}

const rows: Row[] = Array.from({ length: 10_000 }, (_, i) => ({
  id: `d${String(i).padStart(5, '0')}`,
  description: `${WORDS[i % 5]} ${WORDS[(i * 3 + 1) % 5]} item${i}`,
  account: i % 10 === 0 ? [`acc-${i % 7}`, 'acc-shared'] : i % 13 === 0 ? `acc-${i % 7}` : [`acc-${i % 7}`],
  status: STATUSES[i % 4]!,
  amount: i % 11 === 0 ? null : 2n ** 53n + BigInt((i * 7919) % 5000),
  at: new Date(Date.UTC(2024, 0, 1) + ((i * 104729) % 6000) * 60_000).toISOString(),
}));

const documentOf = (row: Row): SearchDocument => ({
  id: row.id,
  version: 1n,
  fields: { description: row.description, account: row.account, status: row.status, amount: row.amount, at: row.at },
});

const holds = (row: Row, account: string): boolean =>
  Array.isArray(row.account) ? row.account.includes(account) : row.account === account;

/** Missing values lowest, as both adapters sort them; ids here are ASCII, so `<` is byte order. */
const compare = (a: string | bigint | null, b: string | bigint | null): number =>
  a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1;

/** The expected answer, computed the slow and obvious way. */
const expected = (keep: (row: Row) => boolean, field: 'amount' | 'at' | 'id', direction: 'asc' | 'desc'): string[] => {
  const sign = direction === 'asc' ? 1 : -1;
  return rows
    .filter(keep)
    .sort((a, b) => sign * (field === 'id' ? 0 : compare(a[field], b[field])) || sign * compare(a.id, b.id))
    .map((row) => row.id);
};

const everyPage = async (index: SearchIndex, name: string, query: SearchQuery): Promise<string[]> => {
  const ids: string[] = [];
  let after: string | undefined;
  do {
    const result = await index.search(name, after === undefined ? query : { ...query, after });
    ids.push(...result.hits.map((hit) => hit.id));
    after = result.nextCursor;
  } while (after !== undefined);
  return ids;
};

describe('SQLite search index', () => {
  let directory: string;
  let index: SearchIndex;

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'folio-search-'));
    index = openSqliteSearchIndex({ path: join(directory, 'search.db') });
    await index.ensureIndex('tx', SCHEMA);
    await index.upsert('tx', rows.map(documentOf));
  });

  after(async () => {
    await index.close();
    rmSync(directory, { recursive: true, force: true });
  });

  describe('filters broad or narrow, alone or with words: exact answers whichever drives the query', () => {
    const cases: [string, SearchQuery, (row: Row) => boolean][] = [
      ['a common status', { equals: { status: 'PAID' } }, (r) => r.status === 'PAID'],
      [
        'two common statuses and a rare account',
        { equals: { status: ['PAID', 'FAILED'], account: 'acc-shared' } },
        (r) => ['PAID', 'FAILED'].includes(r.status) && holds(r, 'acc-shared'),
      ],
      ['a common word', { text: 'coffee' }, (r) => r.description.includes('coffee')],
      [
        'a common prefix and a rare word',
        { text: 'co item12' },
        (r) => r.description.includes('coffee') && / item12/.test(r.description),
      ],
      [
        'a wide amount range',
        { ranges: { amount: { gte: 2n ** 53n + 100n } } },
        (r) => r.amount !== null && r.amount >= 2n ** 53n + 100n,
      ],
      [
        'a common word and an account only arrays hold (answered by the full-text index alone)',
        { text: 'coffee', equals: { account: 'acc-shared' } },
        (r) => r.description.includes('coffee') && holds(r, 'acc-shared'),
      ],
      [
        'a common word and an account some documents hold as a single value',
        { text: 'coffee', equals: { account: 'acc-3' } },
        (r) => r.description.includes('coffee') && holds(r, 'acc-3'),
      ],
      [
        'a common prefix and two accounts',
        { text: 'ta', equals: { account: ['acc-shared', 'acc-5'] } },
        (r) => r.description.includes('taxi') && (holds(r, 'acc-shared') || holds(r, 'acc-5')),
      ],
      [
        'a word that is also a keyword token prefix, and an account',
        { text: 'f', equals: { account: 'acc-shared' } },
        () => false,
      ],
      [
        'a wide date range and a common status',
        { ranges: { at: { lte: '2024-01-03T00:00:00Z' } }, equals: { status: 'SETTLED' } },
        (r) => r.at <= '2024-01-03T00:00:00.000Z' && r.status === 'SETTLED',
      ],
    ];
    const sorts = [
      ['id', 'asc'],
      ['at', 'desc'],
      ['amount', 'asc'],
      ['amount', 'desc'],
    ] as const;

    for (const [label, query, keep] of cases) {
      it(`pages through ${label} exactly, in every sort order`, async () => {
        for (const [field, direction] of sorts) {
          const sorted: SearchQuery = field === 'id' ? query : { ...query, sort: { field, direction } };
          const ids = await everyPage(index, 'tx', { ...sorted, limit: 500 });
          expect(ids, `${label} by ${field} ${direction}`).to.deep.equal(expected(keep, field, direction));
        }
      });
    }
  });

  describe('a search driven by its words', () => {
    it('filters and sorts its matches in the covering index, which holds every column it reads there', async () => {
      // The statements a second connection to the file prepares, with the connection, so that
      // SQLite's plan for them can be read where their full-text matches table lives.
      const prepared: { connection: Database.Database; sql: string }[] = [];
      const prepare = Database.prototype.prepare;
      Database.prototype.prepare = function (this: Database.Database, sql: string) {
        prepared.push({ connection: this, sql });
        return prepare.call(this, sql);
      } as typeof prepare;
      const reader = openSqliteSearchIndex({ path: join(directory, 'search.db') });
      try {
        const query: SearchQuery = { text: 'item12', equals: { status: 'PAID' }, sort: { field: 'amount', direction: 'desc' }, limit: 5 };
        const ids = await everyPage(reader, 'tx', query);
        expect(ids).to.deep.equal(expected((r) => / item12/.test(r.description) && r.status === 'PAID', 'amount', 'desc'));
        const searches = prepared.filter(({ sql }) => sql.includes('INDEXED BY'));
        expect(searches, 'the first page and the next ones').to.have.length.of.at.least(2);
        for (const { connection, sql } of searches) {
          const parameters = Array.from(sql.matchAll(/\?/g), () => null);
          const explain = prepare.call(connection, `EXPLAIN QUERY PLAN ${sql}`) as Database.Statement<null[], { detail: string }>;
          const plan = explain.all(...parameters).map((step) => step.detail);
          expect(plan.join('\n')).to.match(/USING COVERING INDEX \w+_cover\b/);
        }
      } finally {
        Database.prototype.prepare = prepare;
        await reader.close();
      }
    });
  });

  describe('an index made by the earlier layout (positions, one-letter prefixes, 4 KiB pages)', () => {
    /** The file an earlier version made for `ensureIndex('tx', SCHEMA)`, as it made it. */
    const EARLIER_FILE = `
      CREATE TABLE search_indexes (tag INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, schema TEXT NOT NULL);
      CREATE TABLE search_aliases (alias TEXT PRIMARY KEY, target TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE search_1_docs (
        doc INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, version INTEGER NOT NULL, fields TEXT NOT NULL,
        f1 TEXT, f2 TEXT, f3 INTEGER, f4 INTEGER
      );
      CREATE INDEX search_1_docs_f1 ON search_1_docs (f1, id);
      CREATE INDEX search_1_docs_f2 ON search_1_docs (f2, id);
      CREATE INDEX search_1_docs_f3 ON search_1_docs (f3, id);
      CREATE INDEX search_1_docs_f4 ON search_1_docs (f4, id);
      CREATE TABLE search_1_values (
        field TEXT NOT NULL, value TEXT NOT NULL, doc INTEGER NOT NULL, PRIMARY KEY (field, value, doc)
      ) WITHOUT ROWID;
      CREATE INDEX search_1_values_doc ON search_1_values (doc);
      CREATE VIRTUAL TABLE search_1_text USING fts5(f0, keys,
        content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2', prefix='1 2 3');
      INSERT INTO search_indexes (tag, name, schema) VALUES (1, 'tx', '${JSON.stringify(SCHEMA)}');
    `;
    const queries: SearchQuery[] = [
      { text: 'coffee' },
      { text: 't' },
      { text: 'co item12', sort: { field: 'at', direction: 'desc' } },
      { text: 'coffee', equals: { account: 'acc-shared' } },
      { text: 'ta', equals: { account: ['acc-shared', 'acc-5'] }, sort: { field: 'amount', direction: 'asc' } },
      { text: 'f', equals: { account: 'acc-shared' } },
      { text: 'item1', equals: { status: 'PAID' } },
      { equals: { account: 'acc-3' }, sort: { field: 'at', direction: 'desc' } },
    ];

    it('keeps answering as a new index does, before and after documents change', async () => {
      const earlierPath = join(directory, 'earlier.db');
      const file = new Database(earlierPath);
      file.pragma('journal_mode = WAL');
      file.exec(EARLIER_FILE);
      file.close();
      // Written through the thread, which opens the file on a connection of its own.
      const earlier = openSqliteSearchIndex({ path: earlierPath, writeThread: true });
      const fresh = openSqliteSearchIndex({ path: join(directory, 'fresh.db') });
      try {
        await earlier.ensureIndex('tx', SCHEMA);
        await fresh.ensureIndex('tx', SCHEMA);
        const sample = rows.slice(0, 3000);
        // New words and accounts for some documents: their full-text and side-table rows are replaced.
        const changed = sample
          .filter((_, i) => i % 7 === 0)
          .map((row) => documentOf({ ...row, description: `taxi refund ${row.id}`, account: ['acc-shared', 'acc-9'] }));
        for (const stage of [sample.map(documentOf), changed.map((document) => ({ ...document, version: 2n }))]) {
          await earlier.upsert('tx', stage);
          await fresh.upsert('tx', stage);
          for (const query of queries) {
            const answer = await everyPage(fresh, 'tx', { ...query, limit: 500 });
            expect(await everyPage(earlier, 'tx', { ...query, limit: 500 }), JSON.stringify(query)).to.deep.equal(answer);
          }
          expect(await earlier.checksum('tx')).to.equal(await fresh.checksum('tx'));
        }
        expect(await everyPage(earlier, 'tx', { text: 'taxi refund', equals: { account: 'acc-9' } })).to.have.length(changed.length);
        const written = new Database(earlierPath, { readonly: true });
        try {
          // Still the earlier tables, not new ones made beside them.
          expect(written.prepare('SELECT tag FROM search_indexes').pluck().all()).to.deep.equal([1]);
        } finally {
          written.close();
        }
      } finally {
        await earlier.close();
        await fresh.close();
      }
    });
  });

  describe('loading', () => {
    it('creates the filter, sort and covering indexes when the load finishes, on the writing thread, once', async () => {
      const path = join(directory, 'loading.db');
      const loading = openSqliteSearchIndex({ path, writeThread: true });
      const file = new Database(path, { readonly: true });
      const columnIndexes = () =>
        file
          .prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name LIKE '%\\_docs' ESCAPE '\\' AND sql IS NOT NULL ORDER BY name")
          .pluck()
          .all();
      try {
        await loading.ensureIndex('load', SCHEMA, { loading: true });
        await loading.upsert('load', rows.slice(0, 2000).map(documentOf));
        expect(columnIndexes(), 'while loading').to.deep.equal([]);
        const query: SearchQuery = { equals: { status: 'PAID' }, sort: { field: 'amount', direction: 'desc' }, limit: 100 };
        const whileLoading = await everyPage(loading, 'load', query);
        await loading.finishLoading('load');
        const built = columnIndexes();
        expect(built, 'one per keyword, amount and date field, and the covering one').to.have.length(5);
        expect(built.filter((name) => name.endsWith('_cover'))).to.have.length(1);
        await loading.finishLoading('load');
        expect(columnIndexes()).to.deep.equal(built);
        expect(await everyPage(loading, 'load', query)).to.deep.equal(whileLoading);
        expect(whileLoading).to.have.length(500);
      } finally {
        file.close();
        await loading.close();
      }
    });
  });

  describe('one file, several connections', () => {
    it('sees what another connection wrote, and the indexes and aliases it created or dropped', async () => {
      const other = openSqliteSearchIndex({ path: join(directory, 'search.db') });
      try {
        expect((await other.get('tx', 'd00001'))?.fields.status).to.equal('PENDING');

        await other.ensureIndex('tx-v2', { fields: { status: 'keyword' } });
        await other.upsert('tx-v2', [{ id: 'n', version: 1n, fields: { status: 'NEW' } }]);
        await other.setAlias('tx-live', 'tx-v2');
        expect((await index.search('tx-live', {})).hits.map((hit) => hit.id)).to.deep.equal(['n']);

        // Recreated under the same name with another schema: the first connection follows.
        await other.dropIndex('tx-v2');
        await other.ensureIndex('tx-v2', { fields: { note: 'text' } });
        await other.upsert('tx-v2', [{ id: 'm', version: 1n, fields: { note: 'recreated' } }]);
        expect(await index.resolveAlias('tx-live')).to.equal(undefined);
        expect((await index.search('tx-v2', { text: 'recre' })).hits.map((hit) => hit.id)).to.deep.equal(['m']);
        await other.dropIndex('tx-v2');
        const error = await index.search('tx-v2', {}).then(
          () => undefined,
          (failure: unknown) => failure,
        );
        expect(error).to.be.instanceOf(NotFoundError);
      } finally {
        await other.close();
      }
    });

    it('keeps everything across reopening the file', async () => {
      const reopened = openSqliteSearchIndex({ path: join(directory, 'search.db') });
      try {
        expect(await reopened.checksum('tx')).to.equal(await index.checksum('tx'));
      } finally {
        await reopened.close();
      }
    });
  });
});

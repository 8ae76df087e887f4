import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import type { DocumentStore } from '../../src/documents/documentStore.js';
import { openSqliteDocumentStore } from '../../src/documents/sqliteDocumentStore.js';
import { InvalidArgumentError } from '../../src/eventStore/errors.js';

describe('SQLite document store', () => {
  let directory: string;
  const open: DocumentStore[] = [];
  const openStore = (path: string): DocumentStore => {
    const store = openSqliteDocumentStore({ path });
    open.push(store);
    return store;
  };

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'folio-documents-'));
  });

  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('creates its directory and a WAL-mode file', async () => {
    const path = join(directory, 'nested', 'deeper', 'documents.db');
    const store = openStore(path);
    await store.withTransaction((session) => session.put('balances', { _id: 'a' }));

    expect(existsSync(path)).to.equal(true);
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).to.equal('wal');
    } finally {
      db.close();
    }
  });

  it('keeps documents and indexes across close and reopen', async () => {
    const path = join(directory, 'documents.db');
    const first = openStore(path);
    await first.withTransaction(async (session) => {
      await session.put('balances', { _id: 'a', currency: 'EUR' });
      await session.put('balances', { _id: 'b', currency: 'USD' });
    });
    await first.ensureIndex('balances', ['currency']);
    const checksum = await first.checksum('balances');
    await first.close();
    open.splice(open.indexOf(first), 1);

    const second = openStore(path);
    expect(await second.checksum('balances')).to.equal(checksum);
    expect((await second.find('balances', { where: { currency: 'USD' } })).items).to.deep.equal([
      { _id: 'b', currency: 'USD' },
    ]);
  });

  it('lets a transaction queued before close commit', async () => {
    const path = join(directory, 'documents.db');
    const store = openSqliteDocumentStore({ path });
    const committed = store.withTransaction((session) => session.put('balances', { _id: 'late' }));
    await store.close();
    await committed;

    const reopened = openStore(path);
    expect(await reopened.get('balances', 'late')).to.deep.equal({ _id: 'late' });
  });

  it('indexes (field, _id) expressions and rebuilds them under the new name on rename', async () => {
    const path = join(directory, 'documents.db');
    const store = openStore(path);
    await store.withTransaction((session) => session.put('history_v2', { _id: 'a', account: '1', at: '2' }));
    await store.ensureIndex('history_v2', ['account', 'at']);
    await store.renameCollection('history_v2', 'history');

    const db = new Database(path, { readonly: true });
    try {
      const indexes = db
        .prepare<[], { name: string; tbl_name: string; sql: string }>(
          "SELECT name, tbl_name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL",
        )
        .all();
      expect(indexes.map(({ name, tbl_name }) => [name, tbl_name])).to.deep.equal([['history/account,at', 'history']]);
      expect(indexes[0]!.sql).to.contain(`(json_extract(doc, '$.account'), json_extract(doc, '$.at'), _id)`);
    } finally {
      db.close();
    }
  });

  it('sees what another store on the same file wrote, created and dropped', async () => {
    const path = join(directory, 'documents.db');
    const writer = openStore(path);
    const other = openStore(path);
    await writer.withTransaction((session) => session.put('payments', { _id: 'p1', status: 'PAID' }));
    expect(await other.get('payments', 'p1')).to.deep.equal({ _id: 'p1', status: 'PAID' });
    expect(await other.count('payments', { status: 'PAID' })).to.equal(1);

    await other.dropCollection('payments');
    expect(await writer.get('payments', 'p1')).to.equal(undefined);
    // The writer prepared statements on the dropped table: it must create the table anew, not fail.
    await writer.withTransaction((session) => session.put('payments', { _id: 'p2', status: 'PENDING' }));
    expect((await other.find('payments')).items).to.deep.equal([{ _id: 'p2', status: 'PENDING' }]);
  });

  it('refuses an in-memory database, which a second connection could not share', () => {
    for (const path of [':memory:', '']) {
      expect(() => openSqliteDocumentStore({ path }), JSON.stringify(path)).to.throw(InvalidArgumentError);
    }
  });
});

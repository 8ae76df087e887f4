import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteEventStore, type SqliteEventStore } from '../../src/eventStore/sqlite/sqliteEventStore.js';
import { describeEventStoreContract } from '../../src/testing/index.js';

const directory = mkdtempSync(join(tmpdir(), 'folio-contract-'));

describeEventStoreContract({
  name: 'sqlite',
  create: async () => openSqliteEventStore({ path: join(directory, 'events.db') }),
  dropSubscriptions: (store) => (store as SqliteEventStore).dropSubscriptions(),
});

after(() => {
  rmSync(directory, { recursive: true, force: true });
});

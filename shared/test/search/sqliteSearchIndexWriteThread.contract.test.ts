import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteSearchIndex } from '../../src/search/sqliteSearchIndex.js';
import { describeSearchIndexContract } from '../../src/testing/searchIndexContract.js';

const directory = mkdtempSync(join(tmpdir(), 'folio-search-thread-contract-'));

describeSearchIndexContract({
  name: 'sqlite, writes on their own thread',
  create: async () => openSqliteSearchIndex({ path: join(directory, 'search.db'), writeThread: true }),
});

after(() => {
  rmSync(directory, { recursive: true, force: true });
});

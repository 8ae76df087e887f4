import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteSearchIndex } from '../../src/search/sqliteSearchIndex.js';
import { describeSearchIndexContract } from '../../src/testing/searchIndexContract.js';

const directory = mkdtempSync(join(tmpdir(), 'folio-search-contract-'));

describeSearchIndexContract({
  name: 'sqlite',
  create: async () => openSqliteSearchIndex({ path: join(directory, 'search.db') }),
});

after(() => {
  rmSync(directory, { recursive: true, force: true });
});

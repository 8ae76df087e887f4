import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteDocumentStore } from '../../src/documents/sqliteDocumentStore.js';
import { describeDocumentStoreContract } from '../../src/testing/documentStoreContract.js';

const directory = mkdtempSync(join(tmpdir(), 'folio-documents-contract-'));

describeDocumentStoreContract({
  name: 'sqlite',
  create: async () => openSqliteDocumentStore({ path: join(directory, 'documents.db') }),
});

after(() => {
  rmSync(directory, { recursive: true, force: true });
});

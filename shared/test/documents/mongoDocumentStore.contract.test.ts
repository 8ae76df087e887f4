import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { createMongoDocumentStore } from '../../src/documents/mongoDocumentStore.js';
import { describeDocumentStoreContract } from '../../src/testing/documentStoreContract.js';

const url = process.env.MONGO_URL;

if (url) {
  // A database of this run's own: the server may be shared with other runs and services.
  const database = `folio_contract_${randomUUID().replaceAll('-', '').slice(0, 16)}`;

  describeDocumentStoreContract({
    name: 'mongodb',
    create: async () => createMongoDocumentStore({ url, database }),
  });

  after(async () => {
    const client = new MongoClient(url);
    try {
      await client.db(database).dropDatabase();
    } finally {
      await client.close();
    }
  });
} else {
  const notice = 'MongoDB document store contract suite SKIPPED: MONGO_URL is not set (set it to run against a server)';
  console.log(`\n  *** ${notice} ***\n`);
  describe('document store contract: mongodb', () => {
    it(notice, function () {
      this.skip();
    });
  });
}

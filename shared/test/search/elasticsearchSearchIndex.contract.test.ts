import { randomUUID } from 'node:crypto';
import { createElasticsearchSearchIndex } from '../../src/search/elasticsearchSearchIndex.js';
import { describeSearchIndexContract } from '../../src/testing/searchIndexContract.js';

const node = process.env.ELASTIC_URL;

if (node) {
  describeSearchIndexContract({
    name: 'elasticsearch',
    create: async () => createElasticsearchSearchIndex({ node }),
    // The server is shared: this run's indexes and aliases are recognisable by their prefix.
    prefix: `folio-contract-${randomUUID().slice(0, 8)}-`,
  });
} else {
  const notice = 'Elasticsearch search index contract suite SKIPPED: ELASTIC_URL is not set (set it to run against a server)';
  console.log(`\n  *** ${notice} ***\n`);
  describe('search index contract: elasticsearch', () => {
    it(notice, function () {
      this.skip();
    });
  });
}

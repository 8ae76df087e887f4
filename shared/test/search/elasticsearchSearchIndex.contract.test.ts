import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config/config.js';
import { openSearchIndex } from '../../src/search/openSearchIndex.js';
import { describeSearchIndexContract } from '../../src/testing/searchIndexContract.js';

if (process.env.ELASTIC_URL) {
  // As every process opens it: a secured cluster's API key and CA (ELASTIC_API_KEY, ELASTIC_CA_FILE) apply too.
  const config = loadConfig();
  describeSearchIndexContract({
    name: 'elasticsearch',
    create: async () => openSearchIndex(config),
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

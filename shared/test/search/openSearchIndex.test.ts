import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { embeddedSearchIndexPath, openSearchIndex } from '../../src/search/openSearchIndex.js';

describe('openSearchIndex', () => {
  let dataDir: string;

  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'folio-open-search-'));
  });

  after(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('opens the embedded index in the data directory when no ELASTIC_URL is configured', async () => {
    const index = openSearchIndex({ dataDir, elasticUrl: undefined });
    try {
      expect(index.kind).to.equal('sqlite');
      expect(existsSync(embeddedSearchIndexPath(dataDir))).to.equal(true);
    } finally {
      await index.close();
    }
  });

  it('uses Elasticsearch when ELASTIC_URL is configured, without connecting until first used', async () => {
    const index = openSearchIndex({ dataDir, elasticUrl: 'http://127.0.0.1:1' });
    expect(index.kind).to.equal('elasticsearch');
    await index.close();
  });
});

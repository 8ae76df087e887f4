import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { StoreUnavailableError } from '../../src/index.js';
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
    const index = openSearchIndex({ dataDir, elasticUrl: undefined, elasticRequestTimeoutMs: 30_000 });
    try {
      expect(index.kind).to.equal('sqlite');
      expect(existsSync(embeddedSearchIndexPath(dataDir))).to.equal(true);
    } finally {
      await index.close();
    }
  });

  it('uses Elasticsearch when ELASTIC_URL is configured, without connecting until first used', async () => {
    const index = openSearchIndex({ dataDir, elasticUrl: 'http://127.0.0.1:1', elasticRequestTimeoutMs: 30_000 });
    expect(index.kind).to.equal('elasticsearch');
    await index.close();
  });

  it('gives up on an Elasticsearch that never answers after the configured request timeout', async () => {
    // Accepts connections and never answers, as a stalled node does.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const index = openSearchIndex({ dataDir, elasticUrl: `http://127.0.0.1:${port}`, elasticRequestTimeoutMs: 300 });
    const started = Date.now();
    try {
      const failure = await index.search('history', {}).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).to.be.instanceOf(StoreUnavailableError);
      // Its 429/5xx retries each wait the configured time, not the default 30 s.
      expect(Date.now() - started).to.be.below(10_000);
    } finally {
      await index.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

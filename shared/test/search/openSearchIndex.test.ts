import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadConfig, NotFoundError, StoreUnavailableError } from '../../src/index.js';
import { embeddedSearchIndexPath, openSearchIndex } from '../../src/search/openSearchIndex.js';
import { createNodeCertificates, startLocalElasticsearchNode } from './localElasticsearchNode.js';

const failureOf = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('openSearchIndex', () => {
  let dataDir: string;

  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'folio-open-search-'));
  });

  after(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('opens the embedded index in the data directory when no ELASTIC_URL is configured', async () => {
    const index = openSearchIndex(loadConfig({ FOLIO_DATA_DIR: dataDir }));
    try {
      expect(index.kind).to.equal('sqlite');
      expect(existsSync(embeddedSearchIndexPath(dataDir))).to.equal(true);
    } finally {
      await index.close();
    }
  });

  it('uses Elasticsearch when ELASTIC_URL is configured, without connecting until first used', async () => {
    const index = openSearchIndex(loadConfig({ FOLIO_DATA_DIR: dataDir, ELASTIC_URL: 'http://127.0.0.1:1' }));
    expect(index.kind).to.equal('elasticsearch');
    await index.close();
  });

  it('gives up on an Elasticsearch that never answers after the configured request timeout', async () => {
    // Accepts connections and never answers, as a stalled node does.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const index = openSearchIndex(
      loadConfig({ FOLIO_DATA_DIR: dataDir, ELASTIC_URL: `http://127.0.0.1:${port}`, FOLIO_ELASTIC_REQUEST_TIMEOUT_SECONDS: '0.3' }),
    );
    const started = Date.now();
    try {
      const failure = await failureOf(index.search('history', {}));
      expect(failure).to.be.instanceOf(StoreUnavailableError);
      // Its 429/5xx retries each wait the configured time, not the default 30 s.
      expect(Date.now() - started).to.be.below(10_000);
    } finally {
      await index.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  describe('a secured Elasticsearch', () => {
    // The `encoded` value of Elasticsearch's create API key answer: base64 of `<id>:<api_key>`.
    const apiKey = Buffer.from('VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw').toString('base64');

    it('sends the configured API key with every request, and no Authorization header when none is configured', async () => {
      const node = await startLocalElasticsearchNode({});
      const withKey = openSearchIndex(loadConfig({ FOLIO_DATA_DIR: dataDir, ELASTIC_URL: node.url, ELASTIC_API_KEY: apiKey }));
      const withoutKey = openSearchIndex(loadConfig({ FOLIO_DATA_DIR: dataDir, ELASTIC_URL: node.url }));
      try {
        expect(await failureOf(withKey.search('history', {}))).to.be.instanceOf(NotFoundError);
        expect(node.received.map((headers) => headers.authorization)).to.deep.equal([`ApiKey ${apiKey}`]);
        expect(await failureOf(withoutKey.search('history', {}))).to.be.instanceOf(NotFoundError);
        expect(node.received[1]).to.not.have.property('authorization');
      } finally {
        await withKey.close();
        await withoutKey.close();
        await node.close();
      }
    });

    it('trusts a node whose certificate its own CA signed only when given that CA', async function () {
      // A refused handshake is a connection error, which the client tries three more times after pauses of seconds.
      this.timeout(60_000);
      const certificates = createNodeCertificates();
      const node = await startLocalElasticsearchNode({ https: certificates });
      const caFile = join(dataDir, 'http_ca.crt');
      writeFileSync(caFile, certificates.caCertificate);
      const otherCaFile = join(dataDir, 'other_ca.crt');
      writeFileSync(otherCaFile, createNodeCertificates().caCertificate);
      const searchWith = async (trust: NodeJS.ProcessEnv): Promise<unknown> => {
        const index = openSearchIndex(loadConfig({ FOLIO_DATA_DIR: dataDir, ELASTIC_URL: node.url, ...trust }));
        try {
          return await failureOf(index.search('history', {}));
        } finally {
          await index.close();
        }
      };
      try {
        const [untrusted, byFile, byOtherCa] = await Promise.all([
          searchWith({}),
          searchWith({ ELASTIC_CA_FILE: caFile }),
          searchWith({ ELASTIC_CA_FILE: otherCaFile }),
        ]);
        // Answered: the index is missing. Refused: the TLS handshake failed.
        expect(untrusted, 'no CA').to.be.instanceOf(StoreUnavailableError);
        expect(byFile, 'its CA').to.be.instanceOf(NotFoundError);
        expect(byOtherCa, 'another CA').to.be.instanceOf(StoreUnavailableError);
        expect(node.received, 'requests answered').to.have.length(1);
      } finally {
        await node.close();
      }
    });
  });
});

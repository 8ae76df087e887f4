import { createRequire } from 'node:module';
import { Client } from '@elastic/elasticsearch';
import type MockModule from '@elastic/elasticsearch-mock';
import type { MockPattern } from '@elastic/elasticsearch-mock';
import { expect } from 'chai';
import { createElasticsearchSearchIndex, openSqliteDocumentStore, type DocumentStore } from '@folio/shared';
import { pruneProjection } from '../src/prune/pruneProjection.js';
import { tempPath } from './fixtures/ledgerFixture.js';
import { wordsReadModel as words } from './fixtures/wordsReadModel.js';

// The package is CommonJS with an `export default` typing, which an ES module's default import mistypes.
const Mock = createRequire(import.meta.url)('@elastic/elasticsearch-mock') as typeof MockModule.default;

const mappingOf = (index: string) => ({
  [index]: { mappings: { _meta: { folio: { schema: { word: 'keyword' } } }, dynamic: 'strict', properties: {} } },
});

/**
 * Indexes an operator closed, on a mocked Elasticsearch that answers as a cluster does: a wildcard
 * expands to closed indexes only when `expand_wildcards` asks for them (it defaults to open), while
 * a closed index named in full still has its mapping read and can be deleted.
 */
describe('pruning older versions of a read model on Elasticsearch, with closed indexes', () => {
  let documents: DocumentStore;

  beforeEach(async () => {
    documents = openSqliteDocumentStore({ path: tempPath('folio-prune-closed-', 'readmodels.sqlite') });
    await documents.withTransaction(async (session) => {
      await session.put('projection_checkpoints', { _id: 'words_v1', position: '5', sortablePosition: '5', lastEventAt: null });
      await session.put('projection_checkpoints', {
        _id: 'words_v2',
        position: '5',
        sortablePosition: '5',
        lastEventAt: null,
        caughtUpOnce: true,
      });
    });
  });

  afterEach(() => documents.close());

  it('drops closed indexes of older versions as it drops open ones, and never the index behind the alias, closed or not', async () => {
    const states: Record<string, 'open' | 'closed'> = {
      'words-events-v1': 'closed',
      'words-events-v1-rebuild-a': 'closed',
      'words-events-v2': 'closed',
      'words-events-v2-rebuild-b': 'open',
    };
    const requests: MockPattern[] = [];
    const mock = new Mock();
    const answer = (method: string, path: string, respond: (request: MockPattern) => unknown) =>
      mock.add({ method, path }, (request) => {
        requests.push(request);
        return respond(request) as Record<string, unknown>;
      });
    answer('GET', '/_alias/words-events', () => ({ 'words-events-v2': { aliases: { 'words-events': {} } } }));
    answer('GET', '/:target/_mapping', (request) => {
      const target = decodeURIComponent(String(request.path)).split('/')[1]!;
      if (!target.endsWith('*')) return mappingOf(target);
      const expanded = String(request.querystring?.expand_wildcards ?? 'open').split(',');
      return Object.assign(
        {},
        ...Object.entries(states)
          .filter(([index, state]) => index.startsWith(target.slice(0, -1)) && (expanded.includes(state) || expanded.includes('all')))
          .map(([index]) => mappingOf(index)),
      );
    });
    answer('DELETE', '/:index', () => ({ acknowledged: true }));
    const searchIndex = createElasticsearchSearchIndex({
      client: new Client({ node: 'http://localhost:9200', Connection: mock.getConnection() }),
    });

    const report = await pruneProjection({ documents, searchIndex, definition: words(2, 'two') });

    expect(report.searchIndexes).to.deep.equal(['words-events-v1', 'words-events-v1-rebuild-a']);
    const deleted = requests.filter(({ method }) => method === 'DELETE').map(({ path }) => path);
    expect(deleted).to.deep.equal(['/words-events-v1', '/words-events-v1-rebuild-a']);
  });
});

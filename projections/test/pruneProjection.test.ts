import { expect } from 'chai';
import { IllegalStateError, type DocumentStore, type SearchIndex, type SqliteEventStore } from '@folio/shared';
import { pruneProjection } from '../src/prune/pruneProjection.js';
import { rebuildProjection } from '../src/rebuild/rebuildProjection.js';
import type { ProjectionDefinition } from '../src/runtime/projection.js';
import { createProjector } from '../src/runtime/projector.js';
import { openEmbeddedStores, writeLedgerHistory } from './fixtures/ledgerFixture.js';
import { wordsReadModel as words } from './fixtures/wordsReadModel.js';

describe('pruning older versions of a read model', () => {
  let stores: ReturnType<typeof openEmbeddedStores>;
  let log: SqliteEventStore;
  let documents: DocumentStore;
  let search: SearchIndex;

  beforeEach(async () => {
    stores = openEmbeddedStores('folio-prune-');
    ({ log, documents, search } = stores);
    await writeLedgerHistory(log, { accounts: 3, transfers: 10 });
  });

  afterEach(() => stores.close());

  const run = async (definition: ProjectionDefinition) => {
    const projector = createProjector({ eventStore: log, documents, searchIndex: search, definition });
    await projector.start();
    await projector.stop();
  };
  const checkpointIds = async () => (await documents.find('projection_checkpoints', { idPrefix: 'words_' })).items.map((item) => item._id);

  it("drops an older version's collections, checkpoints and search indexes, rebuilt ones included, and nothing of the current one", async () => {
    await run(words(1, 'one'));
    await rebuildProjection({ eventStore: log, documents, searchIndex: search, definition: words(1, 'one'), rebuildId: 'a' });
    // What an interrupted rebuild of version 1 would have left.
    await documents.withTransaction(async (session) => {
      await session.put('words_seen_v1__rebuild', { _id: 'last', position: '1' });
      await session.put('projection_checkpoints', { _id: 'words_v1__rebuild', position: '1', sortablePosition: '1', lastEventAt: null });
    });
    await documents.withTransaction((session) => session.put('wordsmith_seen_v1', { _id: 'other' }));

    await run(words(2, 'two'));
    const report = await pruneProjection({ documents, searchIndex: search, definition: words(2, 'two') });
    expect(report).to.deep.equal({
      projection: 'words',
      version: 2,
      collections: ['words_seen_v1', 'words_seen_v1__rebuild'],
      checkpoints: ['words_v1', 'words_v1__rebuild'],
      searchIndexes: ['words-events-v1-rebuild-a'],
    });
    expect(await documents.listCollections('words')).to.deep.equal(['words_seen_v2', 'wordsmith_seen_v1']);
    expect(await checkpointIds()).to.deep.equal(['words_v2']);
    expect(await search.listIndexes('words-events')).to.deep.equal(['words-events-v2']);
    expect((await search.search('words-events', { equals: { word: ['two'] } })).hits).to.not.be.empty;

    const again = await pruneProjection({ documents, searchIndex: search, definition: words(2, 'two') });
    expect(again).to.deep.include({ collections: [], checkpoints: [], searchIndexes: [] });
  });

  it('drops the search indexes of a role the current version no longer has, as the older checkpoints name them, and none the current version names', async () => {
    await run(words(1, 'one'));
    const withoutSearch: ProjectionDefinition = {
      name: 'words',
      version: 2,
      filter: { streamNamePrefixes: ['account-'] },
      roles: ['seen'],
      create: ({ collections }) => ({
        async handle(events, session) {
          await session.put(collections.seen!, { _id: 'last', position: events.at(-1)!.position.toString() });
        },
      }),
    };
    await run(withoutSearch);
    // A rebuild of version 2 told to write into an index an older version had named too.
    await documents.withTransaction((session) =>
      session.put('projection_checkpoints', {
        _id: 'words_v2__rebuild',
        position: '1',
        sortablePosition: '1',
        lastEventAt: null,
        searchIndexes: { events: 'words-shared' },
      }),
    );
    await documents.withTransaction((session) =>
      session.put('projection_checkpoints', {
        _id: 'words_v1__rebuild',
        position: '1',
        sortablePosition: '1',
        lastEventAt: null,
        searchIndexes: { events: 'words-shared' },
      }),
    );
    await search.ensureIndex('words-shared', { fields: { word: 'keyword' } });

    const report = await pruneProjection({ documents, searchIndex: search, definition: withoutSearch });
    expect(report).to.deep.equal({
      projection: 'words',
      version: 2,
      collections: ['words_seen_v1'],
      checkpoints: ['words_v1', 'words_v1__rebuild'],
      searchIndexes: ['words-events-v1'],
    });
    expect(await search.listIndexes('words-')).to.deep.equal(['words-shared']);
    expect(await checkpointIds()).to.deep.equal(['words_v2', 'words_v2__rebuild']);
  });

  it('refuses while the alias still names an older version, and drops nothing', async () => {
    await run(words(1, 'one'));
    const error = await pruneProjection({ documents, searchIndex: search, definition: words(2, 'two') }).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).to.be.instanceOf(IllegalStateError);
    expect((error as Error).message).to.include('words-events-v1');
    expect(await documents.listCollections('words_')).to.deep.equal(['words_seen_v1']);
    expect(await checkpointIds()).to.deep.equal(['words_v1']);
    expect(await search.listIndexes('words-events')).to.deep.equal(['words-events-v1']);
  });
});

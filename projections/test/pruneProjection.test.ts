import { expect } from 'chai';
import { IllegalStateError, type DocumentStore, type SearchIndex, type SqliteEventStore } from '@folio/shared';
import { pruneProjection } from '../src/prune/pruneProjection.js';
import { rebuildProjection } from '../src/rebuild/rebuildProjection.js';
import type { ProjectionDefinition } from '../src/runtime/projection.js';
import { createProjector } from '../src/runtime/projector.js';
import { leaseClaims, ReadModelBusyError } from '../src/runtime/readModelLease.js';
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
  /** Runs `definition` in batches of 5 events and stops it after its first commit, long before it has caught up. */
  const runInterrupted = async (definition: ProjectionDefinition) => {
    let stopped!: (stopping: Promise<void>) => void;
    const stopping = new Promise<Promise<void>>((resolve) => {
      stopped = resolve;
    });
    const projector = createProjector({
      eventStore: log,
      documents,
      searchIndex: search,
      definition,
      catchUpBatchSize: 5,
      onCommit: () => stopped(projector.stop()),
    });
    void projector.start();
    await (await stopping);
  };
  const checkpointIds = async () => (await documents.find('projection_checkpoints', { idPrefix: 'words_' })).items.map((item) => item._id);
  /** A version of the words read model that keeps no search index. */
  const unsearched = (version: number): ProjectionDefinition => ({
    name: 'words',
    version,
    filter: { streamNamePrefixes: ['account-'] },
    roles: ['seen'],
    create: ({ collections }) => ({
      async handle(events, session) {
        await session.put(collections.seen!, { _id: 'last', position: events.at(-1)!.position.toString() });
      },
    }),
  });
  const refusal = (definition: ProjectionDefinition) =>
    pruneProjection({ documents, searchIndex: search, definition }).then(
      () => undefined,
      (failure: unknown) => failure,
    );

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
    const withoutSearch = unsearched(2);
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

  it('refuses while a projector of an older version still runs, and drops nothing of what it writes; prunes once it has stopped', async () => {
    const older = createProjector({ eventStore: log, documents, searchIndex: search, definition: words(1, 'one') });
    await older.start();
    try {
      await run(words(2, 'two'));
      const refused = await refusal(words(2, 'two'));
      expect(refused).to.be.instanceOf(ReadModelBusyError);
      expect((refused as Error).message).to.match(/^cannot prune words_v1: a live projector is running on it \(pid \d+ on .+\); stop it first/);
      expect(await documents.listCollections('words_')).to.deep.equal(['words_seen_v1', 'words_seen_v2']);
      expect(await checkpointIds()).to.deep.equal(['words_v1', 'words_v2']);
      expect(await search.listIndexes('words-events')).to.deep.equal(['words-events-v1', 'words-events-v2']);
      const seen = async () => BigInt((await documents.get<{ _id: string; position: string }>('words_seen_v1', 'last'))!.position);
      const before = await seen();
      await writeLedgerHistory(log, { accounts: 2, transfers: 3, firstAccountId: 3_000_000, seed: 3 });
      expect(await older.waitFor((await log.headPosition())!, 10_000)).to.equal(true);
      expect(await seen() > before, 'version 1 goes on being written where it was').to.equal(true);
    } finally {
      await older.stop();
    }

    const report = await pruneProjection({ documents, searchIndex: search, definition: words(2, 'two') });
    expect(report).to.deep.include({ collections: ['words_seen_v1'], checkpoints: ['words_v1'], searchIndexes: ['words-events-v1'] });
    expect(await leaseClaims(documents, 'words_v1')).to.deep.equal([]);
  });

  it('keeps a projector of an older version started during a prune waiting until the prune has ended', async () => {
    await run(words(1, 'one'));
    await run(words(2, 'two'));
    const errors: unknown[] = [];
    let older: ReturnType<typeof createProjector> | undefined;
    // Started as the prune drops its first collection: its claim is the prune's by then.
    const starting: SearchIndex = {
      ...search,
      dropIndex: async (index) => {
        older ??= createProjector({ eventStore: log, documents, searchIndex: search, definition: words(1, 'one'), onError: (error) => errors.push(error) });
        void older.start();
        await new Promise((resolve) => setTimeout(resolve, 50));
        await search.dropIndex(index);
      },
    };
    const report = await pruneProjection({ documents, searchIndex: starting, definition: words(2, 'two') });
    expect(report).to.deep.include({ collections: ['words_seen_v1'], checkpoints: ['words_v1'] });
    try {
      await older!.start();
    } finally {
      await older!.stop();
    }
    expect(String(errors[0])).to.match(/^ReadModelBusyError: cannot project words_v1: a prune is in progress on it/);
    // It built version 1 again from the log, whole, after the prune: nothing half-dropped is left.
    expect((await documents.get<{ _id: string; position: string }>('projection_checkpoints', 'words_v1'))?.position).to.equal(
      (await log.headPosition())!.toString(),
    );
    expect(await documents.get('words_seen_v1', 'last')).to.not.equal(undefined);
    expect(await search.listIndexes('words-events')).to.deep.equal(['words-events-v1', 'words-events-v2']);
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

  it('refuses, for a read model without search, until its current version has caught up once, saying how far it is, and drops nothing', async () => {
    await run(unsearched(1));
    const v1 = (await documents.get<{ _id: string; position: string }>('projection_checkpoints', 'words_v1'))!.position;
    const notStarted = await refusal(unsearched(2));
    expect(notStarted).to.be.instanceOf(IllegalStateError);
    expect((notStarted as Error).message).to.equal(
      `version 2 of words has not caught up with the log yet: it has projected nothing yet, version 1 is at ${v1}; prune once it has`,
    );

    await runInterrupted(unsearched(2));
    const v2 = (await documents.get<{ _id: string; position: string }>('projection_checkpoints', 'words_v2'))!;
    expect(BigInt(v2.position) < BigInt(v1)).to.equal(true);
    const halfBuilt = await refusal(unsearched(2));
    expect(halfBuilt).to.be.instanceOf(IllegalStateError);
    expect((halfBuilt as Error).message).to.include(`version 2 of words has not caught up with the log yet: it is at position ${v2.position}, version 1 is at ${v1}`);
    expect(await documents.listCollections('words_')).to.deep.equal(['words_seen_v1', 'words_seen_v2']);
    expect(await checkpointIds()).to.deep.equal(['words_v1', 'words_v2']);

    // Caught up once, it stays prunable however far the log moves on.
    await run(unsearched(2));
    await writeLedgerHistory(log, { accounts: 2, transfers: 3, firstAccountId: 3_000_000, seed: 3 });
    const report = await pruneProjection({ documents, searchIndex: search, definition: unsearched(2) });
    expect(report).to.deep.include({ collections: ['words_seen_v1'], checkpoints: ['words_v1'] });
  });

  it('prunes once a rebuild has caught the current version up: the rebuilt checkpoint keeps the record', async () => {
    await run(unsearched(1));
    await runInterrupted(unsearched(2));
    await rebuildProjection({ eventStore: log, documents, searchIndex: search, definition: unsearched(2), rebuildId: 'r' });
    expect((await documents.get('projection_checkpoints', 'words_v2'))?.caughtUpOnce).to.equal(true);
    const report = await pruneProjection({ documents, searchIndex: search, definition: unsearched(2) });
    expect(report).to.deep.include({ collections: ['words_seen_v1'], checkpoints: ['words_v1'] });
  });
});

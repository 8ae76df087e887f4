import { expect } from 'chai';
import {
  checkLedger,
  collect,
  formatMinorUnits,
  openSqliteDocumentStore,
  openSqliteSearchIndex,
  sortableBigint,
  openSqliteEventStore,
  type DocumentStore,
  type SearchIndex,
  SubscriptionDroppedError,
  type SqliteEventStore,
  type SubscriptionMessage,
} from '@folio/shared';
import { balancesProjection, type AccountBalanceDocument } from '../src/balances/balancesProjection.js';
import { transactionHistoryProjection } from '../src/history/transactionHistoryProjection.js';
import { rebuildProjection } from '../src/rebuild/rebuildProjection.js';
import { liveCheckpointId, liveCollections, liveSearchIndexes, type ProjectionDefinition } from '../src/runtime/projection.js';
import { createProjector, createProjectorGroup } from '../src/runtime/projector.js';
import { tempPath, writeLedgerHistory } from './fixtures/ledgerFixture.js';
import { wordsReadModel as words } from './fixtures/wordsReadModel.js';

/** A read model that records the positions handed to it: one document per event, counting deliveries. */
const recording = (name: string, streamNamePrefixes: string[]): ProjectionDefinition => ({
  name,
  version: 1,
  filter: { streamNamePrefixes },
  roles: ['seen'],
  create: ({ collections }) => ({
    async handle(events, session) {
      for (const event of events) {
        const _id = sortableBigint(event.position);
        const earlier = await session.get<{ _id: string; deliveries: number }>(collections.seen!, _id);
        await session.put(collections.seen!, { _id, deliveries: (earlier?.deliveries ?? 0) + 1 });
      }
    },
  }),
});

describe('projector runtime', () => {
  let log: SqliteEventStore;
  let documents: DocumentStore;
  const collections = liveCollections(balancesProjection);

  beforeEach(() => {
    log = openSqliteEventStore({ path: tempPath('folio-projector-', 'events.sqlite') });
    documents = openSqliteDocumentStore({ path: tempPath('folio-projector-', 'readmodels.sqlite') });
  });

  afterEach(async () => {
    await documents.close();
    await log.close();
  });

  /** Runs `definition` in batches of 5 events and stops it after its third commit, long before it has caught up. */
  const runInterrupted = async (search: SearchIndex, definition: ProjectionDefinition): Promise<void> => {
    let commits = 0;
    let stopped!: (stopping: Promise<void>) => void;
    const stopping = new Promise<Promise<void>>((resolve) => {
      stopped = resolve;
    });
    const interrupted = createProjector({
      eventStore: log,
      documents,
      searchIndex: search,
      definition,
      catchUpBatchSize: 5,
      onCommit: () => {
        if (++commits === 3) stopped(interrupted.stop());
      },
    });
    void interrupted.start();
    await (await stopping);
  };

  const expectBalancesMatchLog = async () => {
    const report = checkLedger(await collect(log.readAll()));
    for (const [accountId, { balance }] of report.balances) {
      const document = await documents.get<AccountBalanceDocument>(collections.accounts!, accountId);
      expect(document?.posted, `posted balance of ${accountId}`).to.equal(formatMinorUnits(balance));
    }
  };

  it('catches up from its checkpoint, then follows the log live, and lets a reader wait for a position', async () => {
    await writeLedgerHistory(log, { accounts: 5, transfers: 60 });
    const projector = createProjector({ eventStore: log, documents, definition: balancesProjection, batchSize: 25 });
    await projector.start();
    await expectBalancesMatchLog();

    await writeLedgerHistory(log, { accounts: 3, transfers: 20, firstAccountId: 2_000_000, seed: 11 });
    const head = (await log.headPosition())!;
    expect(await projector.waitFor(head, 5_000), 'reaches the head').to.equal(true);
    await expectBalancesMatchLog();
    expect(await projector.waitFor(head + 1_000_000n, 50), 'a position not yet written times out').to.equal(false);
    expect(projector.status().caughtUp).to.equal(true);
    await projector.stop();

    // A new projector starts from the stored checkpoint and finds nothing to redo.
    const again = createProjector({ eventStore: log, documents, definition: balancesProjection });
    const before = await documents.checksum(collections.accounts!);
    await again.start();
    expect(again.status().position).to.equal(head);
    expect(await documents.checksum(collections.accounts!)).to.equal(before);
    await again.stop();
  });

  it('resumes from its checkpoint after the store drops its subscription, losing and repeating nothing', async () => {
    await writeLedgerHistory(log, { accounts: 4, transfers: 30 });
    const projector = createProjector({ eventStore: log, documents, definition: balancesProjection, onError: () => undefined });
    await projector.start();
    log.dropSubscriptions(new Error('test drop'));
    await writeLedgerHistory(log, { accounts: 2, transfers: 10, firstAccountId: 3_000_000, seed: 3 });
    expect(await projector.waitFor((await log.headPosition())!, 5_000)).to.equal(true);
    await expectBalancesMatchLog();
    await projector.stop();
  });

  it('resubscribes when the store drops its subscription while a run is being handled, instead of ending the process', async () => {
    await writeLedgerHistory(log, { accounts: 4, transfers: 400 });
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    // The first subscription hands over 1,000 events in one run, then drops while the projector,
    // having asked for the next run already, gives the event loop a turn in the middle of that run.
    let subscriptions = 0;
    const dropping = new Proxy(log, {
      get(target, property) {
        if (property !== 'subscribeToAll') return Reflect.get(target, property, target) as unknown;
        return (...args: Parameters<SqliteEventStore['subscribeToAll']>) => {
          const subscription = target.subscribeToAll(...args);
          subscriptions += 1;
          if (subscriptions > 1) return subscription;
          let reads = 0;
          const runs: AsyncIterableIterator<readonly SubscriptionMessage[]> = {
            async next() {
              reads += 1;
              if (reads > 1) {
                await new Promise((resolve) => setImmediate(resolve));
                throw new SubscriptionDroppedError('test drop while a run is handled');
              }
              const run: SubscriptionMessage[] = [];
              for await (const message of subscription) {
                if (message.kind === 'event') run.push(message);
                if (run.length === 1_000 || message.kind === 'caughtUp') break;
              }
              expect(run, 'a run as long as the events handled between two turns of the event loop').to.have.length(1_000);
              return { done: false, value: run };
            },
            [Symbol.asyncIterator]() {
              return this;
            },
          };
          return { ...subscription, runs: () => runs, unsubscribe: () => subscription.unsubscribe() };
        };
      },
    });
    const projector = createProjector({ eventStore: dropping, documents, definition: balancesProjection, onError: () => undefined });
    try {
      await projector.start();
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).to.deep.equal([]);
      expect(subscriptions).to.equal(2);
      expect(projector.status().position).to.equal(await log.headPosition());
      await expectBalancesMatchLog();
    } finally {
      process.off('unhandledRejection', record);
      await projector.stop();
    }
  });

  it('reports itself behind after its subscription drops, until the next one has caught up', async () => {
    await writeLedgerHistory(log, { accounts: 4, transfers: 30 });
    // The first subscription delivers nothing past its first catch-up, and drops when told: the
    // projector falls behind the log, and its next subscription replays from the checkpoint.
    let subscriptions = 0;
    let drop!: () => void;
    const dropped = new Promise<void>((resolve) => {
      drop = resolve;
    });
    const resubscribed: { position: bigint | undefined; caughtUp: boolean }[] = [];
    const holding = new Proxy(log, {
      get(target, property) {
        if (property !== 'subscribeToAll') return Reflect.get(target, property, target) as unknown;
        return (...args: Parameters<SqliteEventStore['subscribeToAll']>) => {
          const subscription = target.subscribeToAll(...args);
          subscriptions += 1;
          if (subscriptions > 1) {
            const { position, caughtUp } = projector.status();
            resubscribed.push({ position, caughtUp });
            return subscription;
          }
          const underlying = subscription.runs();
          let held = false;
          const runs: AsyncIterableIterator<readonly SubscriptionMessage[]> = {
            async next() {
              if (held) {
                await dropped;
                throw new SubscriptionDroppedError('test drop while behind');
              }
              const read = await underlying.next();
              held = read.done !== true && read.value.some(({ kind }) => kind === 'caughtUp');
              return read;
            },
            [Symbol.asyncIterator]() {
              return this;
            },
          };
          return { ...subscription, runs: () => runs, unsubscribe: () => subscription.unsubscribe() };
        };
      },
    });
    const replayed: boolean[] = [];
    const projector = createProjector({
      eventStore: holding,
      documents,
      definition: balancesProjection,
      onError: () => undefined,
      onCommit: () => {
        if (subscriptions > 1) replayed.push(projector.status().caughtUp);
      },
    });
    await projector.start();
    const reached = projector.status().position;
    expect(projector.status().caughtUp).to.equal(true);
    await writeLedgerHistory(log, { accounts: 2, transfers: 10, firstAccountId: 3_000_000, seed: 3 });
    const head = (await log.headPosition())!;
    drop();

    expect(await projector.waitFor(head, 5_000)).to.equal(true);
    expect(resubscribed, 'as the next subscription starts').to.deep.equal([{ position: reached, caughtUp: false }]);
    expect([...new Set(replayed)], 'while the replay commits').to.deep.equal([false]);
    for (const waitUntil = Date.now() + 5_000; !projector.status().caughtUp && Date.now() < waitUntil; ) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(projector.status().caughtUp, 'once the next subscription has caught up').to.equal(true);
    await expectBalancesMatchLog();
    await projector.stop();
  });

  it('feeds read models from one subscription, each from its own checkpoint, and commits their checkpoints together', async () => {
    await writeLedgerHistory(log, { accounts: 4, transfers: 30 });
    const accounts = recording('accounts', ['account-']);
    const transfers = recording('transfers', ['transfer-']);
    const alone = createProjector({ eventStore: log, documents, definition: accounts });
    await alone.start();
    await alone.stop();
    const ahead = alone.status().position!;

    await writeLedgerHistory(log, { accounts: 2, transfers: 10, firstAccountId: 4_000_000, seed: 5 });
    const head = (await log.headPosition())!;
    const group = createProjectorGroup({ eventStore: log, documents, readModels: [{ definition: transfers }, { definition: accounts }] });
    await group.start();
    expect(group.status().map(({ name, position }) => [name, position])).to.deep.equal([
      ['transfers', head],
      ['accounts', head],
    ]);
    await group.stop();

    const seen = async (definition: ProjectionDefinition) => {
      const { items } = await documents.find<{ _id: string; deliveries: number }>(liveCollections(definition).seen!, { limit: 1000 });
      expect(items.every(({ deliveries }) => deliveries === 1), `${definition.name}: every event delivered once`).to.equal(true);
      return items.map((document) => BigInt(document._id));
    };
    const all = await collect(log.readAll());
    const positionsOf = (prefix: string) => all.filter((event) => event.streamName.startsWith(prefix)).map((event) => event.position);
    // Each read model got every event it reads exactly once: the one ahead only those past its checkpoint again.
    expect(await seen(accounts)).to.deep.equal(positionsOf('account-'));
    expect(await seen(transfers)).to.deep.equal(positionsOf('transfer-'));
    expect(ahead < head).to.equal(true);
  });

  it('gives timers a turn between the batches of a catch-up', async () => {
    await writeLedgerHistory(log, { accounts: 4, transfers: 60 });
    const projector = createProjector({ eventStore: log, documents, definition: balancesProjection, catchUpBatchSize: 20 });
    let fired = false;
    setTimeout(() => {
      fired = true;
    }, 0);
    await projector.start();
    expect(fired, 'a timer armed before the catch-up fired before it ended').to.equal(true);
    await projector.stop();
  });

  it('indexes a batch again when its search write is lost after its documents committed', async () => {
    await writeLedgerHistory(log, { accounts: 6, transfers: 120 });
    const search = openSqliteSearchIndex({ path: tempPath('folio-projector-', 'search.sqlite'), writeThread: true });
    // While behind the log, a batch's documents commit before its index write lands; this one
    // never does, as if the process died first.
    let upserts = 0;
    const losing: SearchIndex = {
      ...search,
      upsert: (index, batch) => (++upserts === 3 ? Promise.reject(new Error('index write lost')) : search.upsert(index, batch)),
    };
    const errors: unknown[] = [];
    const readModels = [{ definition: balancesProjection }, { definition: transactionHistoryProjection }];
    const projector = createProjectorGroup({
      eventStore: log,
      documents,
      searchIndex: losing,
      readModels,
      catchUpBatchSize: 20,
      onError: (error) => errors.push(error),
    });
    await projector.start();
    await projector.stop();
    expect(errors.map(String)).to.deep.equal(['Error: index write lost']);

    const rebuilt = openSqliteDocumentStore({ path: tempPath('folio-projector-', 'rebuilt.sqlite') });
    const rebuiltSearch = openSqliteSearchIndex({ path: tempPath('folio-projector-', 'rebuilt-search.sqlite') });
    const clean = createProjectorGroup({ eventStore: log, documents: rebuilt, searchIndex: rebuiltSearch, readModels });
    await clean.start();
    await clean.stop();
    const index = liveSearchIndexes(transactionHistoryProjection).transactions!;
    expect(await search.checksum(index)).to.equal(await rebuiltSearch.checksum(index));
    for (const collection of Object.values(liveCollections(transactionHistoryProjection))) {
      expect(await documents.checksum(collection), collection).to.equal(await rebuilt.checksum(collection));
    }
    await Promise.all([search.close(), rebuilt.close(), rebuiltSearch.close()]);
  });

  it('gives a new version of a read model a search index of its own behind the same alias, and keeps the old one', async () => {
    await writeLedgerHistory(log, { accounts: 3, transfers: 10 });
    const search = openSqliteSearchIndex({ path: tempPath('folio-projector-', 'search.sqlite') });
    const run = async (definition: ProjectionDefinition) => {
      const projector = createProjector({ eventStore: log, documents, searchIndex: search, definition });
      await projector.start();
      await projector.stop();
    };
    const found = async (word: string) => (await search.search('words-events', { equals: { word: [word] }, limit: 500 })).hits.length;

    await run(words(1, 'one'));
    const indexed = await found('one');
    expect(indexed).to.be.greaterThan(0);

    // The alias moves once the new version has caught up (that readers keep the old index
    // meanwhile is checked below, with a new version stopped before it has).
    await run(words(2, 'two'));
    expect(await search.resolveAlias('words-events')).to.equal('words-events-v2');
    expect(await found('two'), 'every document as the new version writes it').to.equal(indexed);
    expect(await found('one'), 'nothing of the old version behind the alias').to.equal(0);
    expect((await search.search('words-events-v1', { equals: { word: ['one'] }, limit: 500 })).hits, 'the old index, kept for a rollback').to.have.length(indexed);

    // A restart of the new version keeps writing where the alias points, and so after a rebuild.
    await run(words(2, 'two'));
    expect(await search.resolveAlias('words-events')).to.equal('words-events-v2');
    await rebuildProjection({ eventStore: log, documents, searchIndex: search, definition: words(2, 'two'), rebuildId: 'r1' });
    await run(words(2, 'two'));
    expect(await search.resolveAlias('words-events')).to.equal('words-events-v2-rebuild-r1');
    expect(await found('two')).to.equal(indexed);
    await search.close();
  });

  it('picks up the index a stopped new version was building, and a checkpoint from before indexes were recorded keeps its index', async () => {
    await writeLedgerHistory(log, { accounts: 3, transfers: 30 });
    const search = openSqliteSearchIndex({ path: tempPath('folio-projector-', 'search.sqlite') });
    const found = async (word: string) => (await search.search('words-events', { equals: { word: [word] }, limit: 500 })).hits.length;
    const v1 = createProjector({ eventStore: log, documents, searchIndex: search, definition: words(1, 'one') });
    await v1.start();
    await v1.stop();
    const indexed = await found('one');

    await runInterrupted(search, words(2, 'two'));
    expect(await search.resolveAlias('words-events'), 'readers keep the old index meanwhile').to.equal('words-events-v1');
    expect((await documents.get('projection_checkpoints', 'words_v2'))?.searchIndexes, 'its checkpoint names its index').to.deep.equal({
      events: 'words-events-v2',
    });
    const resumed = createProjector({ eventStore: log, documents, searchIndex: search, definition: words(2, 'two') });
    await resumed.start();
    await resumed.stop();
    expect(await search.resolveAlias('words-events')).to.equal('words-events-v2');
    expect(await found('two'), 'the new index holds every document').to.equal(indexed);

    // A version 3 whose checkpoint was stored before checkpoints named their indexes had written
    // where the alias pointed: it goes on there, and nothing moves.
    await documents.withTransaction(async (session) => {
      const { searchIndexes, ...withoutIndexes } = (await session.get('projection_checkpoints', 'words_v2'))!;
      expect(searchIndexes).to.deep.equal({ events: 'words-events-v2' });
      await session.put('projection_checkpoints', { ...withoutIndexes, _id: 'words_v3' });
    });
    await writeLedgerHistory(log, { accounts: 2, transfers: 3 });
    const legacy = createProjector({ eventStore: log, documents, searchIndex: search, definition: words(3, 'three') });
    await legacy.start();
    await legacy.stop();
    expect(await search.resolveAlias('words-events')).to.equal('words-events-v2');
    expect(await found('three'), 'the events after its checkpoint, in the index it wrote').to.be.greaterThan(0);
    expect((await documents.get('projection_checkpoints', 'words_v3'))?.searchIndexes).to.deep.equal({ events: 'words-events-v2' });
    await search.close();
  });

  it('loads a new search index as a bulk load, finished once caught up and before readers move to it, also after a stop', async () => {
    await writeLedgerHistory(log, { accounts: 3, transfers: 30 });
    const file = openSqliteSearchIndex({ path: tempPath('folio-projector-', 'search.sqlite') });
    const calls: string[] = [];
    const search: SearchIndex = {
      ...file,
      async ensureIndex(index, schema, options) {
        calls.push(`ensure ${index}${options?.loading === true ? ' loading' : ''}`);
        await file.ensureIndex(index, schema, options);
      },
      async finishLoading(index) {
        calls.push(`finish ${index}`);
        await file.finishLoading(index);
      },
      async setAlias(alias, index) {
        calls.push(`alias ${alias} ${index}`);
        await file.setAlias(alias, index);
      },
    };
    const v1 = createProjector({ eventStore: log, documents, searchIndex: search, definition: words(1, 'one') });
    await v1.start();
    expect(calls, 'a first start').to.deep.equal(['ensure words-events-v1 loading', 'alias words-events words-events-v1', 'finish words-events-v1']);
    await v1.stop();

    calls.length = 0;
    await runInterrupted(search, words(2, 'two'));
    expect(calls, 'a new version stopped before it caught up').to.deep.equal(['ensure words-events-v2 loading']);

    calls.length = 0;
    const resumed = createProjector({ eventStore: log, documents, searchIndex: search, definition: words(2, 'two') });
    await resumed.start();
    await resumed.stop();
    expect(calls, 'its next start').to.deep.equal(['ensure words-events-v2', 'finish words-events-v2', 'alias words-events words-events-v2']);
    await file.close();
  });

  it('tells where each read model is as soon as its stored checkpoint is read, long before it has caught up', async () => {
    await writeLedgerHistory(log, { accounts: 4, transfers: 30 });
    const projector = createProjector({ eventStore: log, documents, definition: balancesProjection });
    await projector.start();
    const stored = projector.status().position;
    await projector.stop();
    await writeLedgerHistory(log, { accounts: 4, transfers: 300, firstAccountId: 5_000_000, seed: 9 });

    const again = createProjector({ eventStore: log, documents, definition: balancesProjection });
    const caughtUp = again.start();
    await again.loaded();
    expect(again.status().position, 'the stored checkpoint, not "nothing projected"').to.equal(stored);
    await caughtUp;
    expect(again.status().position).to.equal(await log.headPosition());
    await again.stop();
  });

  it("records in every read model's checkpoint that it has caught up once, and later commits keep the record", async () => {
    await writeLedgerHistory(log, { accounts: 4, transfers: 60 });
    const accounts = recording('accounts', ['account-']);
    const readModels = [{ definition: balancesProjection }, { definition: accounts }];
    const recorded = async () =>
      Promise.all(
        readModels.map(async ({ definition }) => (await documents.get('projection_checkpoints', liveCheckpointId(definition)))?.caughtUpOnce ?? false),
      );
    let stopped!: (stopping: Promise<void>) => void;
    const stopping = new Promise<Promise<void>>((resolve) => {
      stopped = resolve;
    });
    const interrupted = createProjectorGroup({ eventStore: log, documents, readModels, catchUpBatchSize: 5, onCommit: () => stopped(interrupted.stop()) });
    void interrupted.start();
    await (await stopping);
    expect(await recorded(), 'stopped before it caught up').to.deep.equal([false, false]);

    const group = createProjectorGroup({ eventStore: log, documents, readModels });
    await group.start();
    expect(await recorded(), 'once caught up').to.deep.equal([true, true]);
    await writeLedgerHistory(log, { accounts: 2, transfers: 10, firstAccountId: 6_000_000, seed: 7 });
    const head = (await log.headPosition())!;
    expect(await group.waitFor(head, 5_000)).to.equal(true);
    await group.stop();
    const stored = await documents.get<{ _id: string; position: string }>('projection_checkpoints', liveCheckpointId(balancesProjection));
    expect(stored?.position, 'a later commit').to.equal(head.toString());
    expect(await recorded(), 'kept by later commits').to.deep.equal([true, true]);
  });
});

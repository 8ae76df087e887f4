import { expect } from 'chai';
import {
  collect,
  openSqliteDocumentStore,
  openSqliteEventStore,
  openSqliteSearchIndex,
  sortableBigint,
  TransactionLimitExceededError,
  type Document,
  type DocumentSession,
  type DocumentStore,
  type SqliteEventStore,
} from '@folio/shared';
import { balancesProjection } from '../src/balances/balancesProjection.js';
import { transactionHistoryProjection } from '../src/history/transactionHistoryProjection.js';
import { createBatchSizing } from '../src/runtime/batchSizing.js';
import { CHECKPOINTS_COLLECTION, liveCheckpointId, liveCollections, liveSearchIndexes, type ProjectionDefinition } from '../src/runtime/projection.js';
import { createProjectorGroup } from '../src/runtime/projector.js';
import { readModelChecksum } from '../src/runtime/readModelChecksum.js';
import { tempPath, writeLedgerHistory } from './fixtures/ledgerFixture.js';

/** A read model that writes one document per event it is handed, counting deliveries. */
const recording: ProjectionDefinition = {
  name: 'recording',
  version: 1,
  filter: { streamNamePrefixes: ['account-', 'transfer-'] },
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
};

interface Write {
  collection: string;
  document: Document;
}

/**
 * The document store as a server with a transaction limit sees it: a transaction that writes more
 * than `allowed.writes` documents is refused (rolled back, nothing of it kept) with the port's
 * error. Records what every transaction wrote, refused or committed.
 */
const limiting = (store: DocumentStore, allowed: { writes: number }) => {
  const refused: Write[][] = [];
  const committed: Write[][] = [];
  const documents: DocumentStore = {
    ...store,
    withTransaction: (work) =>
      store.withTransaction(async (session) => {
        const writes: Write[] = [];
        const counting: DocumentSession = {
          ...session,
          put: (collection, document) => {
            writes.push({ collection, document });
            return session.put(collection, document);
          },
          putMany: (collection, many) => {
            for (const document of many) writes.push({ collection, document });
            return session.putMany(collection, many);
          },
          delete: (collection, id) => {
            writes.push({ collection, document: { _id: id } });
            return session.delete(collection, id);
          },
        };
        const result = await work(counting);
        if (writes.length > allowed.writes) {
          refused.push(writes);
          throw new TransactionLimitExceededError(`a transaction of ${writes.length} writes, over ${allowed.writes}`);
        }
        committed.push(writes);
        return result;
      }),
  };
  return { documents, refused, committed };
};

const within = async <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('projector batches the document store refuses for their size', () => {
  let log: SqliteEventStore;
  let store: DocumentStore;

  beforeEach(() => {
    log = openSqliteEventStore({ path: tempPath('folio-batch-limits-', 'events.sqlite') });
    store = openSqliteDocumentStore({ path: tempPath('folio-batch-limits-', 'readmodels.sqlite') });
  });

  afterEach(async () => {
    await store.close();
    await log.close();
  });

  it('reads a refused batch again in halves, converges to the head with the read models of a clean run, and tries the larger size again', async () => {
    await writeLedgerHistory(log, { accounts: 6, transfers: 150 });
    const head = (await log.headPosition())!;
    const search = openSqliteSearchIndex({ path: tempPath('folio-batch-limits-', 'search.sqlite'), writeThread: true });
    const { documents, refused, committed } = limiting(store, { writes: 60 });
    const readModels = [{ definition: balancesProjection }, { definition: transactionHistoryProjection }, { definition: recording }];
    /** What the projector did, in order: the events of each commit, or a refusal it was told of. */
    const timeline: (number | 'refused')[] = [];
    const errors: unknown[] = [];
    const projector = createProjectorGroup({
      eventStore: log,
      documents,
      searchIndex: search,
      readModels,
      catchUpBatchSize: 64,
      onError: (error) => {
        errors.push(error);
        timeline.push('refused');
      },
      onCommit: (_, events) => timeline.push(events.length),
    });
    try {
      await within(projector.start(), 10_000, 'caught up with the log');
      expect(projector.status().map(({ position }) => position)).to.deep.equal([head, head, head]);
    } finally {
      await projector.stop();
    }

    expect(errors.length, 'refusals reported').to.be.greaterThan(0);
    expect(errors.every((error) => error instanceof TransactionLimitExceededError), 'only refusals reported').to.equal(true);
    expect(refused.length, 'each refusal reported once').to.equal(errors.length);
    expect(Math.max(...committed.map((writes) => writes.length)), 'no transaction over the limit committed').to.be.at.most(60);
    const first = timeline.findIndex((entry) => entry !== 'refused');
    expect(first, 'the configured batch refused').to.be.greaterThan(0);
    expect(timeline[first], 'then read again in halves').to.equal(64 / 2 ** first);
    // The larger batch is tried again after a few commits, and after twice as many once refused again.
    const runs = timeline
      .slice(first)
      .join(' ')
      .split('refused')
      .map((run) => run.trim().split(' ').filter(Boolean).length);
    expect(runs.length, 'tried again').to.be.greaterThan(2);
    expect(runs[1], 'more patient after a failed try').to.be.greaterThan(runs[0]!);

    // Every document and the search index as a run that was never refused leaves them.
    const clean = openSqliteDocumentStore({ path: tempPath('folio-batch-limits-', 'clean.sqlite') });
    const cleanSearch = openSqliteSearchIndex({ path: tempPath('folio-batch-limits-', 'clean-search.sqlite') });
    const rebuilt = createProjectorGroup({ eventStore: log, documents: clean, searchIndex: cleanSearch, readModels, catchUpBatchSize: 64 });
    await rebuilt.start();
    await rebuilt.stop();
    // Records compared as a rebuild compares them: a role that groups them by batch groups them otherwise.
    for (const { definition } of readModels) {
      for (const [role, collection] of Object.entries(liveCollections(definition))) {
        const checksum = (documents: DocumentStore) => readModelChecksum(documents, definition, role, collection);
        expect(await checksum(store), collection).to.equal(await checksum(clean));
      }
    }
    const index = liveSearchIndexes(transactionHistoryProjection).transactions!;
    expect(await search.checksum(index)).to.equal(await cleanSearch.checksum(index));
    await Promise.all([search.close(), clean.close(), cleanSearch.close()]);
  });

  it('reports a single event the store refuses with backoff, then commits each half with its checkpoint and grows its batches back', async () => {
    await writeLedgerHistory(log, { accounts: 4, transfers: 150 });
    const head = (await log.headPosition())!;
    const events = await collect(log.readAll());
    // One event and its checkpoint are two writes: at first not even one event is taken.
    const allowed = { writes: 1 };
    const { documents, refused, committed } = limiting(store, allowed);
    const errors: unknown[] = [];
    const sizes: number[] = [];
    const projector = createProjectorGroup({
      eventStore: log,
      documents,
      readModels: [{ definition: recording }],
      catchUpBatchSize: 64,
      onError: (error) => errors.push(error),
      onCommit: (_, batch) => sizes.push(batch.length),
    });
    const started = projector.start();
    try {
      const seen = liveCollections(recording).seen!;
      const eventWrites = (writes: Write[]) => writes.filter(({ collection }) => collection === seen).length;
      for (const waitUntil = Date.now() + 5_000; !refused.some((writes) => eventWrites(writes) === 1) && Date.now() < waitUntil; ) await sleep(5);
      const floorAt = refused.length;
      expect(refused.map(eventWrites), 'halved down to one event').to.deep.equal([64, 32, 16, 8, 4, 2, 1]);
      await sleep(1_000);
      const atFloor = refused.slice(floorAt - 1);
      expect(atFloor.every((writes) => eventWrites(writes) === 1), 'one event at a time').to.equal(true);
      expect(atFloor.length, 'tried again').to.be.greaterThan(1);
      // Without backoff, hundreds of attempts in a second; with it, one after 100, 200, 400 ms...
      expect(atFloor.length, 'with backoff').to.be.at.most(5);
      expect(errors.length, 'every refusal reported').to.equal(refused.length);
      expect(errors.every((error) => error instanceof TransactionLimitExceededError)).to.equal(true);
      expect(sizes, 'nothing committed meanwhile').to.deep.equal([]);

      allowed.writes = Number.POSITIVE_INFINITY;
      await within(started, 10_000, 'caught up once the store takes the event');
      expect(projector.status()[0]!.position).to.equal(head);
    } finally {
      await projector.stop();
    }

    // From one event per batch back to the configured size, a few full batches at each size.
    expect(sizes.slice(0, 4)).to.deep.equal([1, 1, 1, 1]);
    expect(sizes).to.include(64);
    const grown = sizes.indexOf(64);
    expect(sizes.slice(0, grown), 'growing, never shrinking').to.deep.equal([...sizes.slice(0, grown)].sort((a, b) => a - b));

    // Each transaction committed its events' documents and the checkpoint of its last one, in
    // order, and nothing of a refused one was kept: every event delivered once.
    const seenCollection = liveCollections(recording).seen!;
    let next = 0;
    for (const writes of committed) {
      const ids = writes.filter(({ collection }) => collection === seenCollection).map(({ document }) => document._id);
      if (ids.length === 0) continue;
      expect(ids).to.deep.equal(events.slice(next, next + ids.length).map(({ position }) => sortableBigint(position)));
      next += ids.length;
      const checkpoint = writes.find(({ collection, document }) => collection === CHECKPOINTS_COLLECTION && document._id === liveCheckpointId(recording));
      expect(checkpoint?.document.position, 'its checkpoint, in the same transaction').to.equal(events[next - 1]!.position.toString());
    }
    expect(next).to.equal(events.length);
    const { items } = await store.find<{ _id: string; deliveries: number }>(seenCollection, { limit: 1000 });
    expect(items).to.have.length(events.length);
    expect(items.every(({ deliveries }) => deliveries === 1), 'every event delivered once').to.equal(true);
  });
});

describe('batch sizing', () => {
  it('leaves batches as configured until a transaction is refused', () => {
    const sizing = createBatchSizing({ largest: 1000 });
    expect(sizing.limit(1000)).to.equal(1000);
    sizing.committed(1000);
    expect(sizing.limit(1000)).to.equal(1000);
    expect(sizing.limit(50), 'a smaller configured size').to.equal(50);
  });

  it('halves a refused batch down to one event, and says when nothing smaller is left', () => {
    const sizing = createBatchSizing({ largest: 1000 });
    expect(sizing.refused(1000)).to.equal(true);
    expect(sizing.limit(1000)).to.equal(500);
    expect(sizing.limit(100), 'the configured size when smaller').to.equal(100);
    expect(sizing.refused(37), 'a partial batch').to.equal(true);
    expect(sizing.limit(1000)).to.equal(18);
    for (const size of [18, 9, 4, 2]) expect(sizing.refused(size)).to.equal(true);
    expect(sizing.limit(1000)).to.equal(1);
    expect(sizing.refused(1)).to.equal(false);
    expect(sizing.limit(1000)).to.equal(1);
    expect(sizing.refused(0), 'checkpoints alone').to.equal(false);
    expect(sizing.limit(1000)).to.equal(1);
  });

  it('doubles after full batches commit, ignores partial ones, and lifts the cap at the largest size', () => {
    const sizing = createBatchSizing({ largest: 1000, growAfter: 2 });
    sizing.refused(1000);
    sizing.refused(500);
    expect(sizing.limit(1000)).to.equal(250);
    sizing.committed(250);
    sizing.committed(100);
    expect(sizing.limit(1000), 'one full batch, one partial').to.equal(250);
    sizing.committed(250);
    expect(sizing.limit(1000)).to.equal(500);
    sizing.committed(500);
    sizing.committed(500);
    expect(sizing.limit(1000)).to.equal(1000);
    expect(sizing.limit(5000), 'lifted').to.equal(5000);
  });

  it('waits twice as long before trying again a larger size that was refused again', () => {
    const sizing = createBatchSizing({ largest: 1000, growAfter: 2, maxPatience: 4 });
    const commitsUntilGrowth = (size: number): number => {
      for (let commits = 1; commits <= 100; commits++) {
        sizing.committed(size);
        if (sizing.limit(1000) > size) return commits;
      }
      return Number.POSITIVE_INFINITY;
    };
    sizing.refused(400);
    expect(commitsUntilGrowth(200)).to.equal(2);
    sizing.refused(400);
    expect(commitsUntilGrowth(200), 'after a failed try').to.equal(4);
    sizing.refused(400);
    expect(commitsUntilGrowth(200), 'at most maxPatience').to.equal(4);
    // The size refused before commits now: the store takes more again.
    sizing.committed(400);
    expect(commitsUntilGrowth(400)).to.equal(1);
    expect(sizing.limit(1000)).to.equal(800);
  });
});

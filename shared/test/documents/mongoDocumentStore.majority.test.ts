import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { BSON } from 'mongodb';
import { DEFAULT_MAJORITY_WAIT_MS, createMongoDocumentStore } from '../../src/documents/mongoDocumentStore.js';
import type { DocumentStore } from '../../src/documents/documentStore.js';
import { StoreUnavailableError } from '../../src/eventStore/errors.js';
import { ordinaryAnswer, startFakeMongoServer, type Answer, type FakeMongoServer } from './fakeMongoServer.js';

/**
 * The MongoDB document store against a fake primary whose replica set has lost its majority: the
 * real driver talks to it, so what it sends and how long it waits are what a server would see.
 */

/**
 * A primary without a majority, as MongoDB behaves: a commit applies locally, then waits for
 * acknowledgements that never come, until its `maxTimeMS` (MaxTimeMSExpired) or its write
 * concern's `wtimeout` (WriteConcernTimeout) runs out, whichever comes first; without either,
 * forever.
 */
const withoutMajority: Answer = async (command) => {
  if (!('commitTransaction' in command)) return ordinaryAnswer(command);
  const maxTimeMs = typeof command.maxTimeMS === 'number' ? command.maxTimeMS : Infinity;
  const writeConcern = command.writeConcern as BSON.Document | undefined;
  const wtimeout = typeof writeConcern?.wtimeout === 'number' ? writeConcern.wtimeout : Infinity;
  if (maxTimeMs === Infinity && wtimeout === Infinity) return new Promise<BSON.Document>(() => undefined);
  await sleep(Math.min(maxTimeMs, wtimeout));
  return maxTimeMs <= wtimeout
    ? { ok: 1, writeConcernError: { code: 50, codeName: 'MaxTimeMSExpired', errmsg: 'operation exceeded time limit' } }
    : {
        ok: 1,
        writeConcernError: {
          code: 64,
          codeName: 'WriteConcernTimeout',
          errmsg: 'waiting for replication timed out',
          errInfo: { wtimeout: true },
        },
      };
};

/** Settles `promise` or says it is still waiting after `ms`. */
const within = async <T>(promise: Promise<T>, ms: number): Promise<{ value?: T; error?: unknown; pending?: true }> => {
  const pending = sleep(ms).then(() => ({ pending: true as const }));
  return Promise.race([promise.then((value) => ({ value }), (error: unknown) => ({ error })), pending]);
};

describe('MongoDB document store without a majority (fake primary)', () => {
  let server: FakeMongoServer;
  let store: DocumentStore | undefined;

  beforeEach(async () => {
    server = await startFakeMongoServer(withoutMajority);
  });

  afterEach(async () => {
    // The server goes first, so nothing the store still waits on can hold its close up.
    await server.close();
    await store?.close();
    store = undefined;
  });

  const commitsOf = (): BSON.Document[] => server.commands.filter((command) => 'commitTransaction' in command);

  it(`bounds a commit's wait for a majority: ${DEFAULT_MAJORITY_WAIT_MS} ms by default, as maxTimeMS and wtimeout`, async () => {
    const answered = await startFakeMongoServer(ordinaryAnswer);
    const healthy = createMongoDocumentStore({ url: answered.url(), database: 'folio_fake' });
    try {
      await healthy.withTransaction((session) => session.put('balances', { _id: 'a' }));
      const [commit] = answered.commands.filter((command) => 'commitTransaction' in command);
      expect(commit?.maxTimeMS).to.equal(DEFAULT_MAJORITY_WAIT_MS);
      expect(commit?.writeConcern).to.deep.equal({ w: 'majority', wtimeout: DEFAULT_MAJORITY_WAIT_MS });
    } finally {
      await answered.close();
      await healthy.close();
    }
  });

  it("fails a commit no majority acknowledges with StoreUnavailableError once the URL's wtimeoutMS has passed", async () => {
    store = createMongoDocumentStore({ url: server.url('&wtimeoutMS=200'), database: 'folio_fake' });
    let attempts = 0;
    const started = Date.now();
    const outcome = await within(
      store.withTransaction(async (session) => {
        attempts += 1;
        await session.put('balances', { _id: 'a', amount: '1' });
      }),
      3000,
    );

    expect(outcome.pending, 'withTransaction still waiting after 3 s').to.equal(undefined);
    expect(outcome.error).to.be.instanceOf(StoreUnavailableError);
    expect((outcome.error as Error).message).to.match(/may or may not have committed/);
    expect(Date.now() - started).to.be.below(2000);
    expect(commitsOf().map((commit) => commit.maxTimeMS)).to.deep.equal([200]);
    expect(attempts, 'work ran once: the commit is not retried for two minutes').to.equal(1);
  });

  it('bounds the wait of collection changes for a majority too', async () => {
    store = createMongoDocumentStore({ url: server.url('&wtimeoutMS=300'), database: 'folio_fake' });
    await store.ensureIndex('balances', ['currency']);
    await store.renameCollection('balancesRebuilt', 'balances');
    await store.dropCollection('balancesOld');
    const changes = server.commands.filter((command) =>
      ['createIndexes', 'renameCollection', 'drop'].some((name) => name in command),
    );
    expect(changes.map((command) => Object.keys(command)[0])).to.deep.equal(['createIndexes', 'renameCollection', 'drop']);
    for (const change of changes) expect(change.writeConcern).to.deep.equal({ w: 'majority', wtimeout: 300 });
  });

  it('reads outside transactions at majority, so no reader sees what a failover rolls back; inside them, one snapshot', async () => {
    const emptyCursor = (command: BSON.Document): BSON.Document => ({
      cursor: { id: BSON.Long.fromNumber(0), ns: `folio_fake.${String(Object.values(command)[0])}`, firstBatch: [] },
      ok: 1,
    });
    const answered = await startFakeMongoServer((command) =>
      'find' in command || 'aggregate' in command ? emptyCursor(command) : ordinaryAnswer(command),
    );
    const reader = createMongoDocumentStore({ url: answered.url(), database: 'folio_fake' });
    try {
      await reader.get('balances', 'a');
      await reader.find('balances', { where: { currency: 'EUR' } });
      await reader.count('balances');
      await reader.checksum('balances');
      const outside = answered.commands.filter((command) => 'find' in command || 'aggregate' in command);
      expect(outside.map((command) => Object.keys(command)[0])).to.deep.equal(['find', 'find', 'aggregate', 'find']);
      for (const read of outside) expect(read.readConcern, JSON.stringify(read)).to.deep.equal({ level: 'majority' });

      answered.commands.length = 0;
      await reader.withTransaction(async (session) => {
        await session.get('balances', 'a');
        await session.getMany('balances', ['b']);
      });
      const inside = answered.commands.filter((command) => 'find' in command);
      expect(inside.map((command) => command.readConcern)).to.deep.equal([{ level: 'snapshot' }, undefined]);
    } finally {
      await answered.close();
      await reader.close();
    }
  });
});

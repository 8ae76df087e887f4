import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import type { BSON } from 'mongodb';
import { TRANSACTION_RETRY_WINDOW_MS, createMongoDocumentStore } from '../../src/documents/mongoDocumentStore.js';
import type { DocumentStore } from '../../src/documents/documentStore.js';
import { StoreUnavailableError } from '../../src/eventStore/errors.js';
import { ordinaryAnswer, startFakeMongoServer, type Answer, type FakeMongoServer } from './fakeMongoServer.js';

/**
 * How the MongoDB document store retries a transaction the server aborted or whose commit it did
 * not confirm, against a fake primary: the real driver talks to it, so the retries it makes are
 * the ones a replica set would see.
 */

/** What a primary answers a write of a transaction it lost in a failover. */
const noSuchTransaction: BSON.Document = {
  ok: 0,
  code: 251,
  codeName: 'NoSuchTransaction',
  errmsg: 'Given transaction number 1 does not match any in-progress transactions. The active transaction number is -1',
  errorLabels: ['TransientTransactionError'],
};

const writeConflict: BSON.Document = {
  ok: 0,
  code: 112,
  codeName: 'WriteConflict',
  errmsg: 'Write conflict during plan execution and yielding is disabled.',
  errorLabels: ['TransientTransactionError'],
};

/** What a primary stepping down answers a commit: the driver retries it once, then cannot know whether it committed. */
const steppedDown: BSON.Document = {
  ok: 0,
  code: 189,
  codeName: 'PrimarySteppedDown',
  errmsg: 'primary stepped down',
  errorLabels: ['RetryableWriteError'],
};

/** Settles `promise` or says it is still waiting after `ms`. */
const within = async <T>(promise: Promise<T>, ms: number): Promise<{ value?: T; error?: unknown; pending?: true }> => {
  const pending = sleep(ms).then(() => ({ pending: true as const }));
  return Promise.race([promise.then((value) => ({ value }), (error: unknown) => ({ error })), pending]);
};

/** Longer than the retry window, far shorter than the two minutes the driver's `withTransaction` retries. */
const PATIENCE_MS = TRANSACTION_RETRY_WINDOW_MS + 3000;

describe('MongoDB document store transaction retries (fake primary)', function () {
  this.timeout(PATIENCE_MS + 10_000);

  let server: FakeMongoServer | undefined;
  let store: DocumentStore | undefined;

  afterEach(async () => {
    await server?.close();
    await store?.close();
    server = undefined;
    store = undefined;
  });

  const open = async (answer: Answer): Promise<DocumentStore> => {
    server = await startFakeMongoServer(answer);
    store = createMongoDocumentStore({ url: server.url(), database: 'folio_fake' });
    return store;
  };

  const sent = (name: string): BSON.Document[] => server!.commands.filter((command) => name in command);

  it('runs the work again after a transient error, in a new transaction, and commits once', async () => {
    let conflicts = 0;
    const documents = await open((command) => ('update' in command && conflicts++ === 0 ? writeConflict : ordinaryAnswer(command)));
    let attempts = 0;

    await documents.withTransaction(async (session) => {
      attempts += 1;
      await session.put('balances', { _id: 'a', amount: '1' });
    });

    expect(attempts).to.equal(2);
    const [first, second] = sent('update').map((update) => String(update.txnNumber));
    expect(first).not.to.equal(second);
    expect(sent('abortTransaction')).to.have.length(1);
    expect(sent('commitTransaction').map((commit) => String(commit.txnNumber))).to.deep.equal([second]);
  });

  it(`gives up on a transaction the server keeps losing after ${TRANSACTION_RETRY_WINDOW_MS} ms, with StoreUnavailableError`, async () => {
    const documents = await open((command) => ('update' in command ? noSuchTransaction : ordinaryAnswer(command)));
    let attempts = 0;
    const started = Date.now();

    const outcome = await within(
      documents.withTransaction(async (session) => {
        attempts += 1;
        await session.put('balances', { _id: 'a', amount: '1' });
      }),
      PATIENCE_MS,
    );

    expect(outcome.pending, `withTransaction still retrying after ${PATIENCE_MS} ms`).to.equal(undefined);
    expect(outcome.error).to.be.instanceOf(StoreUnavailableError);
    expect(Date.now() - started).to.be.at.least(TRANSACTION_RETRY_WINDOW_MS);
    expect(attempts, 'retried meanwhile').to.be.above(1);
    expect(sent('commitTransaction')).to.deep.equal([]);
  });

  it('retries a commit whose outcome is unknown, without running the work again', async () => {
    let stepDowns = 0;
    const documents = await open((command) =>
      'commitTransaction' in command && stepDowns++ < 2 ? steppedDown : ordinaryAnswer(command),
    );
    let attempts = 0;

    await documents.withTransaction(async (session) => {
      attempts += 1;
      await session.put('balances', { _id: 'a', amount: '1' });
    });

    expect(attempts).to.equal(1);
    const commits = sent('commitTransaction');
    expect(commits.length).to.be.above(2);
    expect(new Set(commits.map((commit) => String(commit.txnNumber))).size, 'one transaction').to.equal(1);
  });

  it(`gives up on a commit never confirmed after ${TRANSACTION_RETRY_WINDOW_MS} ms, saying it may have committed`, async () => {
    const documents = await open((command) => ('commitTransaction' in command ? steppedDown : ordinaryAnswer(command)));
    let attempts = 0;

    const outcome = await within(
      documents.withTransaction(async (session) => {
        attempts += 1;
        await session.put('balances', { _id: 'a', amount: '1' });
      }),
      PATIENCE_MS,
    );

    expect(outcome.pending, `withTransaction still retrying after ${PATIENCE_MS} ms`).to.equal(undefined);
    expect(outcome.error).to.be.instanceOf(StoreUnavailableError);
    expect((outcome.error as Error).message).to.match(/may or may not have committed/);
    expect(attempts).to.equal(1);
  });
});

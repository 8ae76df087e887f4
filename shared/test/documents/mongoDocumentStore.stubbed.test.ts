import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { Db, MongoClient, MongoErrorLabel, MongoServerError, MongoTopologyClosedError } from 'mongodb';
import { createMongoDocumentStore } from '../../src/documents/mongoDocumentStore.js';
import type { Document, DocumentStore } from '../../src/documents/documentStore.js';

/**
 * The adapter against stand-ins for the driver objects it uses (client, session, collection),
 * which record the state of the driver's transaction when each write starts: what only a server
 * would otherwise show.
 */

/** Longer than any stand-in write takes: a write left running has started by then. */
const STRAGGLER_MS = 60;

type TransactionState = 'none' | 'starting' | 'in progress' | 'committed' | 'aborted';

/** What the driver's `ClientSession` does that matters here, as the driver does it. */
class FakeSession {
  state: TransactionState = 'none';
  attempt = 0;
  inFlight = 0;
  /** Operations still running when an attempt committed or aborted. */
  readonly inFlightAtEnd: number[] = [];

  startTransaction(): void {
    this.attempt += 1;
    this.state = 'starting';
  }

  inTransaction(): boolean {
    return this.state === 'starting' || this.state === 'in progress';
  }

  async commitTransaction(): Promise<void> {
    await this.end('committed');
  }

  async abortTransaction(): Promise<void> {
    await this.end('aborted');
  }

  /** An operation joins the transaction when it starts, as `applySession` has it. */
  begin(): { attempt: number; state: TransactionState } {
    if (this.state === 'starting') this.state = 'in progress';
    return { attempt: this.attempt, state: this.state };
  }

  private async end(state: TransactionState): Promise<void> {
    this.inFlightAtEnd.push(this.inFlight);
    await sleep(1);
    this.state = state;
  }

  async endSession(): Promise<void> {}
}

interface Write {
  id: string;
  /** The attempt whose work made the call. */
  calledIn: unknown;
  /** The attempt and transaction state the write started in. */
  ranIn: { attempt: number; state: TransactionState };
}

/** How a write of `id` by the work of `attempt` behaves: how long it takes, or what it throws. */
type Script = (id: string, attempt: unknown) => { delayMs?: number; error?: Error };

const writeConflict = (): MongoServerError =>
  new MongoServerError({
    ok: 0,
    code: 112,
    codeName: 'WriteConflict',
    errmsg: 'write conflict',
    errorLabels: [MongoErrorLabel.TransientTransactionError],
  });

const withStubbedDriver = async (script: Script, test: (store: DocumentStore, session: FakeSession, writes: Write[]) => Promise<void>) => {
  const session = new FakeSession();
  const writes: Write[] = [];
  let closed = false;
  const collection = {
    async replaceOne(filter: { _id: string }, replacement: Document) {
      if (closed) throw new MongoTopologyClosedError();
      const ranIn = session.begin();
      writes.push({ id: filter._id, calledIn: replacement.attempt, ranIn });
      session.inFlight += 1;
      try {
        const { delayMs = 0, error } = script(filter._id, replacement.attempt);
        await sleep(delayMs);
        if (error !== undefined) throw error;
        return { acknowledged: true, matchedCount: 0, modifiedCount: 0, upsertedCount: 1, upsertedId: filter._id };
      } finally {
        session.inFlight -= 1;
      }
    },
  };
  const stubs: [Record<string, unknown>, string, unknown][] = [
    [MongoClient.prototype as unknown as Record<string, unknown>, 'connect', async () => undefined],
    [MongoClient.prototype as unknown as Record<string, unknown>, 'startSession', () => session],
    [
      MongoClient.prototype as unknown as Record<string, unknown>,
      'close',
      async () => {
        closed = true;
      },
    ],
    [Db.prototype as unknown as Record<string, unknown>, 'collection', () => collection],
  ];
  const originals = stubs.map(([target, name, stub]) => {
    const original = target[name];
    target[name] = stub;
    return () => {
      target[name] = original;
    };
  });
  const store = createMongoDocumentStore({ url: 'mongodb://127.0.0.1:1/', database: 'folio_stubbed' });
  try {
    await test(store, session, writes);
  } finally {
    await store.close();
    for (const restore of originals) restore();
  }
};

/** Every write ran inside the transaction of the attempt that made it. */
const expectEachInItsOwnTransaction = (writes: readonly Write[]): void => {
  for (const write of writes) {
    expect(write.ranIn, `${write.id} of attempt ${String(write.calledIn)}`).to.deep.equal({
      attempt: write.calledIn,
      state: 'in progress',
    });
  }
};

describe('MongoDB document store with a stubbed driver', () => {
  it('lets no write of a failed attempt run after it, outside the transaction or inside the retry', async () => {
    // Attempt 1: `a` meets a write conflict while `b` is still running and `c` waits its turn.
    const script: Script = (id, attempt) =>
      attempt !== 1 ? {} : id === 'a' ? { error: writeConflict() } : id === 'b' ? { delayMs: 30 } : {};
    await withStubbedDriver(script, async (store, session, writes) => {
      let attempts = 0;
      await store.withTransaction(async (documents) => {
        const attempt = ++attempts;
        await Promise.all(['a', 'b', 'c'].map((id) => documents.put('balances', { _id: id, attempt })));
      });
      await sleep(STRAGGLER_MS);

      expect(attempts).to.equal(2);
      expectEachInItsOwnTransaction(writes);
      expect(writes.filter((write) => write.calledIn === 2).map((write) => write.id)).to.deep.equal(['a', 'b', 'c']);
      expect(session.inFlightAtEnd, 'operations running when an attempt ended').to.deep.equal([0, 0]);
    });
  });

  it('runs what work called before it returned inside the transaction, as SQLite does, before committing', async () => {
    await withStubbedDriver(
      (id) => (id === 'slow' ? { delayMs: 30 } : {}),
      async (store, session, writes) => {
        await store.withTransaction(async (documents) => {
          void documents.put('balances', { _id: 'slow', attempt: 1 });
          void documents.put('balances', { _id: 'queued', attempt: 1 });
        });
        await sleep(STRAGGLER_MS);

        expect(writes.map((write) => write.id)).to.deep.equal(['slow', 'queued']);
        expectEachInItsOwnTransaction(writes);
        expect(session.inFlightAtEnd, 'operations running at the commit').to.deep.equal([0]);
      },
    );
  });

  it('lets a transaction under way when close is called commit, as SQLite does', async () => {
    await withStubbedDriver(
      () => ({ delayMs: 20 }),
      async (store, session, writes) => {
        const committed = store.withTransaction((documents) => documents.put('balances', { _id: 'late', attempt: 1 }));
        await store.close();
        await committed;

        expect(writes.map((write) => write.id)).to.deep.equal(['late']);
        expect(session.state).to.equal('committed');
      },
    );
  });
});

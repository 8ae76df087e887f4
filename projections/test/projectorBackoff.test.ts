import { expect } from 'chai';
import {
  openSqliteDocumentStore,
  openSqliteEventStore,
  SubscriptionDroppedError,
  type DocumentStore,
  type SqliteEventStore,
  type SubscriptionMessage,
} from '@folio/shared';
import { balancesProjection } from '../src/balances/balancesProjection.js';
import { createProjector } from '../src/runtime/projector.js';
import { tempPath, writeLedgerHistory } from './fixtures/ledgerFixture.js';

/** Events a subscription that makes progress hands over before it fails: one batch. */
const BATCH = 5;

/**
 * How each subscription behaves, by its number (from 1): hands over one batch and then fails,
 * fails before handing over anything, or serves the log as it is.
 */
type Behaviour = 'progress, then fail' | 'fail at once' | 'serve';

describe('projector resubscribe backoff', () => {
  let log: SqliteEventStore;
  let documents: DocumentStore;

  beforeEach(() => {
    log = openSqliteEventStore({ path: tempPath('folio-backoff-', 'events.sqlite') });
    documents = openSqliteDocumentStore({ path: tempPath('folio-backoff-', 'readmodels.sqlite') });
  });

  afterEach(async () => {
    await documents.close();
    await log.close();
  });

  /** The log behind subscriptions that behave as `behaviourOf` says; `started` gets when each one was asked for. */
  const failingLog = (behaviourOf: (subscription: number) => Behaviour, started: number[]) =>
    new Proxy(log, {
      get(target, property) {
        if (property !== 'subscribeToAll') return Reflect.get(target, property, target) as unknown;
        return (...args: Parameters<SqliteEventStore['subscribeToAll']>) => {
          const subscription = target.subscribeToAll(...args);
          started.push(Date.now());
          const behaviour = behaviourOf(started.length);
          if (behaviour === 'serve') return subscription;
          const messages = subscription[Symbol.asyncIterator]();
          let handed = 0;
          const runs: AsyncIterableIterator<readonly SubscriptionMessage[]> = {
            async next() {
              if (behaviour === 'fail at once' || handed === BATCH) throw new SubscriptionDroppedError('test drop');
              for (;;) {
                const read = await messages.next();
                if (read.done === true) return read;
                if (read.value.kind !== 'event') continue;
                handed += 1;
                return { done: false, value: [read.value] };
              }
            },
            [Symbol.asyncIterator]() {
              return this;
            },
          };
          return { ...subscription, runs: () => runs, unsubscribe: () => subscription.unsubscribe() };
        };
      },
    });

  it('waits as after a first failure whenever a batch committed since the last one, and longer with each failure in a row', async () => {
    await writeLedgerHistory(log, { accounts: 4, transfers: 30 });
    const started: number[] = [];
    // Four subscriptions that each commit a batch and fail, then three that fail at once.
    const behaviourOf = (subscription: number): Behaviour =>
      subscription <= 4 ? 'progress, then fail' : subscription <= 7 ? 'fail at once' : 'serve';
    const commits: number[] = [];
    const projector = createProjector({
      eventStore: failingLog(behaviourOf, started),
      documents,
      definition: balancesProjection,
      catchUpBatchSize: BATCH,
      onError: () => undefined,
      onCommit: () => commits.push(started.length),
    });
    try {
      await projector.start();
      expect(projector.status().position).to.equal(await log.headPosition());
    } finally {
      await projector.stop();
    }

    expect([1, 2, 3, 4].map((subscription) => commits.includes(subscription)), 'each of the first four committed').to.deep.equal([
      true,
      true,
      true,
      true,
    ]);
    const waits = started.slice(1).map((at, n) => at - started[n]!);
    // 100 ms after a failure that follows progress; then 200, 400 and 800 ms for failures in a row.
    for (const [n, wait] of waits.slice(0, 4).entries()) {
      expect(wait, `wait after subscription ${n + 1}, which made progress`).to.be.within(90, 350);
    }
    const [second, third, fourth] = waits.slice(4);
    expect(second, 'second failure in a row').to.be.within(190, 390);
    expect(third, 'third failure in a row').to.be.within(390, 790);
    expect(fourth, 'fourth failure in a row').to.be.within(790, 1500);
  });
});

import { expect } from 'chai';
import {
  openSqliteDocumentStore,
  openSqliteEventStore,
  StoreUnavailableError,
  type DocumentStore,
  type SqliteEventStore,
  type SubscriptionMessage,
} from '@folio/shared';
import { balancesProjection } from '../src/balances/balancesProjection.js';
import { CHECKPOINTS_COLLECTION, liveCheckpointId } from '../src/runtime/projection.js';
import { createProjector } from '../src/runtime/projector.js';
import { createReadModelLease, ReadModelBusyError, ReadModelLeaseLapsedError, ReadModelLeaseNotReleasedError } from '../src/runtime/readModelLease.js';
import { tempPath, writeLedgerHistory } from './fixtures/ledgerFixture.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every few milliseconds until it holds, for `timeoutMs` at most. */
const eventually = async (condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> => {
  for (const until = Date.now() + timeoutMs; Date.now() < until; await sleep(5)) if (await condition()) return true;
  return condition();
};

describe('projector resilience', () => {
  let log: SqliteEventStore;
  let documents: DocumentStore;
  /** Whether the document store answers the projector. */
  let reachable: boolean;
  const unhandled: unknown[] = [];
  const recordUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeEach(() => {
    log = openSqliteEventStore({ path: tempPath('folio-resilience-', 'events.sqlite') });
    documents = openSqliteDocumentStore({ path: tempPath('folio-resilience-', 'readmodels.sqlite') });
    reachable = true;
    unhandled.length = 0;
    process.on('unhandledRejection', recordUnhandled);
  });

  afterEach(async () => {
    process.off('unhandledRejection', recordUnhandled);
    await documents.close();
    await log.close();
  });

  /** The document store as the projector sees it: every call fails while it is unreachable. */
  const flakyDocuments = (): DocumentStore =>
    new Proxy(documents, {
      get(target, property) {
        const member = Reflect.get(target, property, target) as unknown;
        if (typeof member !== 'function' || property === 'close') return member;
        return (...args: unknown[]) => {
          if (!reachable) return Promise.reject(new StoreUnavailableError('test: the document store is unreachable'));
          return (member as (...args: unknown[]) => unknown).apply(target, args);
        };
      },
    });

  /** A balances projector on the flaky document store, the errors it reports collected. */
  const flakyProjector = (more: { leaseTtlMs?: number } = {}) => {
    const errors: unknown[] = [];
    const projector = createProjector({ eventStore: log, documents: flakyDocuments(), definition: balancesProjection, onError: (error) => errors.push(error), ...more });
    return { projector, errors };
  };

  const storedPosition = async (): Promise<string | undefined> =>
    (await documents.get<{ _id: string; position: string }>(CHECKPOINTS_COLLECTION, liveCheckpointId(balancesProjection)))?.position;

  it('keeps retrying with growing waits while the document store is unreachable, reports each failure, and resumes from its checkpoint', async () => {
    await writeLedgerHistory(log, { accounts: 3, transfers: 10 });
    const { projector, errors } = flakyProjector();
    await projector.start();
    const reached = projector.status().position;

    reachable = false;
    await writeLedgerHistory(log, { accounts: 2, transfers: 5, firstAccountId: 3_000_000, seed: 3 });
    const head = (await log.headPosition())!;
    // Longer than the first waits (100, then 200 ms): the checkpoints cannot be read when they end.
    await sleep(350);
    const failures = errors.filter((error) => error instanceof StoreUnavailableError).length;
    expect(failures, 'each failed attempt reported, and no more attempts than the backoff allows').to.be.within(2, 4);
    expect(projector.status(), 'behind while the store is away').to.include({ position: reached, caughtUp: false });

    reachable = true;
    expect(await projector.waitFor(head, 3_000), 'resumes once the store answers').to.equal(true);
    expect(await storedPosition()).to.equal(head.toString());
    expect(unhandled).to.deep.equal([]);
    await projector.stop();
  });

  it('tells in its status that it is failing, since when and how many times in a row, until it commits again', async () => {
    await writeLedgerHistory(log, { accounts: 3, transfers: 10 });
    const { projector } = flakyProjector();
    await projector.start();
    expect(projector.status().failing, 'caught up').to.equal(undefined);

    reachable = false;
    const awayAt = Date.now();
    await writeLedgerHistory(log, { accounts: 2, transfers: 5, firstAccountId: 3_000_000, seed: 3 });
    expect(await eventually(() => (projector.status().failing?.failures ?? 0) >= 2, 1_000), 'fails again and again').to.equal(true);
    const { since, lastError } = projector.status().failing!;
    expect(since.getTime(), 'since its first failure').to.be.within(awayAt, Date.now());
    expect(lastError).to.match(/document store is unreachable/);

    reachable = true;
    expect(await projector.waitFor((await log.headPosition())!, 3_000)).to.equal(true);
    expect(projector.status().failing, 'works again').to.equal(undefined);
    await projector.stop();
  });

  it('is failing from the first renewal of its claim the document store refuses while caught up, and not once one succeeds', async () => {
    await writeLedgerHistory(log, { accounts: 3, transfers: 10 });
    // Renewed every 400 ms: the store comes back well before the claim could lapse.
    const { projector, errors } = flakyProjector({ leaseTtlMs: 1_200 });
    await projector.start();
    expect(projector.status().failing, 'caught up').to.equal(undefined);

    reachable = false;
    const awayAt = Date.now();
    expect(await eventually(() => projector.status().failing !== undefined, 600), 'failing after the first refused renewal').to.equal(true);
    const { since, failures, lastError } = projector.status().failing!;
    expect(since.getTime()).to.be.within(awayAt, Date.now());
    expect(failures).to.equal(1);
    expect(lastError).to.match(/document store is unreachable/);
    expect(errors.some((error) => error instanceof ReadModelLeaseLapsedError), 'before the claim lapses').to.equal(false);

    reachable = true;
    expect(await eventually(() => projector.status().failing === undefined, 600), 'not failing once a renewal succeeds').to.equal(true);
    expect(errors.some((error) => error instanceof ReadModelLeaseLapsedError), 'the claim never lapsed').to.equal(false);
    expect(projector.status()).to.include({ caughtUp: true });
    await projector.stop();
  });

  it('is failing from its start while it cannot read its checkpoints, and not once it has caught up', async () => {
    await writeLedgerHistory(log, { accounts: 3, transfers: 10 });
    reachable = false;
    const startedAt = Date.now();
    const { projector } = flakyProjector();
    const caughtUp = projector.start();
    expect(projector.status().failing, 'reading its checkpoints').to.include({ failures: 0 });
    expect(await eventually(() => (projector.status().failing?.failures ?? 0) >= 1, 1_000)).to.equal(true);
    expect(projector.status().failing!.since.getTime(), 'since its start').to.be.within(startedAt, startedAt + 50);

    reachable = true;
    await caughtUp;
    expect(projector.status().failing).to.equal(undefined);
    await projector.stop();
  });

  it('waits before resubscribing to a subscription that ended without an error, longer with each in a row', async () => {
    await writeLedgerHistory(log, { accounts: 3, transfers: 10 });
    const started: number[] = [];
    // The store ends the first three subscriptions at once, as a server restarting would.
    const ending = new Proxy(log, {
      get(target, property) {
        if (property !== 'subscribeToAll') return Reflect.get(target, property, target) as unknown;
        return (...args: Parameters<SqliteEventStore['subscribeToAll']>) => {
          const subscription = target.subscribeToAll(...args);
          started.push(Date.now());
          if (started.length > 3) return subscription;
          const runs: AsyncIterableIterator<readonly SubscriptionMessage[]> = {
            next: () => Promise.resolve({ done: true, value: undefined }),
            [Symbol.asyncIterator]() {
              return this;
            },
          };
          return { ...subscription, runs: () => runs, unsubscribe: () => subscription.unsubscribe() };
        };
      },
    });
    const projector = createProjector({ eventStore: ending, documents, definition: balancesProjection, onError: () => undefined });
    try {
      await projector.start();
      expect(projector.status().position).to.equal(await log.headPosition());
    } finally {
      await projector.stop();
    }
    const waits = started.slice(1).map((at, n) => at - started[n]!);
    expect(waits).to.have.length(3);
    expect(waits[0], 'after the first end').to.be.within(90, 350);
    expect(waits[1], 'after the second in a row').to.be.within(190, 450);
    expect(waits[2], 'after the third in a row').to.be.within(390, 800);
  });

  it('stops writing a read model whose claim lapsed while a rebuild holds it, and goes on once the rebuild has ended', async () => {
    await writeLedgerHistory(log, { accounts: 3, transfers: 10 });
    const { projector, errors } = flakyProjector({ leaseTtlMs: 150 });
    await projector.start();
    const reached = (await storedPosition())!;

    // The store is away longer than the claim lasts: a rebuild may take the read model meanwhile.
    reachable = false;
    expect(await eventually(() => errors.some((error) => error instanceof ReadModelLeaseLapsedError), 1_000), 'the claim lapses').to.equal(true);
    const rebuild = createReadModelLease({ documents, readModels: [liveCheckpointId(balancesProjection)], kind: 'rebuild', onRenewalError: () => undefined });
    // The projector stops holding at its own count of the lease; the claim it stored runs out a
    // moment later (its last renewal landed after it was asked for): the rebuild asks until then.
    const acquired = await eventually(() => rebuild.acquire().then(() => true, (error: unknown) => (error instanceof ReadModelBusyError ? false : Promise.reject(error))), 1_000);
    expect(acquired, 'the rebuild takes the read model once the stored claim has run out').to.equal(true);
    reachable = true;

    await writeLedgerHistory(log, { accounts: 2, transfers: 5, firstAccountId: 3_000_000, seed: 3 });
    const head = (await log.headPosition())!;
    await sleep(300);
    expect(await storedPosition(), 'nothing written while the rebuild holds it').to.equal(reached);
    expect(errors.some((error) => error instanceof ReadModelBusyError), 'told the rebuild holds it').to.equal(true);

    await rebuild.release();
    expect(await projector.waitFor(head, 3_000), 'goes on once the rebuild has ended').to.equal(true);
    expect(await storedPosition()).to.equal(head.toString());
    expect(unhandled).to.deep.equal([]);
    await projector.stop();
  });

  it('stops while the document store is unreachable, warning that its claim on the read models lapses by itself', async () => {
    await writeLedgerHistory(log, { accounts: 3, transfers: 10 });
    const warnings: unknown[] = [];
    const projector = createProjector({
      eventStore: log,
      documents: flakyDocuments(),
      definition: balancesProjection,
      onError: () => undefined,
      onWarning: (warning) => warnings.push(warning),
    });
    await projector.start();

    reachable = false;
    await projector.stop();
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.be.instanceOf(ReadModelLeaseNotReleasedError);
    expect((warnings[0] as Error).message).to.match(/^the claim on balances_v\d+ was not released \(test: the document store is unreachable\): it lapses by itself/);
    expect(unhandled).to.deep.equal([]);
  });
});

import { expect } from 'chai';
import { openSqliteDocumentStore, StoreUnavailableError, type DocumentStore } from '@folio/shared';
import {
  createReadModelLease,
  LEASES_COLLECTION,
  ReadModelLeaseLapsedError,
  ReadModelLeaseNotReleasedError,
  type LeaseClaim,
  type LeaseClock,
} from '../src/runtime/readModelLease.js';
import { tempPath } from './fixtures/ledgerFixture.js';

const TTL_MS = 3000;
const READ_MODEL = 'balances_v1';

/** A clock that moves only when told, running each timer due on the way, in order. */
const manualClock = () => {
  let now = 0;
  let nextId = 1;
  const timers = new Map<number, { at: number; callback: () => void }>();
  /** Lets the store's work and the lease's reactions to it run. */
  const settle = async (): Promise<void> => {
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
  };
  const clock: LeaseClock = {
    now: () => now,
    setTimeout(callback, ms) {
      const id = nextId++;
      timers.set(id, { at: now + ms, callback });
      return { id, unref: () => undefined };
    },
    clearTimeout(timer) {
      timers.delete((timer as unknown as { id: number }).id);
    },
  };
  return {
    clock,
    async advanceTo(time: number): Promise<void> {
      for (;;) {
        const due = [...timers].filter(([, timer]) => timer.at <= time).sort(([a, x], [b, y]) => x.at - y.at || a - b)[0];
        if (due === undefined) break;
        const [id, timer] = due;
        timers.delete(id);
        now = timer.at;
        timer.callback();
        await settle();
      }
      now = time;
      await settle();
    },
  };
};

describe('read model lease', () => {
  let documents: DocumentStore;
  /** Whether the store is reachable, and whether its transactions wait for `resume`. */
  let reachable: boolean;
  let stalled: Promise<void> | undefined;
  let transactions: number;

  beforeEach(() => {
    documents = openSqliteDocumentStore({ path: tempPath('folio-lease-', 'readmodels.sqlite') });
    reachable = true;
    stalled = undefined;
    transactions = 0;
  });

  afterEach(async () => {
    await documents.close();
  });

  /** The store as the lease sees it: down or stalled when the test says so. */
  const store = (): DocumentStore =>
    new Proxy(documents, {
      get(target, property) {
        if (property !== 'withTransaction') return Reflect.get(target, property, target) as unknown;
        return async (...args: Parameters<DocumentStore['withTransaction']>) => {
          transactions += 1;
          await stalled;
          if (!reachable) throw new StoreUnavailableError('test: the store is unreachable');
          return target.withTransaction(...args);
        };
      },
    });

  /** A claim on READ_MODEL through the test's store and clock, with what its renewals report. */
  const leaseOf = (kind: 'projector' | 'rebuild', clock: LeaseClock) => {
    const reported: unknown[] = [];
    const lease = createReadModelLease({
      documents: store(),
      readModels: [READ_MODEL],
      kind,
      ttlMs: TTL_MS,
      onRenewalError: (error) => reported.push(error),
      clock,
    });
    return { lease, reported };
  };

  const storedClaims = async (): Promise<LeaseClaim[]> =>
    Object.values((await documents.get<{ _id: string; claims: Record<string, LeaseClaim> }>(LEASES_COLLECTION, READ_MODEL))?.claims ?? {});

  it('stops holding as soon as its time has passed without a renewal, tells its holder, and does not claim again', async () => {
    const { clock, advanceTo } = manualClock();
    const { lease, reported } = leaseOf('rebuild', clock);
    await lease.acquire();
    reachable = false;

    await advanceTo(TTL_MS - 1);
    expect(lease.held()).to.equal(true);
    expect(reported.map((error) => (error as Error).constructor.name)).to.deep.equal(['StoreUnavailableError', 'StoreUnavailableError']);

    await advanceTo(TTL_MS);
    expect(reported.slice(2).map((error) => (error as { type?: string }).type)).to.deep.equal(['read-model-lease-lapsed']);
    expect(reported[2]).to.be.instanceOf(ReadModelLeaseLapsedError);
    expect(lease.held()).to.equal(false);
    expect(() => lease.requireHeld()).to.throw(ReadModelLeaseLapsedError);

    // The store is back, but someone else may have worked on the read model meanwhile.
    reachable = true;
    const attempted = transactions;
    await advanceTo(10 * TTL_MS);
    expect(transactions, 'no renewal after the lapse').to.equal(attempted);
    expect(reported).to.have.length(3);
    expect((await storedClaims()).map((claim) => claim.expiresAt)).to.deep.equal([new Date(TTL_MS).toISOString()]);

    await lease.release();
    expect(await storedClaims()).to.deep.equal([]);
  });

  it('tells its holder of each renewal that succeeded, as of each that failed', async () => {
    const { clock, advanceTo } = manualClock();
    const told: string[] = [];
    const lease = createReadModelLease({
      documents: store(),
      readModels: [READ_MODEL],
      kind: 'projector',
      ttlMs: TTL_MS,
      onRenewalError: () => told.push('failed'),
      onRenewed: () => told.push('renewed'),
      clock,
    });
    await lease.acquire();
    expect(told, 'acquiring is no renewal').to.deep.equal([]);
    await advanceTo(1000);
    reachable = false;
    await advanceTo(2000);
    reachable = true;
    await advanceTo(3000);
    expect(told).to.deep.equal(['renewed', 'failed', 'renewed']);
    await lease.release();
  });

  it('holds as long as renewals succeed, each counted from when it was asked for', async () => {
    const { clock, advanceTo } = manualClock();
    const { lease, reported } = leaseOf('rebuild', clock);
    await lease.acquire();
    // A renewal that fails now and then, never for the whole lease, keeps it.
    for (let time = 500; time <= 10 * TTL_MS; time += 500) {
      reachable = time % 2000 !== 0;
      await advanceTo(time);
      expect(lease.held(), `at ${time} ms`).to.equal(true);
    }
    expect(reported.every((error) => error instanceof StoreUnavailableError)).to.equal(true);
    reachable = true;
    // Renewed every third of the lease; the last one that went through was asked for at 29 s.
    expect((await storedClaims()).map((claim) => Date.parse(claim.expiresAt))).to.deep.equal([29_000 + TTL_MS]);
    await lease.release();
    expect(lease.held()).to.equal(false);
  });

  it('lapses while a renewal hangs, and a renewal that succeeds after the lapse does not bring the claim back', async () => {
    const { clock, advanceTo } = manualClock();
    const { lease, reported } = leaseOf('projector', clock);
    await lease.acquire();
    let resume!: () => void;
    stalled = new Promise((resolve) => {
      resume = resolve;
    });

    await advanceTo(TTL_MS);
    expect(reported).to.have.length(1);
    expect(reported[0]).to.be.instanceOf(ReadModelLeaseLapsedError);
    expect(lease.held()).to.equal(false);

    resume();
    await advanceTo(10 * TTL_MS);
    expect(lease.held(), 'after the hung renewal went through').to.equal(false);
    expect(reported).to.have.length(1);
    await lease.release();
    expect(await storedClaims()).to.deep.equal([]);
  });

  it('claimed again after a lapse, holds on when a renewal asked for before the lapse goes through late', async () => {
    const { clock, advanceTo } = manualClock();
    const { lease, reported } = leaseOf('projector', clock);
    await lease.acquire();
    let resume!: () => void;
    stalled = new Promise((resolve) => {
      resume = resolve;
    });
    await advanceTo(TTL_MS);
    expect(lease.held()).to.equal(false);

    // The store answers again, but the renewal asked for at 1 s still hangs.
    stalled = undefined;
    await advanceTo(5_000);
    await lease.acquire();
    resume();
    await advanceTo(5_001);
    expect(lease.held(), 'the late renewal does not cut the new claim short').to.equal(true);
    expect(reported).to.have.length(1);

    await advanceTo(10 * TTL_MS);
    expect(lease.held(), 'renewed from then on').to.equal(true);
    expect(reported).to.have.length(1);
    await lease.release();
  });
  it('is not released while the store refuses, says so, and renews it no more: it lapses by itself', async () => {
    const { clock, advanceTo } = manualClock();
    const lease = createReadModelLease({ documents: store(), readModels: [READ_MODEL], kind: 'projector', ttlMs: TTL_MS, onRenewalError: () => undefined, clock });
    await lease.acquire();
    reachable = false;
    const released = await lease.release().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(released).to.be.instanceOf(ReadModelLeaseNotReleasedError);
    expect((released as Error).message).to.match(/balances_v1 was not released \(test: the store is unreachable\): it lapses by itself 3 s after its last renewal/);
    expect((released as Error).cause).to.be.instanceOf(StoreUnavailableError);

    const attempted = transactions;
    await advanceTo(10 * TTL_MS);
    expect(transactions, 'no renewal after the release').to.equal(attempted);
    expect(lease.held()).to.equal(false);
  });

  it('gives up releasing once the store has not answered in time, rather than wait for it', async () => {
    const { clock, advanceTo } = manualClock();
    const lease = createReadModelLease({
      documents: store(),
      readModels: [READ_MODEL],
      kind: 'projector',
      ttlMs: TTL_MS,
      releaseTimeoutMs: 500,
      onRenewalError: () => undefined,
      clock,
    });
    await lease.acquire();
    stalled = new Promise(() => undefined);
    let released: unknown = 'pending';
    void lease.release().then(
      () => (released = undefined),
      (error: unknown) => (released = error),
    );
    await advanceTo(499);
    expect(released, 'waits for the store a while').to.equal('pending');
    await advanceTo(500);
    expect(released).to.be.instanceOf(ReadModelLeaseNotReleasedError);
    expect((released as Error).message).to.match(/the store did not answer within 500 ms/);
  });
});

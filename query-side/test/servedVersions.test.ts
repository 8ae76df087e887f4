import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { openSqliteDocumentStore, type DocumentStore, type GlobalPosition } from '@folio/shared';
import {
  balancesProjection,
  CHECKPOINTS_COLLECTION,
  createProjectorGroup,
  createServedReadModels,
  liveCollections,
  projectionDefinitions,
  slowestPosition,
  statusesOf,
  type ProjectorStatus,
} from '@folio/projections';
import { expectProblem, ReadStack, type ApiResponse } from './readStack.js';

/** A sandbox that never calls back by itself: the log holds only what the test writes. */
const quietSandbox = { sandboxFaults: { paymentSilenceRate: 1, payoutSilenceRate: 1, latencyMs: { min: 0, max: 0 } } };

/** Runs projectors until they have caught up with the log, then stops them. */
const catchUp = async (projectors: { start(): Promise<void>; stop(): Promise<void> }) => {
  await projectors.start();
  await projectors.stop();
};

/** Runs the current versions in batches of 2 events and stops them after their first commit, before they have caught up. */
const buildHalf = async (stores: Pick<ReadStack, 'eventStore' | 'documents' | 'searchIndex'>) => {
  let stopped!: (stopping: Promise<void>) => void;
  const stopping = new Promise<Promise<void>>((resolve) => {
    stopped = resolve;
  });
  const projectors = createProjectorGroup({
    ...stores,
    readModels: projectionDefinitions.map((definition) => ({ definition })),
    catchUpBatchSize: 2,
    onCommit: () => stopped(projectors.stop()),
  });
  void projectors.start();
  await (await stopping);
};

/**
 * An upgrade of every read model: the current versions are built from position 0 beside the
 * previous ones, whose projector has stopped. The query side runs apart and knows the projectors
 * from their checkpoints.
 */
describe('read API: read models in an upgrade, read in the old version until the new one has caught up', () => {
  let stack: ReadStack;
  let alice: string;
  let merchant: string;
  let rent: { id: string };
  let payment: { id: string };

  const createPayment = (amount: string) =>
    stack.post('/v1/payments', { merchantAccountId: merchant, amount, currency: 'EUR', provider: 'sandbox' }, 201);
  const balance = async (query = ''): Promise<ApiResponse> => stack.read(`/v1/accounts/${alice}/balance${query}`);
  const found = async (text: string): Promise<string[]> =>
    (await stack.read(`/v1/transactions?q=${text}`)).body.items.map(({ id }: { id: string }) => id);

  before(async () => {
    stack = await ReadStack.start({ projectLater: true, readWaitMs: 300, write: quietSandbox });
    alice = await stack.openAccount();
    const bob = await stack.openAccount();
    merchant = (await stack.post('/v1/accounts', { ownerId: 'shop-1', currency: 'EUR', kind: 'merchant' }, 201)).id;
    await stack.deposit(alice, '10000', 'funding');
    const { eventStore, documents, searchIndex } = stack;
    // The new versions get this far, then their projector stops: half built (a version that has
    // caught up once is read from then on).
    await buildHalf(stack);
    rent = await stack.transfer(alice, bob, '2500', { reference: 'rent march' });
    payment = await createPayment('4000');
    // The old versions hold everything: what the query side read before the upgrade.
    const previous = projectionDefinitions.map((definition) => ({ definition: { ...definition, version: definition.version - 1 } }));
    await catchUp(createProjectorGroup({ eventStore, documents, searchIndex, readModels: previous }));
  });

  after(() => stack.stop());

  it('answers balances, payments and search from the complete old version, and waits for that version', async () => {
    const read = await balance(`?position=${stack.lastWrite}`);
    expect(read.status, read.text).to.equal(200);
    expect(read.body.posted).to.equal('7500');
    expect(BigInt(read.body.position) >= stack.lastWrite).to.equal(true);
    expect(BigInt(read.headers['folio-read-position']!) >= stack.lastWrite).to.equal(true);

    const paid = await stack.read(`/v1/payments/${payment.id}?position=${stack.lastWrite}`);
    expect(paid.status, paid.text).to.equal(200);
    expect(paid.body).to.include({ id: payment.id, amount: '4000' });
    expect((await stack.read(`/v1/payments?merchant=${merchant}`)).body.items.map(({ id }: { id: string }) => id)).to.deep.equal([payment.id]);

    const search = await stack.read(`/v1/transactions?q=rent&position=${stack.lastWrite}`);
    expect(search.status, search.text).to.equal(200);
    expect(search.body.items.map(({ id }: { id: string }) => id)).to.deep.equal([rent.id]);
    expect((await stack.read(`/v1/transactions/${rent.id}`)).status).to.equal(200);
  });

  it('reads the new versions once they have caught up, and not before', async () => {
    const coffee = await stack.transfer(alice, merchant, '500', { reference: 'coffee beans' });
    const later = await createPayment('900');
    // The old versions' projector is stopped: they never reflect these writes.
    const behind = expectProblem(await balance(`?position=${stack.lastWrite}`), 503, 'read-model-behind');
    expect(BigInt(behind.readPosition) < stack.lastWrite).to.equal(true);
    expect((await balance()).body.posted).to.equal('7500');
    expectProblem(await stack.read(`/v1/payments/${later.id}`), 404, 'payment-not-found');
    expect(await found('coffee')).to.deep.equal([]);

    await stack.projections.start();
    const deadline = Date.now() + 5_000;
    while ((await balance()).body.posted !== '7000') {
      expect(Date.now() < deadline, 'the new balances version is read once caught up').to.equal(true);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect((await balance(`?position=${stack.lastWrite}`)).status).to.equal(200);
    expect((await stack.read(`/v1/payments/${later.id}?position=${stack.lastWrite}`)).status).to.equal(200);
    expect(await found('coffee')).to.deep.equal([coffee.id]);
    expect(await found('rent')).to.deep.equal([rent.id]);
  });
});

describe('served read model versions', () => {
  let directory: string;
  let documents: DocumentStore;
  /** The current balances version's progress; the other read models are far ahead. */
  let balancesAt: GlobalPosition | undefined;
  const status = (): ProjectorStatus[] =>
    projectionDefinitions.map(({ name, filter }) => ({
      name,
      position: name === balancesProjection.name ? balancesAt : 1_000n,
      caughtUp: false,
      lastEventAt: undefined,
      filter,
    }));
  const projections = {
    status,
    waitFor: async (target: GlobalPosition, _timeoutMs: number, names?: readonly string[]) =>
      (slowestPosition(statusesOf(status(), names)) ?? -1n) >= target,
  };
  const checkpoint = (id: string, position: bigint) => ({
    _id: id,
    position: position.toString(),
    sortablePosition: position.toString().padStart(20, '0'),
    lastEventAt: null,
  });
  const versionId = (version: number) => `${balancesProjection.name}_v${version}`;
  const collectionsOf = (version: number) => liveCollections({ ...balancesProjection, version });

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'folio-served-'));
    documents = openSqliteDocumentStore({ path: join(directory, 'readmodels.sqlite') });
    balancesAt = undefined;
  });

  afterEach(async () => {
    await documents.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('reads the current version on a fresh install, and a stopped older version until the current one is as far', async () => {
    const fresh = createServedReadModels({ documents, projections, recheckMs: 0 });
    expect((await fresh.serving(balancesProjection)).collections).to.deep.equal(collectionsOf(balancesProjection.version));

    const older = balancesProjection.version - 1;
    await documents.withTransaction(async (session) => {
      await session.put(CHECKPOINTS_COLLECTION, checkpoint(versionId(older), 100n));
      // A newer version than this code's (after a rollback) and a rebuild's checkpoint are no versions to read.
      await session.put(CHECKPOINTS_COLLECTION, checkpoint(versionId(balancesProjection.version + 1), 500n));
      await session.put(CHECKPOINTS_COLLECTION, checkpoint(`${versionId(older)}__rebuild`, 300n));
    });
    const upgrading = createServedReadModels({ documents, projections, recheckMs: 0 });
    balancesAt = 60n;
    const served = await upgrading.serving(balancesProjection);
    expect(served.collections).to.deep.equal(collectionsOf(older));
    expect(served.status).to.include({ position: 100n, caughtUp: false });
    // Waits are for the version read: it has reached 100, the current one only 60.
    expect(await upgrading.waitFor(100n, 1_000)).to.equal(true);
    expect(await upgrading.waitFor(101n, 50)).to.equal(false);
    // A read of another read model waits for that one only.
    expect(await upgrading.waitFor(500n, 50, ['history', 'payments'])).to.equal(true);
    expect(await upgrading.waitFor(500n, 50, ['history', 'balances'])).to.equal(false);

    balancesAt = 100n;
    expect((await upgrading.serving(balancesProjection)).collections).to.deep.equal(collectionsOf(balancesProjection.version));
    // Once read, the current version stays, even if the older one moves on.
    await documents.withTransaction((session) => session.put(CHECKPOINTS_COLLECTION, checkpoint(versionId(older), 200n)));
    expect((await upgrading.serving(balancesProjection)).collections).to.deep.equal(collectionsOf(balancesProjection.version));
  });

  it('reads the current version once its checkpoint records that it has caught up, though an older version is further along', async () => {
    const older = balancesProjection.version - 1;
    balancesAt = 60n;
    await documents.withTransaction(async (session) => {
      await session.put(CHECKPOINTS_COLLECTION, checkpoint(versionId(older), 100n));
      await session.put(CHECKPOINTS_COLLECTION, checkpoint(versionId(balancesProjection.version), 60n));
    });
    const served = createServedReadModels({ documents, projections, recheckMs: 0 });
    expect((await served.serving(balancesProjection)).collections, 'no record: judged by its position').to.deep.equal(collectionsOf(older));

    // Caught up once, then behind an older version moved on (its projector run again, as in a rollback).
    await documents.withTransaction((session) =>
      session.put(CHECKPOINTS_COLLECTION, { ...checkpoint(versionId(balancesProjection.version), 60n), caughtUpOnce: true }),
    );
    const current = await served.serving(balancesProjection);
    expect(current.collections).to.deep.equal(collectionsOf(balancesProjection.version));
    expect(current.status).to.include({ position: 60n });
  });
});

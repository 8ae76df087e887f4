/**
 * The payments read model over a log the real write side wrote with a noisy sandbox provider
 * (failures, duplicate and overtaking callbacks, refunds, payouts): it agrees with the write
 * side's fold of every stream, a replay changes nothing, and a rebuild equals the live model, on
 * every document store adapter.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  collect,
  createMongoDocumentStore,
  openSqliteDocumentStore,
  type DocumentStore,
  type RecordedEvent,
} from '@folio/shared';
import {
  balancesProjection,
  liveCollections,
  paymentsProjection,
  rebuildProjection,
  transactionHistoryProjection,
  type ProjectionDefinition,
} from '@folio/projections';
import { ReadStack } from './readStack.js';

/** A seeded generator, so the sandbox's faults are the same on every run. */
const seeded = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const mongoUrl = process.env.MONGO_URL;
const stores: { kind: string; open: () => DocumentStore }[] = [
  { kind: 'sqlite', open: () => openSqliteDocumentStore({ path: join(mkdtempSync(join(tmpdir(), 'folio-payments-')), 'readmodels.sqlite') }) },
  ...(mongoUrl
    ? [{ kind: 'mongodb', open: () => createMongoDocumentStore({ url: mongoUrl, database: `folio_payments_${randomUUID().replaceAll('-', '').slice(0, 16)}` }) }]
    : []),
];

describe('payments read model over a noisy provider', () => {
  let stack: ReadStack;
  let events: RecordedEvent[];
  const paymentIds: string[] = [];
  const payoutIds: string[] = [];

  before(async function () {
    this.timeout(60_000);
    stack = await ReadStack.start({
      write: {
        sandboxRandom: seeded(11),
        sandboxFaults: { latencyMs: { min: 0, max: 30 }, duplicateRate: 0.3, failureRate: 0.2, payoutFailureRate: 0.3 },
        payoutTimeoutMs: 60_000,
      },
    });
    const merchant = (await stack.post('/v1/accounts', { ownerId: 'shop', currency: 'EUR', kind: 'merchant' }, 201)).id;
    for (let i = 0; i < 12; i++) {
      const payment = await stack.post('/v1/payments', { merchantAccountId: merchant, amount: `${1000 + i * 100}`, currency: 'EUR', provider: 'sandbox' }, 201);
      await stack.post(`/v1/payments/${payment.id}/submit`, {}, 200);
      paymentIds.push(payment.id);
    }
    const stateOf = async (path: string) => (await stack.get(path)).body.state as string;
    for (const id of paymentIds) {
      while (['CREATED', 'PENDING'].includes(await stateOf(`/v1/payments/${id}`))) await sleep(10);
    }
    let refunds = 0;
    for (const id of paymentIds) {
      const payment = (await stack.get(`/v1/payments/${id}`)).body;
      if (payment.allowedTransitions.includes('refund') && refunds++ < 4) {
        await stack.post(`/v1/payments/${id}/refunds`, { amount: refunds % 2 === 0 ? payment.refundable : '100' }, 201);
      }
    }
    for (let i = 0; i < 4; i++) {
      const payout = await stack.post('/v1/payouts', { accountId: merchant, amount: '500', currency: 'EUR', provider: 'sandbox', destination: 'DE02' }, 201);
      payoutIds.push(payout.id);
    }
    for (const id of payoutIds) {
      while (['PENDING', 'SUBMITTED'].includes(await stateOf(`/v1/payouts/${id}`))) await sleep(10);
    }
    // Callbacks the sandbox sent twice may still arrive: let them land before the log is read.
    await sleep(100);
    const head = (await stack.eventStore.headPosition())!;
    expect(await stack.projections.waitFor(head, 10_000)).to.equal(true);
    events = await collect(stack.eventStore.readAll());
  });

  after(() => stack.stop());

  it('answers every payment and payout as the write side folds its stream', async () => {
    const states = new Set<string>();
    for (const [kind, ids] of [['payments', paymentIds], ['payouts', payoutIds]] as const) {
      for (const id of ids) {
        const written = (await stack.get(`/v1/${kind}/${id}`)).body;
        const read = (await stack.read(`/v1/${kind}/${id}?position=${written.position}`)).body;
        expect(read, `${kind} ${id}`).to.deep.equal(written);
        states.add(`${kind}:${written.state}`);
      }
    }
    // The noise took payments and payouts down more than one path.
    expect(states.size, [...states].join(', ')).to.be.at.least(4);
  });

  for (const { kind, open } of stores) {
    it(`on ${kind}: the same events applied twice, in other batches, leave the same read model as the live one`, async () => {
      const documents = open();
      try {
        const collections = { payments: `replay_payments_${kind}`, payouts: `replay_payouts_${kind}` };
        const handler = paymentsProjection.create({ collections, searchIndexes: {} });
        const apply = async (batchSize: number) => {
          for (let i = 0; i < events.length; i += batchSize) {
            await documents.withTransaction((session) => handler.handle(events.slice(i, i + batchSize), session));
          }
        };
        const checksums = async () => [await documents.checksum(collections.payments), await documents.checksum(collections.payouts)];
        await apply(7);
        const once = await checksums();
        await apply(1000);
        await apply(1);
        expect(await checksums()).to.deep.equal(once);
        const live = liveCollections(paymentsProjection);
        expect(once).to.deep.equal([await stack.documents.checksum(live.payments!), await stack.documents.checksum(live.payouts!)]);
        expect(await documents.count(collections.payments)).to.equal(paymentIds.length);
      } finally {
        await documents.close();
      }
    });
  }

  if (mongoUrl === undefined) {
    const notice = 'payments read model on MongoDB SKIPPED: MONGO_URL is not set (set it to run against a server)';
    console.log(`\n  *** ${notice} ***\n`);
    it(notice, function () {
      this.skip();
    });
  }

  it('rebuilds payments, history and balances from the log equal to the live read models', async () => {
    await stack.projections.stop();
    const definitions: ProjectionDefinition[] = [paymentsProjection, transactionHistoryProjection, balancesProjection];
    for (const definition of definitions) {
      const report = await rebuildProjection({
        eventStore: stack.eventStore,
        documents: stack.documents,
        searchIndex: stack.searchIndex,
        definition,
        rebuildId: 'payments-test',
      });
      expect(report.identical, `${definition.name}: ${JSON.stringify(report.checksums)}`).to.equal(true);
    }
  });
});

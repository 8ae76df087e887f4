/**
 * A merchant account is not closed while a payment to it can still bring it money (created or
 * submitted: the customer may be charged any moment) or take money from it (a refund under way):
 * closed, the capture would be booked to suspense and the merchant's money left for manual work.
 */
import { expect } from 'chai';
import { collect, createEventCatalog, deterministicEventId, type GlobalPosition } from '@folio/shared';
import {
  MERCHANT_JOURNALS_CHECKPOINT_STREAM,
  merchantJournalsWaitingCheckpointed,
} from '../../src/payments/merchantJournalsWaiting.js';
import type { ProviderAdapter } from '../../src/providers/providerAdapter.js';
import {
  ApiServer,
  eventually,
  expectProblem,
  headPosition,
  openTempStore,
  uniqueKey,
  type StartApiOptions,
  type TempStore,
} from '../api/apiHarness.js';
import { startTwoInstances, type TwoInstances } from '../concurrency/twoInstances.js';
import { createPayment, expectMoved, move, openMerchant, quietSandbox, SANDBOX_SECRET } from './paymentTestSupport.js';

const close = (api: ApiServer, accountId: string, key?: string) =>
  api.post(`/v1/accounts/${accountId}/close`, {}, key === undefined ? {} : { key });

/** Moves the merchant's whole balance to a customer, so that only what is open keeps it from closing. */
const emptied = async (api: ApiServer, merchant: string, amount: string) => {
  const customer = (await api.openAccount({ kind: 'customer', currency: 'EUR', ownerId: 'customer-1' })).id as string;
  const moved = await api.transfer(merchant, customer, amount);
  expect(moved.status, moved.text).to.equal(201);
};

const expectClosed = async (api: ApiServer, merchant: string) => {
  const closed = await close(api, merchant);
  expect(closed.status, closed.text).to.equal(200);
  expect(closed.body.status).to.equal('closed');
};

describe('closing a merchant account with payments to it open', () => {
  let instances: TwoInstances;

  beforeEach(async () => {
    instances = await startTwoInstances({ api: quietSandbox });
  });
  afterEach(() => instances.close());

  it('refuses to close a merchant account on one instance while a payment submitted on another is open, writing nothing, and closes it once the payment is captured and its money paid out', async () => {
    const merchant = await openMerchant(instances.a);
    const created = await createPayment(instances.a, merchant);
    const payment = expectMoved(await move(instances.a, created.id, 'submit'), 'PENDING');
    const before = await headPosition(instances.store);

    const refused = await close(instances.b, merchant);

    const problem = expectProblem(refused, 409, 'account-payments-open');
    expect(problem.payments).to.deep.equal([{ paymentId: payment.id, awaiting: 'capture' }]);
    expect(problem.detail).to.include('1 payment').and.to.include(payment.id).and.to.include('capture or fail');
    expect(refused.headers['retry-after']).to.equal(undefined);
    expect(await headPosition(instances.store)).to.equal(before);
    expect((await instances.a.account(merchant)).status).to.equal('active');

    expectMoved(await move(instances.a, payment.id, 'capture'), 'PAID');
    await emptied(instances.a, merchant, '10000');
    await expectClosed(instances.b, merchant);
  });

  it('remembers the refusal under its Idempotency-Key, as a close refused for journals waiting is, and closes under a new key once the created payment failed', async () => {
    const merchant = await openMerchant(instances.a);
    const payments = [await createPayment(instances.a, merchant), await createPayment(instances.a, merchant)];
    expectMoved(await move(instances.a, payments[1].id, 'submit'), 'PENDING');
    const key = uniqueKey('close');

    const problem = expectProblem(await close(instances.b, merchant, key), 409, 'account-payments-open');
    expect(problem.payments.map((open: { paymentId: string }) => open.paymentId).sort()).to.deep.equal(payments.map(({ id }) => id).sort());
    expect(problem.detail).to.include('2 payments');
    for (const payment of payments) expectMoved(await move(instances.a, payment.id, 'fail', { reason: 'customer left' }), 'FAILED');
    const replayed = await close(instances.b, merchant, key);
    expectProblem(replayed, 409, 'account-payments-open');
    expect(replayed.headers['idempotent-replayed']).to.equal('true');

    await expectClosed(instances.a, merchant);
  });
});

describe('closing a merchant account with a refund awaiting the provider', () => {
  let temp: TempStore;
  let api: ApiServer;
  /** The provider's next refund request fails as a lost answer would. */
  let refundAnswerLost: boolean;

  const provider: ProviderAdapter = {
    provider: 'sandbox',
    submitPayment: async ({ paymentId }) => ({ providerRef: `pi_${paymentId}` }),
    async refundPayment({ refundId }) {
      if (refundAnswerLost) {
        refundAnswerLost = false;
        throw new Error('timed out');
      }
      return { providerRefundRef: `re_${refundId}` };
    },
    findPayment: () => Promise.reject(new Error('no references given in these tests')),
    submitPayout: () => Promise.reject(new Error('no payouts in these tests')),
  };

  beforeEach(async () => {
    refundAnswerLost = false;
    temp = openTempStore();
    api = await ApiServer.start(temp.store, { sandboxProviders: [], providers: [{ adapter: provider, secret: SANDBOX_SECRET }] });
  });
  afterEach(async () => {
    await api.stop();
    await temp.dispose();
  });

  it('refuses to close a merchant account at zero while a refund of a paid payment to it awaits the provider, and closes it once the refund is booked and covered', async () => {
    // The overdraft lets the merchant pay the refund once its balance was paid out.
    const merchant = (await api.openAccount({ kind: 'merchant', currency: 'EUR', ownerId: 'merchant-1', overdraftLimit: '2500' })).id as string;
    const created = await createPayment(api, merchant);
    expectMoved(await move(api, created.id, 'submit'), 'PENDING');
    expectMoved(await move(api, created.id, 'capture'), 'PAID');
    await emptied(api, merchant, '10000');
    const refundKey = uniqueKey('refund');
    refundAnswerLost = true;
    expectProblem(await move(api, created.id, 'refunds', { amount: '2500' }, refundKey), 502, 'provider-unavailable');

    const problem = expectProblem(await close(api, merchant), 409, 'account-payments-open');

    expect(problem.payments).to.deep.equal([{ paymentId: created.id, awaiting: 'refund' }]);
    const refunded = await move(api, created.id, 'refunds', { amount: '2500' }, refundKey);
    expect(refunded.status, refunded.text).to.equal(201);
    expect((await api.account(merchant)).balance.posted).to.equal('-2500');
    expect((await api.deposit(merchant, '2500')).status).to.equal(201);
    await expectClosed(api, merchant);
  });
});

describe('payments open on merchant accounts after a restart', () => {
  let temp: TempStore;
  let api: ApiServer | undefined;

  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(async () => {
    await api?.stop();
    await temp.dispose();
  });

  const submittedPayment = async (options: StartApiOptions = {}) => {
    api = await ApiServer.start(temp.store, { ...quietSandbox, ...options });
    const merchant = await openMerchant(api);
    const created = await createPayment(api, merchant);
    const payment = expectMoved(await move(api, created.id, 'submit'), 'PENDING');
    return { merchant, payment };
  };

  const restarted = async () => {
    await api!.stop();
    api = await ApiServer.start(temp.store, quietSandbox);
    return api;
  };

  it('counts a payment created before the merchant journals checkpoint held payments: a start from such a checkpoint folds the whole log', async () => {
    const { merchant, payment } = await submittedPayment();
    await api!.stop();
    api = undefined;
    const position = (await headPosition(temp.store)) as GlobalPosition;
    await temp.store.appendToStream(MERCHANT_JOURNALS_CHECKPOINT_STREAM, [
      createEventCatalog([merchantJournalsWaitingCheckpointed]).encode({
        type: merchantJournalsWaitingCheckpointed.type,
        id: deterministicEventId(MERCHANT_JOURNALS_CHECKPOINT_STREAM, position.toString()),
        version: merchantJournalsWaitingCheckpointed.version,
        data: { position, journals: [] },
        metadata: { $correlationId: 'merchant-journals', actor: 'folio:merchant-journals', occurredAt: new Date().toISOString() },
      }),
    ]);
    const warnings: string[] = [];
    api = await ApiServer.start(temp.store, { ...quietSandbox, onWarning: (message) => warnings.push(message) });

    const problem = expectProblem(await close(api, merchant), 409, 'account-payments-open');

    expect(problem.payments).to.deep.equal([{ paymentId: payment.id, awaiting: 'capture' }]);
    expect(warnings).to.include('merchant journals checkpoint ignored, folding the whole log');
  });

  it('keeps the payments open in its checkpoints: a start from one refuses the close until the payment is captured', async () => {
    const { merchant, payment } = await submittedPayment({ recoveryCheckpoint: { everyMs: 0 } });
    await eventually(async () => {
      const latest = await collect(temp.store.readStream(MERCHANT_JOURNALS_CHECKPOINT_STREAM, { direction: 'backwards', maxCount: 1 }))
        .then(([event]) => event)
        .catch(() => undefined);
      return ((latest?.data as { payments?: unknown[] } | undefined)?.payments?.length ?? 0) > 0;
    }, 'a checkpoint holding the payment');
    const again = await restarted();

    expectProblem(await close(again, merchant), 409, 'account-payments-open');

    expectMoved(await move(again, payment.id, 'capture'), 'PAID');
    await emptied(again, merchant, '10000');
    await expectClosed(again, merchant);
  });
});

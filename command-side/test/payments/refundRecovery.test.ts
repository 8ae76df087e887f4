/**
 * Refunds whose provider answer was lost and whose client never retries. The reservation on the
 * payment's stream would hold its amount and the payment's settlement forever: refund recovery
 * asks the provider again under the same refund id (its idempotency key there) once the answer is
 * overdue, and records the answer as the request would have. Time is the write API's injected
 * clock, and the recovery's passes are run by the tests, never by a timer.
 */
import { expect } from 'chai';
import { collect, paymentStream, type EventStore } from '@folio/shared';
import type { ProviderAdapter } from '../../src/providers/providerAdapter.js';
import { ProviderRefusedError } from '../../src/providers/providerErrors.js';
import { REFUND_RECOVERY_CHECKPOINT_STREAM } from '../../src/payments/refundRecovery.js';
import { ApiServer, expectProblem, openTempStore, readAllEvents, uniqueKey, type TempStore } from '../api/apiHarness.js';
import { expectBooksRight, startTwoInstances, type TwoInstances } from '../concurrency/twoInstances.js';
import { interceptAppends, noPeriodicCheck, recordSubscriptions, steppedClock } from '../commandHandling/testSupport.js';
import { clearingId, createPayment, expectMoved, move, openMerchant, postedOf, SANDBOX_SECRET } from './paymentTestSupport.js';

const RETRY_MS = 60_000;

/** How the fake provider answers a refund request: each request takes the next, then `take`. */
type Answer = 'take' | 'take-then-time-out' | 'time-out' | 'decline';


describe('refunds whose provider answer was lost, asked again without a client retry', () => {
  const { clock, advance, reset: resetClock } = steppedClock();
  /** Every request for a refund the provider got, by refund id, repeats included. */
  let requests: string[];
  /** What the provider paid back, by Folio's refund id. */
  let refunded: Map<string, bigint>;
  let answers: Answer[];
  /** Set to make requests wait for it before they are answered. */
  let heldRequests: { count: number; arrived: (() => void)[] } | undefined;

  const provider: ProviderAdapter = {
    provider: 'sandbox',
    submitPayment: async ({ paymentId }) => ({ providerRef: `pi_${paymentId}` }),
    async refundPayment({ refundId, amount }) {
      requests.push(refundId);
      const held = heldRequests;
      if (held !== undefined) {
        await new Promise<void>((go) => {
          held.arrived.push(go);
          if (held.arrived.length < held.count) return;
          heldRequests = undefined;
          for (const release of held.arrived) release();
        });
      }
      const answer = answers.shift() ?? 'take';
      if (answer === 'decline') throw new ProviderRefusedError('the card account is closed');
      if (answer === 'time-out') throw new Error('timed out');
      // Idempotent by refund id: asked again, it pays back nothing more.
      if (!refunded.has(refundId)) refunded.set(refundId, amount);
      if (answer === 'take-then-time-out') throw new Error('timed out');
      return { providerRefundRef: `re_${refundId}` };
    },
    findPayment: () => Promise.reject(new Error('no references given in these tests')),
    submitPayout: () => Promise.reject(new Error('no payouts in these tests')),
  };

  /** What the write side warned an operator of. */
  let warnings: string[];
  const apiOptions = {
    clock,
    sandboxProviders: [],
    providers: [{ adapter: provider, secret: SANDBOX_SECRET }],
    refundRetryMs: RETRY_MS,
    refundRecoveryChecks: noPeriodicCheck,
    onWarning: (message: string) => warnings.push(message),
  };

  beforeEach(() => {
    resetClock();
    requests = [];
    refunded = new Map();
    answers = [];
    heldRequests = undefined;
    warnings = [];
  });

  const paidPayment = async (api: ApiServer) => {
    const merchant = await openMerchant(api);
    const payment = await createPayment(api, merchant);
    expectMoved(await move(api, payment.id, 'submit'), 'PENDING');
    expectMoved(await move(api, payment.id, 'capture'), 'PAID');
    return { merchant, paymentId: payment.id as string };
  };

  /** A refund of 4000 whose provider answer is lost (the provider answers `answer`): 502, the amount reserved. */
  const lostRefund = async (api: ApiServer, paymentId: string, answer: Answer) => {
    answers = [answer];
    const key = uniqueKey('refund');
    expectProblem(await move(api, paymentId, 'refunds', { amount: '4000' }, key), 502, 'provider-unavailable');
    const [refundId] = requests;
    return { key, refundId: refundId! };
  };

  const view = async (api: ApiServer, paymentId: string) => {
    const response = await api.get(`/v1/payments/${paymentId}`);
    expect(response.status, response.text).to.equal(200);
    return response.body;
  };

  const eventsOfPayment = async (store: EventStore, paymentId: string) =>
    (await collect(store.readStream(paymentStream(paymentId)))).map((event) => event.type);

  describe('on one write API', () => {
    let temp: TempStore;
    let api: ApiServer;

    beforeEach(async () => {
      temp = openTempStore(clock);
      api = await ApiServer.start(temp.store, apiOptions);
    });
    afterEach(async () => {
      await api.stop();
      await temp.dispose();
    });

    it('shows a refund awaiting the provider on the payment, with its amount and since when', async () => {
      const { paymentId } = await paidPayment(api);
      const reservedAt = clock().getTime();
      const { refundId } = await lostRefund(api, paymentId, 'time-out');
      const payment = await view(api, paymentId);
      expect(payment).to.include({ state: 'PAID', refunded: '0', refundable: '6000' });
      expect(payment.refundsAwaitingProvider).to.have.length(1);
      const [awaiting] = payment.refundsAwaitingProvider;
      expect(awaiting).to.include({ refundId, amount: '4000' });
      expect(Date.parse(awaiting.since)).to.be.within(reservedAt, clock().getTime());
    });

    it('books a refund the provider took once its lost answer is overdue, with no retry from the client', async () => {
      const { merchant, paymentId } = await paidPayment(api);
      const { key, refundId } = await lostRefund(api, paymentId, 'take-then-time-out');

      // Not overdue yet: the client may still retry, and the provider is not asked.
      advance(RETRY_MS - 1_000);
      await api.writeApi.recoverRefunds();
      expect(requests).to.deep.equal([refundId]);
      expect((await view(api, paymentId)).refundsAwaitingProvider).to.have.length(1);

      advance(1_000);
      await api.writeApi.recoverRefunds();
      expect(requests, 'asked again under the same refund id').to.deep.equal([refundId, refundId]);
      const payment = await view(api, paymentId);
      expect(payment).to.include({ state: 'PAID', refunded: '4000', refundable: '6000' });
      expect(payment.refundsAwaitingProvider).to.deep.equal([]);
      expect(payment.refundsInFlight).to.deep.equal([]);
      expect(await postedOf(api, merchant)).to.equal(6_000n);
      expect(await postedOf(api, clearingId())).to.equal(-6_000n);
      expect([...refunded.values()]).to.deep.equal([4_000n]);
      const types = await eventsOfPayment(temp.store, paymentId);
      expect(types.filter((type) => type === 'PaymentRefunded')).to.have.length(1);
      await expectBooksRight(temp.store);

      // Recovered, nothing is due any more, and the client's late retry books nothing more.
      advance(RETRY_MS * 10);
      await api.writeApi.recoverRefunds();
      const retried = await move(api, paymentId, 'refunds', { amount: '4000' }, key);
      expect(retried.status, retried.text).to.equal(201);
      expect(retried.body.payment).to.include({ refunded: '4000' });
      expect(requests).to.have.length(2);
      expect(await postedOf(api, merchant)).to.equal(6_000n);

      // The settlement it held off goes through.
      expect(expectMoved(await move(api, paymentId, 'settle', { fee: '100' }), 'SETTLED')).to.include({ net: '5900' });
      await expectBooksRight(temp.store);
    });

    it('releases the reservation when the provider declines the refund asked again, and the settlement proceeds', async () => {
      const { merchant, paymentId } = await paidPayment(api);
      const { refundId } = await lostRefund(api, paymentId, 'time-out');
      expectProblem(await move(api, paymentId, 'settle', { fee: '100' }), 409, 'illegal-payment-transition');

      answers = ['decline'];
      advance(RETRY_MS);
      await api.writeApi.recoverRefunds();
      expect(requests).to.deep.equal([refundId, refundId]);
      const payment = await view(api, paymentId);
      expect(payment).to.include({ state: 'PAID', refunded: '0', refundable: '10000' });
      expect(payment.refundsAwaitingProvider).to.deep.equal([]);
      expect(refunded.size).to.equal(0);
      expect(await eventsOfPayment(temp.store, paymentId)).to.include('PaymentRefundFailed');

      expect(expectMoved(await move(api, paymentId, 'settle', { fee: '100' }), 'SETTLED')).to.include({ net: '9900' });
      expect(await postedOf(api, merchant)).to.equal(10_000n);
      // Declined once, asked no more.
      advance(RETRY_MS * 10);
      await api.writeApi.recoverRefunds();
      expect(requests).to.have.length(2);
      await expectBooksRight(temp.store);
    });

    it('keeps the reservation while the provider stays unreachable, asking again later each time', async () => {
      const { merchant, paymentId } = await paidPayment(api);
      const { refundId } = await lostRefund(api, paymentId, 'time-out');

      answers = ['time-out'];
      advance(RETRY_MS);
      await api.writeApi.recoverRefunds();
      expect(requests).to.have.length(2);
      const held = await view(api, paymentId);
      expect(held).to.include({ refunded: '0', refundable: '6000' });
      expect(held.refundsAwaitingProvider.map((refund: { refundId: string }) => refund.refundId)).to.deep.equal([refundId]);
      expectProblem(await move(api, paymentId, 'settle', { fee: '100' }), 409, 'illegal-payment-transition');
      expect(warnings.filter((warning) => warning.includes(`refund ${refundId} of 4000 on payment ${paymentId}`))).to.have.length(1);

      // Asked again two retry delays after the failed attempt, not at the next check.
      answers = ['time-out'];
      advance(RETRY_MS);
      await api.writeApi.recoverRefunds();
      expect(requests, 'backing off').to.have.length(2);
      advance(RETRY_MS);
      await api.writeApi.recoverRefunds();
      expect(requests).to.have.length(3);

      // Then four: the provider, back by now, takes it.
      advance(3 * RETRY_MS);
      await api.writeApi.recoverRefunds();
      expect(requests, 'backing off further').to.have.length(3);
      advance(RETRY_MS);
      await api.writeApi.recoverRefunds();
      expect(requests).to.deep.equal([refundId, refundId, refundId, refundId]);
      const payment = await view(api, paymentId);
      expect(payment).to.include({ refunded: '4000', refundable: '6000' });
      expect(payment.refundsAwaitingProvider).to.deep.equal([]);
      expect(await postedOf(api, merchant)).to.equal(6_000n);
      await expectBooksRight(temp.store);
    });

    it('looks for overdue reservations on its periodic check, until stopped', async () => {
      await api.stop();
      let check: (() => void) | undefined;
      let checkEveryMs: number | undefined;
      let cancelled = false;
      api = await ApiServer.start(temp.store, {
        ...apiOptions,
        refundRecoveryChecks: (run, everyMs) => {
          check = run;
          checkEveryMs = everyMs;
          return () => (cancelled = true);
        },
      });
      expect(checkEveryMs).to.equal(10_000);
      const { paymentId } = await paidPayment(api);
      await lostRefund(api, paymentId, 'take-then-time-out');
      advance(RETRY_MS);
      check!();
      // A pass asked for while one runs joins it.
      await api.writeApi.recoverRefunds();
      expect(requests).to.have.length(2);
      expect(await view(api, paymentId)).to.include({ refunded: '4000' });
      await api.stop();
      expect(cancelled).to.equal(true);
      api = await ApiServer.start(temp.store, apiOptions);
    });

    it('finds a reservation a stopped process left open when the next one starts, from its checkpoint', async () => {
      const { merchant, paymentId } = await paidPayment(api);
      const { refundId } = await lostRefund(api, paymentId, 'take-then-time-out');
      expect((await view(api, paymentId)).refundsAwaitingProvider).to.have.length(1);
      await api.stop();
      const checkpoints = await collect(temp.store.readStream(REFUND_RECOVERY_CHECKPOINT_STREAM));
      const reserved = (await readAllEvents(temp.store)).find((event) => event.type === 'PaymentRefundRequested')!;
      expect(checkpoints.at(-1)?.data, 'checkpointed on stop').to.deep.include({
        refunds: [{ paymentId, refundId, amount: '4000', requestedAt: (reserved.data as { requestedAt: string }).requestedAt }],
      });

      // The next start follows the log after the checkpoint only.
      const watched = recordSubscriptions(temp.store, (subscribe) => subscribe?.filter?.eventTypePrefixes?.includes('PaymentRefund') ?? false);
      api = await ApiServer.start(temp.store, { ...apiOptions, eventStore: watched.store });
      advance(RETRY_MS);
      await api.writeApi.recoverRefunds();
      expect(watched.from).to.deep.equal([BigInt((checkpoints.at(-1)!.data as { position: string }).position)]);
      expect(requests).to.deep.equal([refundId, refundId]);
      expect(await view(api, paymentId)).to.include({ refunded: '4000' });
      expect(await postedOf(api, merchant)).to.equal(6_000n);
      await expectBooksRight(temp.store);
    });
  });

  describe('on two write API instances', () => {
    let instances: TwoInstances;
    /** Appends of the refund's money (`PaymentRefunded`) wait until both instances make theirs. */
    let bothComplete: { count: number; arrived: (() => void)[] } | undefined;

    const gated = (store: EventStore) =>
      interceptAppends(store, async (call, proceed) => {
        const gate = bothComplete;
        if (gate !== undefined && call.streamName.startsWith('payment-') && call.events.some((event) => event.type === 'PaymentRefunded')) {
          await new Promise<void>((go) => {
            gate.arrived.push(go);
            if (gate.arrived.length < gate.count) return;
            bothComplete = undefined;
            for (const release of gate.arrived) release();
          });
        }
        return proceed();
      });

    beforeEach(async () => {
      bothComplete = undefined;
      instances = await startTwoInstances({ api: apiOptions, wrap: { a: gated, b: gated } });
    });
    afterEach(async () => {
      await instances.close();
    });

    it('books the refund once when both instances ask the provider again at the same time', async () => {
      const { a, b, store } = instances;
      const { merchant, paymentId } = await paidPayment(a);
      const { refundId } = await lostRefund(a, paymentId, 'take-then-time-out');
      // Both know the reservation before either asks again.
      expect((await view(b, paymentId)).refundsAwaitingProvider).to.have.length(1);

      advance(RETRY_MS);
      // Both are at the provider at once, then both record its answer and post the refund.
      heldRequests = { count: 2, arrived: [] };
      bothComplete = { count: 2, arrived: [] };
      await Promise.all([a.writeApi.recoverRefunds(), b.writeApi.recoverRefunds()]);
      expect(requests).to.deep.equal([refundId, refundId, refundId]);
      expect(bothComplete, 'both instances posted the refund').to.equal(undefined);

      for (const api of [a, b]) {
        const payment = await view(api, paymentId);
        expect(payment).to.include({ refunded: '4000', refundable: '6000' });
        expect(payment.refundsAwaitingProvider).to.deep.equal([]);
      }
      expect([...refunded.values()]).to.deep.equal([4_000n]);
      expect(await postedOf(a, merchant)).to.equal(6_000n);
      expect(await postedOf(a, clearingId())).to.equal(-6_000n);
      const types = await eventsOfPayment(store, paymentId);
      expect(types.filter((type) => type === 'PaymentRefundAccepted')).to.have.length(1);
      expect(types.filter((type) => type === 'PaymentRefunded')).to.have.length(1);
      const journals = (await readAllEvents(store)).filter(
        (event) => event.type === 'JournalCompleted' && (event.data as { journalId?: string }).journalId === refundId,
      );
      expect(journals).to.have.length(1);
      await expectBooksRight(store);
    });
  });
});

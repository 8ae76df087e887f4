/**
 * Refunds asked of the provider by two instances of the write API on one log. Each instance checks
 * a refund against the payment as it last saw it; only the payment's stream knows what the other
 * instance decided meanwhile. The provider must be asked only for a refund the stream holds, so it
 * never pays back money the books do not hold as refunded.
 */
import { expect } from 'chai';
import type { EventStore } from '@folio/shared';
import type { ProviderAdapter } from '../../src/providers/providerAdapter.js';
import { interceptAppends } from '../commandHandling/testSupport.js';
import { expectBooksBalanced, expectProblem, uniqueKey, type ApiResponse, type ApiServer } from '../api/apiHarness.js';
import { startTwoInstances, type TwoInstances } from '../concurrency/twoInstances.js';
import { clearingId, createPayment, expectMoved, move, openMerchant, postedOf, SANDBOX_SECRET } from './paymentTestSupport.js';

interface Arrival {
  type: string;
  go: () => void;
  wasWritten: Promise<void>;
}

describe('refunds asked of the provider by two write API instances', () => {
  let instances: TwoInstances;
  let first: ApiServer;
  let second: ApiServer;
  /** The refunds the provider was asked for, by Folio's refund id (its idempotency key there): what it paid back. */
  let asked: Map<string, bigint>;
  /** Every request for a refund the provider got, repeats included. */
  let requests: number;
  /** The provider takes the next refund, then the call fails as a timeout would. */
  let timeOutAfterTaking: boolean;
  /**
   * Appends to a payment stream of these event types (one arrival each, repeats included) wait
   * until all arrived, then go in this order, each once the one before it was written: every
   * instance decided on the payment as it was before any of them.
   */
  let gate: { order: string[]; arrived: Arrival[] } | undefined;

  const provider: ProviderAdapter = {
    provider: 'sandbox',
    submitPayment: async ({ paymentId }) => ({ providerRef: `pi_${paymentId}` }),
    async refundPayment({ refundId, amount }) {
      requests += 1;
      asked.set(refundId, amount);
      if (timeOutAfterTaking) {
        timeOutAfterTaking = false;
        throw new Error('timed out');
      }
      return { providerRefundRef: `re_${refundId}` };
    },
    findPayment: () => Promise.reject(new Error('no references given in these tests')),
    submitPayout: () => Promise.reject(new Error('no payouts in these tests')),
  };

  const gated = (store: EventStore) =>
    interceptAppends(store, async (call, proceed) => {
      const current = gate;
      const type = call.events.find((event) => current?.order.includes(event.type))?.type;
      if (current === undefined || type === undefined || !call.streamName.startsWith('payment-')) return proceed();
      let written!: () => void;
      const wasWritten = new Promise<void>((resolve) => (written = resolve));
      await new Promise<void>((go) => {
        current.arrived.push({ type, go, wasWritten });
        if (current.arrived.length < current.order.length) return;
        gate = undefined;
        const rank = (arrival: Arrival) => current.order.indexOf(arrival.type);
        const queue = [...current.arrived].sort((a, b) => rank(a) - rank(b));
        void (async () => {
          for (const arrival of queue) {
            arrival.go();
            await arrival.wasWritten;
          }
        })();
      });
      try {
        return await proceed();
      } finally {
        written();
      }
    });

  beforeEach(async () => {
    asked = new Map();
    requests = 0;
    timeOutAfterTaking = false;
    gate = undefined;
    const options = { sandboxProviders: [], providers: [{ adapter: provider, secret: SANDBOX_SECRET }] };
    instances = await startTwoInstances({ api: options, wrap: { a: gated, b: gated } });
    ({ a: first, b: second } = instances);
  });
  afterEach(async () => {
    await instances.close();
  });

  const paidPayment = async () => {
    const merchant = await openMerchant(first);
    const payment = await createPayment(first, merchant);
    expectMoved(await move(first, payment.id, 'submit'), 'PENDING');
    expectMoved(await move(first, payment.id, 'capture'), 'PAID');
    // The second instance knows the payment as it was before the race.
    expect((await second.get(`/v1/payments/${payment.id}`)).body.state).to.equal('PAID');
    return { merchant, payment };
  };

  const providerRefunded = () => [...asked.values()].reduce((sum, amount) => sum + amount, 0n);

  /** The provider paid back exactly what the books hold as refunded, and the money followed. */
  const expectBooksHoldWhatTheProviderRefunded = async (merchant: string, paymentId: string) => {
    const refunded = providerRefunded();
    for (const api of [first, second]) {
      expect((await api.get(`/v1/payments/${paymentId}`)).body).to.include({
        refunded: refunded.toString(),
        refundable: (10_000n - refunded).toString(),
      });
    }
    expect(await postedOf(first, merchant)).to.equal(10_000n - refunded);
    await expectBooksBalanced(instances.store);
  };

  /** Two refunds of 6000 of a payment of 10000, one to each instance, both checked before either is written. */
  const raceRefunds = async (paymentId: string): Promise<ApiResponse[]> => {
    gate = { order: ['PaymentRefundRequested', 'PaymentRefundRequested'], arrived: [] };
    return Promise.all([
      move(first, paymentId, 'refunds', { amount: '6000' }),
      move(second, paymentId, 'refunds', { amount: '6000' }),
    ]);
  };

  it('asks the provider only for the refund the books hold when two refunds over the refundable amount race', async () => {
    const { merchant, payment } = await paidPayment();
    const answers = await raceRefunds(payment.id);
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses, answers.map((answer) => answer.text).join('\n')).to.deep.equal([201, 422]);
    const refused = answers.find((answer) => answer.status === 422)!;
    expect(refused.body.type, refused.text).to.equal('urn:folio:problem:refund-exceeds-captured');
    expect(requests, 'requests to the provider').to.equal(1);
    await expectBooksHoldWhatTheProviderRefunded(merchant, payment.id);
  });

  it('holds a refund whose provider answer was lost against other refunds and settlements until its retry books it once', async () => {
    const { merchant, payment } = await paidPayment();
    const key = uniqueKey('refund');
    timeOutAfterTaking = true;
    const lost = await move(first, payment.id, 'refunds', { amount: '4000' }, key);
    expectProblem(lost, 502, 'provider-unavailable');
    // Reads on either instance neither ask the provider again nor post money it may not have paid back.
    for (const api of [first, second]) {
      expect((await api.get(`/v1/payments/${payment.id}`)).body).to.include({ refunded: '0', refundable: '6000' });
    }
    expect(await postedOf(first, merchant)).to.equal(10_000n);
    // The reservation holds its amount on the other instance too: nothing the provider may have
    // refunded can be refunded or settled again.
    expectProblem(await move(second, payment.id, 'refunds', { amount: '7000' }), 422, 'refund-exceeds-captured');
    expectProblem(await move(second, payment.id, 'settle', { fee: '100' }), 409, 'illegal-payment-transition');
    expect(requests, 'requests to the provider').to.equal(1);

    const retried = await move(first, payment.id, 'refunds', { amount: '4000' }, key);
    expect(retried.status, retried.text).to.equal(201);
    expect(retried.body.payment).to.include({ refunded: '4000', refundable: '6000' });
    // Asked again under the same refund id, the provider's idempotency key: one refund there.
    expect([...asked.keys()]).to.deep.equal([retried.body.refundId]);
    expect(requests, 'requests to the provider').to.equal(2);
    await expectBooksHoldWhatTheProviderRefunded(merchant, payment.id);
  });

  for (const winner of ['the settlement', 'the refund'] as const) {
    it(`asks the provider for no refund the books refuse when a refund races a settlement and ${winner} is written first`, async () => {
      const { merchant, payment } = await paidPayment();
      const order = ['PaymentSettlementStarted', 'PaymentRefundRequested'];
      gate = { order: winner === 'the settlement' ? order : order.reverse(), arrived: [] };
      const [refund, settlement] = await Promise.all([
        move(first, payment.id, 'refunds', { amount: '4000' }),
        move(second, payment.id, 'settle', { fee: '100' }),
      ]);
      const view = (await first.get(`/v1/payments/${payment.id}`)).body;
      if (winner === 'the settlement') {
        expect(settlement.status, settlement.text).to.equal(200);
        expect(refund.status, refund.text).to.equal(409);
        expect(requests, 'requests to the provider').to.equal(0);
        expect(view).to.include({ state: 'SETTLED', refunded: '0', fee: '100', net: '9900' });
      } else {
        expect(refund.status, refund.text).to.equal(201);
        expect(settlement.status, settlement.text).to.equal(409);
        expect(requests, 'requests to the provider').to.equal(1);
        expect(view).to.include({ state: 'PAID', refunded: '4000' });
        expect(await postedOf(first, clearingId())).to.equal(-6_000n);
      }
      await expectBooksHoldWhatTheProviderRefunded(merchant, payment.id);
    });
  }
});

/**
 * A refund the provider took while Folio could not record its answer (the provider timed out after
 * taking it, or the process stopped before the record): the provider's callback for it books it
 * first, and the client's retry with the same key must then find it, not refund it a second time.
 */
import { expect } from 'chai';
import type { ProviderAdapter } from '../../src/providers/providerAdapter.js';
import { ApiServer, expectBooksBalanced, uniqueKey } from '../api/apiHarness.js';
import { openTempStore, type TempStore } from '../tempEventStore.js';
import {
  clearingId,
  createPayment,
  expectMoved,
  move,
  openMerchant,
  paymentCallback,
  postedOf,
  sendCallback,
  startApiFailingOnce,
} from './paymentTestSupport.js';

describe('refunds the provider reports before Folio recorded them', () => {
  let temp: TempStore;
  let api: ApiServer;
  let failing: { type: string | undefined };
  /** Refunds the provider took, by its reference, with their amounts: what it pays back. */
  let taken: Map<string, bigint>;
  /** The provider takes the next refund, then the call fails as a timeout would. */
  let timeOutAfterTaking: boolean;

  const provider: ProviderAdapter = {
    provider: 'sandbox',
    submitPayment: async ({ paymentId }) => ({ providerRef: `pi_${paymentId}` }),
    async refundPayment({ refundId, amount }) {
      const providerRefundRef = `re_${refundId}`;
      if (!taken.has(providerRefundRef)) taken.set(providerRefundRef, amount);
      if (timeOutAfterTaking) {
        timeOutAfterTaking = false;
        throw new Error('timed out');
      }
      return { providerRefundRef };
    },
    findPayment: () => Promise.reject(new Error('no references given in these tests')),
    submitPayout: () => Promise.reject(new Error('no payouts in these tests')),
  };

  beforeEach(async () => {
    temp = openTempStore();
    taken = new Map();
    timeOutAfterTaking = false;
    ({ api, failing } = await startApiFailingOnce(temp, provider));
  });
  afterEach(async () => {
    await api.stop();
    await temp.dispose();
  });

  const paidPayment = async (merchant: string) => {
    const payment = await createPayment(api, merchant);
    expectMoved(await move(api, payment.id, 'submit'), 'PENDING');
    return expectMoved(await move(api, payment.id, 'capture'), 'PAID');
  };

  const providerRefunded = () => [...taken.values()].reduce((sum, amount) => sum + amount, 0n);

  /** The provider's callback for each refund it took, as it sends them. */
  const confirmRefunds = async (payment: { id: string; providerRef?: string | null }) => {
    for (const [refundReference, amount] of taken) {
      const callback = paymentCallback('payment.refunded', payment, { amount: amount.toString(), refundReference });
      const response = await sendCallback(api, callback);
      expect(response.status, response.text).to.equal(200);
    }
  };

  for (const interruption of ['the provider timing out', 'the record failing'] as const) {
    it(`books once a refund the provider confirms after ${interruption}, and its retry with the same key`, async () => {
      const merchant = await openMerchant(api);
      const payment = await paidPayment(merchant);
      const key = uniqueKey('refund');
      if (interruption === 'the provider timing out') timeOutAfterTaking = true;
      else failing.type = 'PaymentRefundAccepted';
      const first = await move(api, payment.id, 'refunds', { amount: '4000' }, key);
      expect(first.status, first.text).to.be.at.least(500);
      expect(await postedOf(api, merchant)).to.equal(10_000n);

      await confirmRefunds(payment);
      expect(await postedOf(api, merchant)).to.equal(6_000n);

      const retried = await move(api, payment.id, 'refunds', { amount: '4000' }, key);
      expect(retried.status, retried.text).to.equal(201);
      expect(retried.body.payment).to.include({ refunded: '4000', refundable: '6000' });
      expect(providerRefunded()).to.equal(4_000n);
      expect(await postedOf(api, merchant)).to.equal(6_000n);
      expect(await postedOf(api, clearingId())).to.equal(-6_000n);
      await expectBooksBalanced(temp.store);
    });
  }
});

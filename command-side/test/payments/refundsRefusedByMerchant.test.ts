/**
 * Refunds the merchant's account refuses (frozen, or its money spent): refused with nothing
 * written while the provider has not been asked; once the provider has refunded, the refund is
 * paid from suspense and the payment flagged for reconciliation, never recorded as failed.
 */
import { expect } from 'chai';
import { collect, paymentStream, systemAccountId } from '@folio/shared';
import type { ProviderAdapter } from '../../src/providers/providerAdapter.js';
import { ApiServer, expectBooksBalanced, expectProblem } from '../api/apiHarness.js';
import { openTempStore, type TempStore } from '../tempEventStore.js';
import {
  clearingId,
  createPayment,
  expectBooksUntouched,
  expectMoved,
  move,
  openMerchant,
  paymentCallback,
  postedOf,
  sendCallback,
  startApiFailingOnce,
} from './paymentTestSupport.js';

describe('refunds the merchant account refuses', () => {
  let temp: TempStore;
  let api: ApiServer;
  let refundsAsked: string[];
  /** Runs while the provider refunds: what may happen between Folio's checks and its journal. */
  let whileRefunding: (() => Promise<void>) | undefined;
  let failing: { type: string | undefined };

  const provider: ProviderAdapter = {
    provider: 'sandbox',
    submitPayment: async ({ paymentId }) => ({ providerRef: `pi_${paymentId}` }),
    async refundPayment({ refundId }) {
      refundsAsked.push(refundId);
      await whileRefunding?.();
      return { providerRefundRef: `re_${refundId}` };
    },
    findPayment: () => Promise.reject(new Error('no references given in these tests')),
    submitPayout: () => Promise.reject(new Error('no payouts in these tests')),
  };

  beforeEach(async () => {
    temp = openTempStore();
    refundsAsked = [];
    whileRefunding = undefined;
    ({ api, failing } = await startApiFailingOnce(temp, provider));
  });
  afterEach(async () => {
    await api.stop();
    await temp.dispose();
  });

  const suspense = systemAccountId({ role: 'suspense', currency: 'EUR' });

  const paidPayment = async (merchant: string) => {
    const payment = await createPayment(api, merchant);
    expectMoved(await move(api, payment.id, 'submit'), 'PENDING');
    return expectMoved(await move(api, payment.id, 'capture'), 'PAID');
  };

  const setStatus = async (accountId: string, action: 'freeze' | 'unfreeze') => {
    const response = await api.post(`/v1/accounts/${accountId}/${action}`, {});
    expect(response.status, response.text).to.equal(200);
  };

  const eventTypes = async (paymentId: string) =>
    (await collect(temp.store.readStream(paymentStream(paymentId)))).map((event) => event.type);

  it('refuses a refund to a frozen merchant before asking the provider, writing nothing', async () => {
    const merchant = await openMerchant(api);
    const payment = await paidPayment(merchant);
    await setStatus(merchant, 'freeze');
    expectProblem(
      await expectBooksUntouched(temp.store, () => move(api, payment.id, 'refunds', { amount: '3000' })),
      409,
      'account-frozen',
    );
    expect(refundsAsked).to.deep.equal([]);
    expect((await api.get(`/v1/payments/${payment.id}`)).body).to.include({ refunded: '0', refundable: '10000' });
  });

  it('pays from suspense a refund the provider made as the merchant was frozen, flagging it and its confirmation', async () => {
    const merchant = await openMerchant(api);
    const payment = await paidPayment(merchant);
    whileRefunding = () => setStatus(merchant, 'freeze');
    const response = await move(api, payment.id, 'refunds', { amount: '3000' });
    const after = expectMoved(response, 'PAID');
    expect(after).to.include({ refunded: '3000', refundable: '7000', flaggedForReconciliation: true });
    expect(await eventTypes(payment.id)).not.to.include('PaymentRefundFailed');
    expect(await postedOf(api, merchant)).to.equal(10_000n);
    expect(await postedOf(api, suspense)).to.equal(-3_000n);
    expect(await postedOf(api, clearingId())).to.equal(-7_000n);
    const confirmation = await sendCallback(
      api,
      paymentCallback('payment.refunded', after, { amount: '3000', refundReference: `re_${response.body.refundId}` }),
    );
    expect(confirmation.status, confirmation.text).to.equal(200);
    expect(confirmation.body).to.include({ outcome: 'outdated', flaggedForReconciliation: true });
    expect((await api.get(`/v1/payments/${payment.id}`)).body).to.include({ refunded: '3000', flaggedForReconciliation: true });
    expect(await postedOf(api, merchant)).to.equal(10_000n);
    expect(await postedOf(api, suspense)).to.equal(-3_000n);
    await expectBooksBalanced(temp.store);
  });

  it('pays from suspense, flagged, a refund the provider reports that the merchant has spent the money for', async () => {
    const merchant = await openMerchant(api);
    const payment = await paidPayment(merchant);
    const customer = (await api.openAccount({ kind: 'customer' })).id;
    expect((await api.transfer(merchant, customer, '9000')).status).to.equal(201);
    const reported = await sendCallback(
      api,
      paymentCallback('payment.refunded', payment, { amount: '3000', refundReference: 're_dashboard' }),
    );
    expect(reported.status, reported.text).to.equal(200);
    expect((await api.get(`/v1/payments/${payment.id}`)).body).to.include({ refunded: '3000', flaggedForReconciliation: true });
    expect(await postedOf(api, merchant)).to.equal(1_000n);
    expect(await postedOf(api, suspense)).to.equal(-3_000n);
    await expectBooksBalanced(temp.store);
  });

  it('completes a refund interrupted after it was paid from suspense, without debiting the merchant once unfrozen', async () => {
    const merchant = await openMerchant(api);
    const payment = await paidPayment(merchant);
    whileRefunding = () => setStatus(merchant, 'freeze');
    failing.type = 'PaymentRefunded';
    expect((await move(api, payment.id, 'refunds', { amount: '3000' })).status).to.be.at.least(500);
    await setStatus(merchant, 'unfreeze');
    const after = (await api.get(`/v1/payments/${payment.id}`)).body;
    expect(after).to.include({ refunded: '3000', refundable: '7000', flaggedForReconciliation: true });
    expect(await postedOf(api, merchant)).to.equal(10_000n);
    expect(await postedOf(api, suspense)).to.equal(-3_000n);
    await expectBooksBalanced(temp.store);
  });
});

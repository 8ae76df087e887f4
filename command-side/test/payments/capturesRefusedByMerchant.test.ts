/**
 * Captures the merchant's account refuses (frozen, closed): one Folio is asked to record is refused
 * with nothing written; once the provider has captured, the money is booked to suspense, the
 * payment captured all the same and flagged for reconciliation, never left out of the books.
 */
import { expect } from 'chai';
import { collect, paymentStream, systemAccountId } from '@folio/shared';
import type { ProviderAdapter } from '../../src/providers/providerAdapter.js';
import { ApiServer, expectBooksBalanced, expectProblem } from '../api/apiHarness.js';
import { openTempStore, type TempStore } from '../tempEventStore.js';
import {
  clearingId,
  closedUnchecked,
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

describe('captures the merchant account refuses', () => {
  let temp: TempStore;
  let api: ApiServer;
  let failing: { type: string | undefined };

  const provider: ProviderAdapter = {
    provider: 'sandbox',
    submitPayment: async ({ paymentId }) => ({ providerRef: `pi_${paymentId}` }),
    refundPayment: async ({ refundId }) => ({ providerRefundRef: `re_${refundId}` }),
    findPayment: () => Promise.reject(new Error('no references given in these tests')),
    submitPayout: () => Promise.reject(new Error('no payouts in these tests')),
  };

  beforeEach(async () => {
    temp = openTempStore();
    ({ api, failing } = await startApiFailingOnce(temp, provider));
  });
  afterEach(async () => {
    await api.stop();
    await temp.dispose();
  });

  const suspense = systemAccountId({ role: 'suspense', currency: 'EUR' });

  const pendingPayment = async (merchant: string) => {
    const payment = await createPayment(api, merchant);
    return expectMoved(await move(api, payment.id, 'submit'), 'PENDING');
  };

  const lifecycle = async (accountId: string, action: 'freeze' | 'unfreeze' | 'close') => {
    const response = await api.post(`/v1/accounts/${accountId}/${action}`, {});
    expect(response.status, response.text).to.equal(200);
  };

  const eventTypes = async (paymentId: string) =>
    (await collect(temp.store.readStream(paymentStream(paymentId)))).map((event) => event.type);

  for (const action of ['freeze', 'close'] as const) {
    it(`books to suspense, captured and flagged, a capture the provider reports for a merchant after ${action}`, async () => {
      const merchant = await openMerchant(api);
      const payment = await pendingPayment(merchant);
      // A close is refused while the payment is open: this one closed before it was, or raced it.
      if (action === 'close') await closedUnchecked(temp.store, merchant);
      else await lifecycle(merchant, action);
      const reported = await sendCallback(api, paymentCallback('payment.captured', payment, { amount: '10000' }));
      expect(reported.status, reported.text).to.equal(200);
      const after = (await api.get(`/v1/payments/${payment.id}`)).body;
      expect(after).to.include({ state: 'PAID', captured: '10000', refundable: '10000', flaggedForReconciliation: true });
      expect(await eventTypes(payment.id)).to.include('PaymentCaptured');
      expect(await postedOf(api, merchant)).to.equal(0n);
      expect(await postedOf(api, suspense)).to.equal(10_000n);
      expect(await postedOf(api, clearingId())).to.equal(-10_000n);
      await expectBooksBalanced(temp.store);
      // Settlement sees the captured amount: the clearing account is square again.
      const settled = await sendCallback(api, paymentCallback('payment.settled', payment, { fee: '300' }));
      expect(settled.status, settled.text).to.equal(200);
      expect((await api.get(`/v1/payments/${payment.id}`)).body).to.include({ state: 'SETTLED', net: '9700' });
      expect(await postedOf(api, clearingId())).to.equal(0n);
      await expectBooksBalanced(temp.store);
    });
  }

  it('refuses a capture Folio is asked to record for a frozen merchant, writing nothing', async () => {
    const merchant = await openMerchant(api);
    const payment = await pendingPayment(merchant);
    await lifecycle(merchant, 'freeze');
    expectProblem(await expectBooksUntouched(temp.store, () => move(api, payment.id, 'capture')), 409, 'account-frozen');
    expect((await api.get(`/v1/payments/${payment.id}`)).body).to.include({
      state: 'PENDING',
      captured: '0',
      flaggedForReconciliation: false,
    });
    await lifecycle(merchant, 'unfreeze');
    expect(expectMoved(await move(api, payment.id, 'capture'), 'PAID')).to.include({ flaggedForReconciliation: false });
    expect(await postedOf(api, merchant)).to.equal(10_000n);
    expect(await postedOf(api, suspense)).to.equal(0n);
    await expectBooksBalanced(temp.store);
  });

  it('completes a capture interrupted after it was booked to suspense, without crediting the merchant once unfrozen', async () => {
    const merchant = await openMerchant(api);
    const payment = await pendingPayment(merchant);
    await lifecycle(merchant, 'freeze');
    failing.type = 'PaymentCaptured';
    expect((await sendCallback(api, paymentCallback('payment.captured', payment))).status).to.be.at.least(500);
    await lifecycle(merchant, 'unfreeze');
    const after = (await api.get(`/v1/payments/${payment.id}`)).body;
    expect(after).to.include({ state: 'PAID', captured: '10000', flaggedForReconciliation: true });
    expect(await postedOf(api, merchant)).to.equal(0n);
    expect(await postedOf(api, suspense)).to.equal(10_000n);
    expect(await postedOf(api, clearingId())).to.equal(-10_000n);
    await expectBooksBalanced(temp.store);
  });
});

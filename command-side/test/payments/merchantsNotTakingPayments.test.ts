/**
 * Payments to a merchant account that cannot take their capture. None is created for a frozen or
 * closed account; one created before its account closed is not handed to the provider, so no
 * customer is charged for money only suspense could hold (a frozen account may be unfrozen before
 * the capture, which is checked then). A reference the caller got from the provider is recorded
 * all the same: the provider holds that charge already.
 */
import { expect } from 'chai';
import { systemAccountId } from '@folio/shared';
import type { ProviderAdapter } from '../../src/providers/providerAdapter.js';
import { ApiServer, expectBooksBalanced, expectProblem } from '../api/apiHarness.js';
import { openTempStore, type TempStore } from '../tempEventStore.js';
import {
  checkoutAtSandbox,
  closedUnchecked,
  createPayment,
  eachTestWithMerchant,
  expectBooksUntouched,
  expectMoved,
  move,
  openMerchant,
  paymentCallback,
  postedOf,
  sendCallback,
  startApiFailingOnce,
  type MerchantOnQuietSandbox,
} from './paymentTestSupport.js';

const lifecycle = async (api: ApiServer, accountId: string, action: 'freeze' | 'unfreeze' | 'close') => {
  const response = await api.post(`/v1/accounts/${accountId}/${action}`, {});
  expect(response.status, response.text).to.equal(200);
};

const refusals = { freeze: 'account-frozen', close: 'account-closed' } as const;

describe('payments to a merchant account that cannot take them', () => {
  let temp: TempStore;
  let api: ApiServer;
  let submissions: number;

  const provider: ProviderAdapter = {
    provider: 'sandbox',
    async submitPayment({ paymentId }) {
      submissions += 1;
      return { providerRef: `pi_${paymentId}` };
    },
    refundPayment: async ({ refundId }) => ({ providerRefundRef: `re_${refundId}` }),
    findPayment: () => Promise.reject(new Error('no references given in these tests')),
    submitPayout: () => Promise.reject(new Error('no payouts in these tests')),
  };

  beforeEach(async () => {
    temp = openTempStore();
    submissions = 0;
    ({ api } = await startApiFailingOnce(temp, provider));
  });
  afterEach(async () => {
    await api.stop();
    await temp.dispose();
  });

  for (const action of ['freeze', 'close'] as const) {
    it(`refuses to create a payment to a merchant account after ${action}, writing nothing`, async () => {
      const merchant = await openMerchant(api);
      await lifecycle(api, merchant, action);
      const body = { merchantAccountId: merchant, amount: '10000', currency: 'EUR', provider: 'sandbox' };
      const problem = expectProblem(await expectBooksUntouched(temp.store, () => api.post('/v1/payments', body)), 409, refusals[action]);
      expect(problem).to.include({ accountId: merchant });
    });
  }

  it('refuses to hand the provider a payment whose merchant account was closed since, asking it nothing', async () => {
    const merchant = await openMerchant(api);
    const payment = await createPayment(api, merchant);
    // A close is refused while the payment is open: this one closed before it was, or raced its creation.
    await closedUnchecked(temp.store, merchant);
    const problem = expectProblem(await expectBooksUntouched(temp.store, () => move(api, payment.id, 'submit')), 409, 'account-closed');
    expect(problem).to.include({ accountId: merchant, currentState: 'closed' });
    expect(submissions).to.equal(0);
    expect((await api.get(`/v1/payments/${payment.id}`)).body).to.include({ state: 'CREATED', providerRef: null });
  });

  it('hands the provider a payment whose merchant account was frozen since, and captures it to the merchant once unfrozen', async () => {
    const merchant = await openMerchant(api);
    const payment = await createPayment(api, merchant);
    await lifecycle(api, merchant, 'freeze');
    expectMoved(await move(api, payment.id, 'submit'), 'PENDING');
    expect(submissions).to.equal(1);
    expectProblem(await move(api, payment.id, 'capture'), 409, 'account-frozen');
    await lifecycle(api, merchant, 'unfreeze');
    expect(expectMoved(await move(api, payment.id, 'capture'), 'PAID')).to.include({ flaggedForReconciliation: false });
    expect(await postedOf(api, merchant)).to.equal(10_000n);
    await expectBooksBalanced(temp.store);
  });
});

describe('a reference given for a payment whose merchant account was closed since', () => {
  let fresh: MerchantOnQuietSandbox;
  eachTestWithMerchant((ready) => (fresh = ready));

  it('is recorded, and the capture the provider reports is booked to suspense, flagged', async () => {
    const { api, merchant } = fresh;
    const payment = await createPayment(api, merchant);
    const providerRef = await checkoutAtSandbox(api, payment);
    // A close is refused while the payment is open: this one closed before it was, or raced its creation.
    await closedUnchecked(fresh.harness.store, merchant);
    const submitted = expectMoved(await move(api, payment.id, 'submit', { providerRef }), 'PENDING');
    const reported = await sendCallback(api, paymentCallback('payment.captured', submitted, { amount: '10000' }));
    expect(reported.status, reported.text).to.equal(200);
    expect((await api.get(`/v1/payments/${payment.id}`)).body).to.include({ state: 'PAID', flaggedForReconciliation: true });
    expect(await postedOf(api, merchant)).to.equal(0n);
    expect(await postedOf(api, systemAccountId({ role: 'suspense', currency: 'EUR' }))).to.equal(10_000n);
    await expectBooksBalanced(fresh.harness.store);
  });
});

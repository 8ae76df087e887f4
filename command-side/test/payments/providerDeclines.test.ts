/**
 * A provider that answers it will not take a request (a declined card, a refund it refuses): the
 * caller learns it was declined and why, nothing is written, and a retry under the same key gets
 * the same answer without asking the provider again.
 */
import { expect } from 'chai';
import { ProviderRefusedError } from '../../src/providers/providerErrors.js';
import type { ProviderAdapter } from '../../src/providers/providerAdapter.js';
import { ApiServer, expectBooksBalanced, expectProblem, uniqueKey } from '../api/apiHarness.js';
import { openTempStore, type TempStore } from '../tempEventStore.js';
import { createPayment, expectBooksUntouched, expectMoved, move, openMerchant, postedOf, startApiFailingOnce } from './paymentTestSupport.js';

describe('requests the provider declines', () => {
  let temp: TempStore;
  let api: ApiServer;
  const asked = { submissions: 0, refunds: 0 };
  let declineSubmissions: boolean;

  const provider: ProviderAdapter = {
    provider: 'sandbox',
    async submitPayment({ paymentId }) {
      asked.submissions += 1;
      if (declineSubmissions) throw new ProviderRefusedError('card declined');
      return { providerRef: `pi_${paymentId}` };
    },
    async refundPayment() {
      asked.refunds += 1;
      throw new ProviderRefusedError('the balance at the provider is too low');
    },
    submitPayout: () => Promise.reject(new Error('no payouts in these tests')),
  };

  beforeEach(async () => {
    temp = openTempStore();
    asked.submissions = 0;
    asked.refunds = 0;
    declineSubmissions = false;
    ({ api } = await startApiFailingOnce(temp, provider));
  });
  afterEach(async () => {
    await api.stop();
    await temp.dispose();
  });

  it('answers a declined submission 422 provider-declined with the reason, writes nothing, and repeats it under the same key', async () => {
    const payment = await createPayment(api, await openMerchant(api));
    declineSubmissions = true;
    const key = uniqueKey('submit');
    const declined = await expectBooksUntouched(temp.store, () => move(api, payment.id, 'submit', {}, key));
    const problem = expectProblem(declined, 422, 'provider-declined');
    expect(problem.detail).to.contain('card declined');
    expect(problem.provider).to.equal('sandbox');
    const again = await move(api, payment.id, 'submit', {}, key);
    expect(again.status).to.equal(422);
    expect(again.headers['idempotent-replayed']).to.equal('true');
    expect(asked.submissions).to.equal(1);
    expect((await api.get(`/v1/payments/${payment.id}`)).body.state).to.equal('CREATED');
  });

  it('answers a declined refund 422 provider-declined, moving nothing', async () => {
    const merchant = await openMerchant(api);
    const payment = await createPayment(api, merchant);
    expectMoved(await move(api, payment.id, 'submit'), 'PENDING');
    expectMoved(await move(api, payment.id, 'capture'), 'PAID');
    const key = uniqueKey('refund');
    const declined = await expectBooksUntouched(temp.store, () => move(api, payment.id, 'refunds', { amount: '4000' }, key));
    expect(expectProblem(declined, 422, 'provider-declined').detail).to.contain('too low');
    expect((await move(api, payment.id, 'refunds', { amount: '4000' }, key)).status).to.equal(422);
    expect(asked.refunds).to.equal(1);
    expect(await postedOf(api, merchant)).to.equal(10_000n);
    expect((await api.get(`/v1/payments/${payment.id}`)).body).to.include({ refunded: '0', refundable: '10000' });
    await expectBooksBalanced(temp.store);
  });
});

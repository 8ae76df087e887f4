/**
 * Reading a payment completes what an interruption left undone. The read asks the provider
 * nothing and books only what the log already decided (a refund the provider made, whose journals
 * ran, or a callback it recorded), and what it writes is the system's doing, not the reader's.
 */
import { expect } from 'chai';
import { collect, paymentCatalog, paymentStream, StoreUnavailableError } from '@folio/shared';
import type { ProviderAdapter } from '../../src/providers/providerAdapter.js';
import { interceptAppends } from '../commandHandling/testSupport.js';
import { ApiServer, expectBooksBalanced } from '../api/apiHarness.js';
import { openTempStore, type TempStore } from '../tempEventStore.js';
import { createPayment, expectMoved, move, openMerchant, paymentCallback, postedOf, SANDBOX_SECRET, sendCallback } from './paymentTestSupport.js';

describe('a payment read by a caller that only reads', () => {
  let temp: TempStore;
  let api: ApiServer;
  let failNext: string | undefined;
  const asked = { submissions: 0, refunds: 0 };

  const provider: ProviderAdapter = {
    provider: 'sandbox',
    async submitPayment({ paymentId }) {
      asked.submissions += 1;
      return { providerRef: `pi_${paymentId}` };
    },
    async refundPayment({ refundId }) {
      asked.refunds += 1;
      return { providerRefundRef: `re_${refundId}` };
    },
    findPayment: () => Promise.reject(new Error('no references given in these tests')),
    submitPayout: () => Promise.reject(new Error('no payouts in these tests')),
  };

  beforeEach(async () => {
    temp = openTempStore();
    failNext = undefined;
    asked.submissions = 0;
    asked.refunds = 0;
    const store = interceptAppends(temp.store, (call, proceed) => {
      if (failNext !== undefined && call.streamName.startsWith('payment-') && call.events.some((event) => event.type === failNext)) {
        failNext = undefined;
        return Promise.reject(new StoreUnavailableError('the store went away'));
      }
      return proceed();
    });
    api = await ApiServer.start(temp.store, {
      sandboxProviders: [],
      providers: [{ adapter: provider, secret: SANDBOX_SECRET }],
      eventStore: store,
      callbackToleranceSeconds: 300,
      callerOf: (request) => request.get('x-test-caller') ?? 'merchant-backend',
    });
  });
  afterEach(async () => {
    await api.stop();
    await temp.dispose();
  });

  const readAs = (caller: string, paymentId: string) => api.request('GET', `/v1/payments/${paymentId}`, { headers: { 'x-test-caller': caller } });

  const eventsOf = async (paymentId: string) =>
    (await collect(temp.store.readStream(paymentStream(paymentId)))).map((recorded) => paymentCatalog.decode(recorded));

  it('completes an interrupted refund without asking the provider, under the system\'s name', async () => {
    const merchant = await openMerchant(api);
    const payment = await createPayment(api, merchant);
    expectMoved(await move(api, payment.id, 'submit'), 'PENDING');
    expectMoved(await move(api, payment.id, 'capture'), 'PAID');
    failNext = 'PaymentRefunded';
    expect((await move(api, payment.id, 'refunds', { amount: '4000' })).status).to.be.at.least(500);
    const before = (await eventsOf(payment.id)).length;
    const read = await readAs('auditor-1', payment.id);
    expect(read.status, read.text).to.equal(200);
    expect(read.body).to.include({ refunded: '4000', refundable: '6000' });
    expect(asked).to.deep.equal({ submissions: 1, refunds: 1 });
    expect(await postedOf(api, merchant)).to.equal(6_000n);
    const written = (await eventsOf(payment.id)).slice(before);
    expect(written.map((event) => event.type)).to.deep.equal(['PaymentRefunded']);
    expect(written.map((event) => event.metadata.actor)).to.deep.equal(['folio:payment-repair']);
    await expectBooksBalanced(temp.store);
  });

  it('applies a callback that waited for an interrupted capture under the system\'s name, asking the provider nothing', async () => {
    const merchant = await openMerchant(api);
    const payment = await createPayment(api, merchant);
    const pending = expectMoved(await move(api, payment.id, 'submit'), 'PENDING');
    expect((await sendCallback(api, paymentCallback('payment.settled', pending, { fee: '290' }))).body.outcome).to.equal('deferred');
    failNext = 'PaymentCaptured';
    expect((await move(api, payment.id, 'capture')).status).to.be.at.least(500);
    const before = (await eventsOf(payment.id)).length;
    const read = await readAs('auditor-1', payment.id);
    expect(read.body, read.text).to.include({ state: 'SETTLED', fee: '290', net: '9710' });
    expect(asked).to.deep.equal({ submissions: 1, refunds: 0 });
    const actors = new Set((await eventsOf(payment.id)).slice(before).map((event) => event.metadata.actor));
    expect([...actors]).to.deep.equal(['folio:payment-repair']);
    await expectBooksBalanced(temp.store);
  });
});

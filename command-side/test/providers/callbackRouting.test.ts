/**
 * Where a provider callback may go wrong before it reaches a payment: a reference claimed by
 * another payment than the one the provider names, and copies of one signed request arriving
 * together.
 */
import { expect } from 'chai';
import { collect, paymentStream, providerCallbacksStream, StoreUnavailableError } from '@folio/shared';
import { signCallback } from '../../src/providers/callbackSignature.js';
import { createProviderReferences } from '../../src/providers/providerReferences.js';
import { interceptAppends } from '../commandHandling/testSupport.js';
import { ApiServer, expectProblem } from '../api/apiHarness.js';
import { openTempStore, type TempStore } from '../tempEventStore.js';
import {
  checkoutAtSandbox,
  createPayment,
  expectMoved,
  move,
  openMerchant,
  paymentCallback,
  postedOf,
  quietSandbox,
  SANDBOX_SECRET,
  sendCallback,
} from '../payments/paymentTestSupport.js';

describe('provider callback routing', () => {
  let temp: TempStore;
  let api: ApiServer;
  /** Appends to payment streams take this long, so requests overlap for sure. */
  let paymentAppendDelayMs: number;
  let failNextPaymentAppend: boolean;

  beforeEach(async () => {
    temp = openTempStore();
    paymentAppendDelayMs = 0;
    failNextPaymentAppend = false;
    const store = interceptAppends(temp.store, async (call, proceed) => {
      if (call.streamName.startsWith('payment-')) {
        if (failNextPaymentAppend) {
          failNextPaymentAppend = false;
          throw new StoreUnavailableError('the store went away');
        }
        await new Promise((resolve) => setTimeout(resolve, paymentAppendDelayMs));
      }
      return proceed();
    });
    api = await ApiServer.start(temp.store, { ...quietSandbox, eventStore: store });
  });
  afterEach(async () => {
    await api.stop();
    await temp.dispose();
  });

  const recordedCallbacks = async (paymentId: string) =>
    (await collect(temp.store.readStream(paymentStream(paymentId)))).filter((event) => event.type === 'PaymentCallbackRecorded');

  /** A callback signed once, to be sent as is (possibly more than once). */
  const signed = (payload: object) => {
    const body = JSON.stringify(payload);
    const headers = { 'folio-provider-signature': signCallback(SANDBOX_SECRET, Math.floor(Date.now() / 1000), body) };
    return () => api.post('/v1/providers/sandbox/callbacks', body, { headers });
  };

  it('applies a callback whose reference was claimed by another payment than the one it names to neither, flagged', async () => {
    const squatter = await openMerchant(api);
    const owner = (await api.openAccount({ kind: 'merchant', ownerId: 'merchant-2' })).id as string;
    const victim = await createPayment(api, owner);
    const taker = await createPayment(api, squatter);
    const reference = `sbx_pay_${victim.id}`;
    // Claimed as a submission naming it claimed it before given references were checked with the provider.
    const run = { correlationId: 'unchecked-submission', actor: 'merchant-1' };
    const claimant = { resource: 'payment', resourceId: taker.id } as const;
    await createProviderReferences(temp.store, () => new Date()).claim('sandbox', reference, claimant, run);
    expectProblem(await move(api, victim.id, 'submit'), 409, 'provider-reference-taken');
    const callback = paymentCallback('payment.captured', { id: victim.id, providerRef: reference }, { amount: '10000' });
    const response = await sendCallback(api, callback);
    expect(response.status, response.text).to.equal(202);
    expect(response.body).to.include({ outcome: 'unmatched', flaggedForReconciliation: true });
    expect(response.body.detail).to.include(taker.id).and.include(victim.id);
    // The provider's retry is answered the same way and recorded once.
    const retried = await sendCallback(api, callback, { timestamp: Math.floor(Date.now() / 1000) - 1 });
    expect(retried.status, retried.text).to.equal(202);
    expect((await api.get(`/v1/payments/${taker.id}`)).body.state).to.equal('CREATED');
    expect((await api.get(`/v1/payments/${victim.id}`)).body.state).to.equal('CREATED');
    expect(await postedOf(api, squatter)).to.equal(0n);
    expect(await postedOf(api, owner)).to.equal(0n);
    expect(await recordedCallbacks(taker.id)).to.deep.equal([]);
    const unmatched = await collect(temp.store.readStream(providerCallbacksStream('sandbox')));
    expect(unmatched.map((event) => event.type)).to.deep.equal(['ProviderCallbackUnmatched']);
  });

  it('applies a callback naming a payment by its id but with a reference that is not the payment\'s to none, flagged', async () => {
    const merchant = await openMerchant(api);
    const payment = await createPayment(api, merchant);
    const itsOwn = await checkoutAtSandbox(api, payment);
    const pending = expectMoved(await move(api, payment.id, 'submit', { providerRef: itsOwn }), 'PENDING');
    const captured = await sendCallback(api, paymentCallback('payment.captured', { id: pending.id, providerRef: 'pi_another' }));
    expect(captured.status, captured.text).to.equal(202);
    expect(captured.body).to.include({ outcome: 'unmatched', flaggedForReconciliation: true });
    expect(captured.body.detail).to.include(itsOwn).and.include('pi_another');
    expect((await api.get(`/v1/payments/${payment.id}`)).body.state).to.equal('PENDING');
    expect(await postedOf(api, merchant)).to.equal(0n);
    expect(await recordedCallbacks(payment.id)).to.deep.equal([]);
    const unmatched = await collect(temp.store.readStream(providerCallbacksStream('sandbox')));
    expect(unmatched.map((event) => event.type)).to.deep.equal(['ProviderCallbackUnmatched']);
    // Its own reference still moves it.
    const own = await sendCallback(api, paymentCallback('payment.captured', pending));
    expect(own.body.outcome, own.text).to.equal('applied');
    expect(await postedOf(api, merchant)).to.equal(10_000n);
  });

  it('refuses the second of two concurrent copies of one signed callback as a replay, writing once', async () => {
    const merchant = await openMerchant(api);
    const payment = await createPayment(api, merchant);
    const pending = expectMoved(await move(api, payment.id, 'submit'), 'PENDING');
    const send = signed(paymentCallback('payment.captured', pending));
    paymentAppendDelayMs = 50;
    const answers = await Promise.all([send(), send()]);
    expect(answers.map((answer) => answer.status).sort()).to.deep.equal([200, 401]);
    expectProblem(answers.find((answer) => answer.status === 401)!, 401, 'callback-replayed');
    expect(await recordedCallbacks(payment.id)).to.have.length(1);
    expect(await postedOf(api, merchant)).to.equal(10_000n);
  });

  it('lets the same signed callback through again after handling it failed', async () => {
    const merchant = await openMerchant(api);
    const payment = await createPayment(api, merchant);
    const pending = expectMoved(await move(api, payment.id, 'submit'), 'PENDING');
    const send = signed(paymentCallback('payment.captured', pending));
    failNextPaymentAppend = true;
    expect((await send()).status).to.be.at.least(500);
    const again = await send();
    expect(again.status, again.text).to.equal(200);
    expect(again.body.outcome).to.equal('applied');
    expect(await postedOf(api, merchant)).to.equal(10_000n);
  });
});

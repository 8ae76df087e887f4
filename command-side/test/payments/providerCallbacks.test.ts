/**
 * Provider callbacks over HTTP: signed, deduplicated by the provider's event id, applied by
 * precedence rather than arrival order, and every one of them recorded.
 */
import { expect } from 'chai';
import { collect, paymentCatalog, paymentStream, type PaymentCatalogEvent } from '@folio/shared';
import { signCallback } from '../../src/providers/callbackSignature.js';
import { expectBooksBalanced, expectProblem, type ApiHarness, type ApiServer } from '../api/apiHarness.js';
import {
  checkoutAtSandbox,
  clearingId,
  createPayment,
  eachTestWithMerchant,
  expectMoved,
  move,
  paymentCallback,
  postedOf,
  sendCallback,
  SANDBOX_SECRET,
} from './paymentTestSupport.js';

describe('provider callbacks', () => {
  let harness: ApiHarness;
  let api: ApiServer;
  let merchant: string;

  eachTestWithMerchant((fresh) => ({ harness, api, merchant } = fresh));

  const pendingPayment = async (amount = '10000') => {
    const payment = await createPayment(api, merchant, amount);
    return expectMoved(await move(api, payment.id, 'submit'), 'PENDING');
  };

  const recordedCallbacks = async (paymentId: string) =>
    (await collect(harness.store.readStream(paymentStream(paymentId))))
      .map((recorded) => paymentCatalog.decode(recorded) as PaymentCatalogEvent)
      .filter((event) => event.type === 'PaymentCallbackRecorded')
      .map((event) => event.data as { eventId: string; outcome: string; flaggedForReconciliation: boolean });

  const state = async (paymentId: string) => (await api.get(`/v1/payments/${paymentId}`)).body;

  it('applies a capture callback: the payment is PAID and the merchant credited', async () => {
    const payment = await pendingPayment();
    const response = await sendCallback(api, paymentCallback('payment.captured', payment, { amount: '10000' }));
    expect(response.status, response.text).to.equal(200);
    expect(response.body).to.include({ resource: 'payment', resourceId: payment.id, outcome: 'applied' });
    expect((await state(payment.id)).state).to.equal('PAID');
    expect(await postedOf(api, merchant)).to.equal(10_000n);
  });

  it('takes a callback whose time carries an offset, and records that time in UTC', async () => {
    const payment = await pendingPayment();
    const callback = { ...paymentCallback('payment.captured', payment, { amount: '10000' }), createdAt: '2026-03-01T12:00:00+02:00' };
    const response = await sendCallback(api, callback);
    expect(response.status, response.text).to.equal(200);
    expect(response.body).to.include({ outcome: 'applied' });
    const recorded = (await collect(harness.store.readStream(paymentStream(payment.id))))
      .map((event) => paymentCatalog.decode(event) as PaymentCatalogEvent)
      .find((event) => event.type === 'PaymentCallbackRecorded');
    expect((recorded?.data as { providerCreatedAt?: string }).providerCreatedAt).to.equal('2026-03-01T10:00:00.000Z');
    const beyond = { ...paymentCallback('payment.captured', payment), createdAt: '9999-12-31T23:00:00-02:00' };
    expectProblem(await harness.expectNothingWritten(() => sendCallback(api, beyond)), 400, 'validation');
  });

  it('deduplicates by the provider event id: a duplicate is recorded and changes nothing', async () => {
    const payment = await pendingPayment();
    const callback = paymentCallback('payment.captured', payment);
    const sentAt = Math.floor(Date.now() / 1000);
    expect((await sendCallback(api, callback, { timestamp: sentAt })).body.outcome).to.equal('applied');
    // The provider retries: same event id, a new signature and timestamp (never the first one's,
    // which would be the same signed request replayed).
    const again = await sendCallback(api, callback, { timestamp: sentAt - 1 });
    expect(again.status, again.text).to.equal(200);
    expect(again.body.outcome).to.equal('duplicate');
    expect(await postedOf(api, merchant)).to.equal(10_000n);
    expect((await recordedCallbacks(payment.id)).map((recorded) => recorded.outcome)).to.deep.equal(['applied', 'duplicate']);
  });

  it('applies callbacks by precedence: a settlement before its capture waits, then both apply in order', async () => {
    const payment = await pendingPayment();
    const settled = await sendCallback(api, paymentCallback('payment.settled', payment, { fee: '300' }));
    expect(settled.body.outcome).to.equal('deferred');
    expect((await state(payment.id)).state).to.equal('PENDING');
    expect((await sendCallback(api, paymentCallback('payment.captured', payment))).body.outcome).to.equal('applied');
    const after = await state(payment.id);
    expect(after).to.include({ state: 'SETTLED', fee: '300', net: '9700' });
    expect(await postedOf(api, clearingId())).to.equal(0n);
    expect((await recordedCallbacks(payment.id)).map((recorded) => recorded.outcome)).to.deep.equal([
      'deferred',
      'applied',
      'applied',
    ]);
    await expectBooksBalanced(harness.store);
  });

  it('applies a success that arrived before the submission once the submission is recorded', async () => {
    const payment = await createPayment(api, merchant);
    const providerRef = await checkoutAtSandbox(api, payment);
    const early = await sendCallback(api, paymentCallback('payment.captured', { id: payment.id, providerRef }));
    expect(early.status, early.text).to.equal(200);
    expect(early.body.outcome).to.equal('deferred');
    expect((await state(payment.id)).state).to.equal('CREATED');
    expectMoved(await move(api, payment.id, 'submit', { providerRef }), 'PAID');
    expect(await postedOf(api, merchant)).to.equal(10_000n);
  });

  it('records a failure after a success as superseded and flagged, never flipping money', async () => {
    const payment = await pendingPayment();
    await sendCallback(api, paymentCallback('payment.captured', payment));
    const late = await sendCallback(api, paymentCallback('payment.failed', payment, { reason: 'card_declined' }));
    expect(late.status, late.text).to.equal(200);
    expect(late.body).to.include({ outcome: 'superseded', flaggedForReconciliation: true });
    const after = await state(payment.id);
    expect(after).to.include({ state: 'PAID', flaggedForReconciliation: true });
    expect(await postedOf(api, merchant)).to.equal(10_000n);
  });

  it('takes a late callback for what is already known as outdated', async () => {
    const payment = await pendingPayment();
    expectMoved(await move(api, payment.id, 'capture'), 'PAID');
    const late = await sendCallback(api, paymentCallback('payment.captured', payment));
    expect(late.body).to.include({ outcome: 'outdated', flaggedForReconciliation: false });
    expect(await postedOf(api, merchant)).to.equal(10_000n);
  });

  it('books a refund the provider reports, and not twice when it repeats', async () => {
    const payment = await pendingPayment();
    await sendCallback(api, paymentCallback('payment.captured', payment));
    const refund = paymentCallback('payment.refunded', payment, { amount: '2500', refundReference: 're_1' });
    expect((await sendCallback(api, refund)).body.outcome).to.equal('applied');
    expect((await sendCallback(api, refund, { timestamp: Math.floor(Date.now() / 1000) - 2 })).body.outcome).to.equal(
      'duplicate',
    );
    expect(await state(payment.id)).to.include({ refunded: '2500', state: 'PAID' });
    expect(await postedOf(api, merchant)).to.equal(7_500n);
  });

  it('flags a settlement the provider reports with another fee than the books took, moving nothing', async () => {
    const payment = await pendingPayment();
    expectMoved(await move(api, payment.id, 'capture'), 'PAID');
    expectMoved(await move(api, payment.id, 'settle', { fee: '290' }), 'SETTLED');
    const same = await sendCallback(api, paymentCallback('payment.settled', payment, { fee: '290' }));
    expect(same.body).to.include({ outcome: 'outdated', flaggedForReconciliation: false });
    const other = await sendCallback(api, paymentCallback('payment.settled', payment, { fee: '300' }));
    expect(other.body, other.text).to.include({ outcome: 'refused', flaggedForReconciliation: true });
    expect(await state(payment.id)).to.include({ state: 'SETTLED', fee: '290', net: '9710', flaggedForReconciliation: true });
    expect(await postedOf(api, clearingId())).to.equal(0n);
    await expectBooksBalanced(harness.store);
  });

  it('takes the confirmation of a refund Folio made as nothing new, and flags one for another amount, moving nothing', async () => {
    const payment = await pendingPayment();
    expectMoved(await move(api, payment.id, 'capture'), 'PAID');
    const refund = await move(api, payment.id, 'refunds', { amount: '4000' });
    expect(refund.status, refund.text).to.equal(201);
    const refundReference = `sbx_re_${refund.body.refundId}`;
    const confirmed = await sendCallback(api, paymentCallback('payment.refunded', payment, { amount: '4000', refundReference }));
    expect(confirmed.body).to.include({ outcome: 'outdated', flaggedForReconciliation: false });
    expect((await state(payment.id)).flaggedForReconciliation).to.equal(false);
    const other = await sendCallback(api, paymentCallback('payment.refunded', payment, { amount: '3000', refundReference }));
    expect(other.body, other.text).to.include({ outcome: 'refused', flaggedForReconciliation: true });
    expect(await state(payment.id)).to.include({ refunded: '4000', refundable: '6000', flaggedForReconciliation: true });
    expect(await postedOf(api, merchant)).to.equal(6_000n);
    expect(await postedOf(api, clearingId())).to.equal(-6_000n);
    await expectBooksBalanced(harness.store);
  });

  it('refuses and flags a capture, settlement or refund in another currency than the payment, moving nothing', async () => {
    const payment = await pendingPayment();
    const yen = await sendCallback(api, paymentCallback('payment.captured', payment, { amount: '10000', currency: 'JPY' }));
    expect(yen.status, yen.text).to.equal(200);
    expect(yen.body).to.include({ outcome: 'refused', flaggedForReconciliation: true });
    expect(await state(payment.id)).to.include({ state: 'PENDING', flaggedForReconciliation: true });
    expect(await postedOf(api, merchant)).to.equal(0n);

    expect((await sendCallback(api, paymentCallback('payment.captured', payment, { currency: 'EUR' }))).body.outcome).to.equal('applied');
    const settled = await sendCallback(api, paymentCallback('payment.settled', payment, { fee: '300', currency: 'USD' }));
    expect(settled.body).to.include({ outcome: 'refused', flaggedForReconciliation: true });
    const refunded = await sendCallback(
      api,
      paymentCallback('payment.refunded', payment, { amount: '2500', currency: 'GBP', refundReference: 're_gbp' }),
    );
    expect(refunded.body).to.include({ outcome: 'refused', flaggedForReconciliation: true });
    expect(await state(payment.id)).to.include({ state: 'PAID', refunded: '0' });
    expect(await postedOf(api, merchant)).to.equal(10_000n);
    expect(await postedOf(api, clearingId())).to.equal(-10_000n);
    const recorded = (await recordedCallbacks(payment.id)) as { outcome: string; currency?: string }[];
    expect(recorded.map(({ outcome, currency }) => [outcome, currency])).to.deep.equal([
      ['refused', 'JPY'],
      ['applied', 'EUR'],
      ['refused', 'USD'],
      ['refused', 'GBP'],
    ]);
    await expectBooksBalanced(harness.store);
  });

  it('refuses a forged signature with 401 and writes nothing', async () => {
    const payment = await pendingPayment();
    const forged = await harness.expectNothingWritten(() =>
      sendCallback(api, paymentCallback('payment.captured', payment), { secret: 'not-the-sandbox-secret-at-all' }),
    );
    expectProblem(forged, 401, 'callback-signature-invalid');
    const unsigned = await harness.expectNothingWritten(() =>
      sendCallback(api, paymentCallback('payment.captured', payment), { signature: 'garbage' }),
    );
    expectProblem(unsigned, 401, 'callback-signature-invalid');
    // A body changed after signing.
    const body = JSON.stringify(paymentCallback('payment.captured', payment));
    const signature = signCallback(SANDBOX_SECRET, Math.floor(Date.now() / 1000), body);
    const tampered = await harness.expectNothingWritten(() =>
      api.post('/v1/providers/sandbox/callbacks', body.replace('payment.captured', 'payment.failed'), {
        headers: { 'folio-provider-signature': signature },
      }),
    );
    expectProblem(tampered, 401, 'callback-signature-invalid');
    expect((await state(payment.id)).state).to.equal('PENDING');
  });

  it('refuses a replayed timestamp and an exact replay with 401, writing nothing', async () => {
    const payment = await pendingPayment();
    const stale = await harness.expectNothingWritten(() =>
      sendCallback(api, paymentCallback('payment.captured', payment), { timestamp: Math.floor(Date.now() / 1000) - 301 }),
    );
    expectProblem(stale, 401, 'callback-timestamp-outside-tolerance');
    const body = JSON.stringify(paymentCallback('payment.failed', payment));
    const signature = signCallback(SANDBOX_SECRET, Math.floor(Date.now() / 1000), body);
    const headers = { 'folio-provider-signature': signature };
    expect((await api.post('/v1/providers/sandbox/callbacks', body, { headers })).status).to.equal(200);
    const replayed = await harness.expectNothingWritten(() => api.post('/v1/providers/sandbox/callbacks', body, { headers }));
    expectProblem(replayed, 401, 'callback-replayed');
  });

  it('answers 404 for an unknown provider and 400 for a signed body of the wrong shape, writing nothing', async () => {
    const payment = await pendingPayment();
    expectProblem(
      await harness.expectNothingWritten(() =>
        sendCallback(api, paymentCallback('payment.captured', payment), { provider: 'acme' }),
      ),
      404,
      'not-found',
    );
    const wrong = { ...paymentCallback('payment.captured', payment), data: { reference: 'x', amount: 10 } };
    expectProblem(await harness.expectNothingWritten(() => sendCallback(api, wrong as never)), 400, 'validation');
  });

  it('records a callback naming nothing Folio knows as unmatched', async () => {
    const response = await sendCallback(api, {
      id: 'evt-stray',
      type: 'payment.captured',
      createdAt: new Date().toISOString(),
      data: { reference: 'pi_nobody' },
    });
    expect(response.status, response.text).to.equal(202);
    expect(response.body).to.include({ outcome: 'unmatched', flaggedForReconciliation: true });
    const stray = await collect(harness.store.readStream('provider-callbacks-sandbox'));
    expect(stray.map((event) => event.type)).to.deep.equal(['ProviderCallbackUnmatched']);
  });
});

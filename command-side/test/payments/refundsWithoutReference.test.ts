/**
 * A provider names every refund it makes; the reference is what tells one refund from another.
 * A refund callback without it cannot be told apart from a redelivery under another event id, so
 * booking it could pay one refund back twice: it is held on the payment, refused and flagged for
 * reconciliation, and nothing is booked.
 */
import { expect } from 'chai';
import { collect, paymentCatalog, paymentStream, type PaymentCatalogEvent } from '@folio/shared';
import { expectBooksBalanced, type ApiHarness, type ApiServer } from '../api/apiHarness.js';
import { clearingId, createPayment, eachTestWithMerchant, expectMoved, move, paymentCallback, postedOf, sendCallback } from './paymentTestSupport.js';

describe('refund callbacks without the provider\'s refund reference', () => {
  let harness: ApiHarness;
  let api: ApiServer;
  let merchant: string;

  eachTestWithMerchant((fresh) => ({ harness, api, merchant } = fresh));

  const state = async (paymentId: string) => (await api.get(`/v1/payments/${paymentId}`)).body;

  const paymentEvents = async (paymentId: string) =>
    (await collect(harness.store.readStream(paymentStream(paymentId)))).map((event) => paymentCatalog.decode(event) as PaymentCatalogEvent);

  it('books nothing for one refund reported under two event ids, recording both refused and flagged', async () => {
    const payment = await createPayment(api, merchant);
    expectMoved(await move(api, payment.id, 'submit'), 'PENDING');
    const paid = expectMoved(await move(api, payment.id, 'capture'), 'PAID');
    const first = await sendCallback(api, paymentCallback('payment.refunded', paid, { amount: '2500' }));
    const second = await sendCallback(api, paymentCallback('payment.refunded', paid, { amount: '2500' }));
    for (const response of [first, second]) {
      expect(response.status, response.text).to.equal(200);
      expect(response.body, response.text).to.include({ outcome: 'refused', flaggedForReconciliation: true });
      expect(response.body.detail).to.contain('refund reference');
    }
    expect(await state(payment.id)).to.include({ state: 'PAID', refunded: '0', refundable: '10000', flaggedForReconciliation: true });
    expect(await postedOf(api, merchant)).to.equal(10_000n);
    expect(await postedOf(api, clearingId())).to.equal(-10_000n);
    const events = await paymentEvents(payment.id);
    expect(events.filter((event) => event.type === 'PaymentRefundRequested')).to.deep.equal([]);
    const outcomes = events.filter((event) => event.type === 'PaymentCallbackRecorded').map((event) => (event.data as { outcome: string }).outcome);
    expect(outcomes).to.deep.equal(['refused', 'refused']);
    await expectBooksBalanced(harness.store);
  });

  it('refuses one that comes before the capture at once instead of holding it for later', async () => {
    const payment = await createPayment(api, merchant);
    const pending = expectMoved(await move(api, payment.id, 'submit'), 'PENDING');
    const early = await sendCallback(api, paymentCallback('payment.refunded', pending, { amount: '2500' }));
    expect(early.body, early.text).to.include({ outcome: 'refused', flaggedForReconciliation: true });
    expectMoved(await move(api, payment.id, 'capture'), 'PAID');
    expect(await state(payment.id)).to.include({ refunded: '0', refundable: '10000' });
    expect(await postedOf(api, merchant)).to.equal(10_000n);
  });

  it('still books a named refund once, however many event ids report it', async () => {
    const payment = await createPayment(api, merchant);
    expectMoved(await move(api, payment.id, 'submit'), 'PENDING');
    const paid = expectMoved(await move(api, payment.id, 'capture'), 'PAID');
    const named = { amount: '2500', refundReference: 're_named' };
    expect((await sendCallback(api, paymentCallback('payment.refunded', paid, named))).body.outcome).to.equal('applied');
    expect((await sendCallback(api, paymentCallback('payment.refunded', paid, named))).body.outcome).to.equal('outdated');
    expect(await state(payment.id)).to.include({ refunded: '2500', flaggedForReconciliation: false });
    expect(await postedOf(api, merchant)).to.equal(7_500n);
  });
});

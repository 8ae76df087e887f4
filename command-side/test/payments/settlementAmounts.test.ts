/**
 * A settlement callback says how much the provider paid out for the payment. The books settle what
 * was captured less refunds; a settlement of another amount is money the provider did not move as
 * the books would book it: it is refused and flagged, and nothing is posted.
 */
import { expect } from 'chai';
import { collect, paymentCatalog, paymentStream, systemAccountId, type PaymentCatalogEvent } from '@folio/shared';
import { expectBooksBalanced, type ApiHarness, type ApiServer } from '../api/apiHarness.js';
import { clearingId, createPayment, eachTestWithMerchant, expectMoved, move, paymentCallback, postedOf, sendCallback } from './paymentTestSupport.js';

describe('settlement callbacks of another amount than the books settle', () => {
  let harness: ApiHarness;
  let api: ApiServer;
  let merchant: string;
  const bank = systemAccountId({ role: 'bank', currency: 'EUR' });
  const fees = systemAccountId({ role: 'fees', currency: 'EUR' });

  eachTestWithMerchant((fresh) => ({ harness, api, merchant } = fresh));

  const paidPayment = async () => {
    const payment = await createPayment(api, merchant);
    expectMoved(await move(api, payment.id, 'submit'), 'PENDING');
    return expectMoved(await move(api, payment.id, 'capture'), 'PAID');
  };

  const state = async (paymentId: string) => (await api.get(`/v1/payments/${paymentId}`)).body;

  const recorded = async (paymentId: string) =>
    (await collect(harness.store.readStream(paymentStream(paymentId))))
      .map((event) => paymentCatalog.decode(event) as PaymentCatalogEvent)
      .filter((event) => event.type === 'PaymentCallbackRecorded')
      .map((event) => event.data as { eventId: string; outcome: string; amount?: bigint; detail: string });

  it('refuses and flags a settlement of another amount than was captured, posting nothing', async () => {
    const payment = await paidPayment();
    const callback = paymentCallback('payment.settled', payment, { amount: '8000', fee: '300' });
    const response = await sendCallback(api, callback);
    expect(response.status, response.text).to.equal(200);
    expect(response.body, response.text).to.include({ outcome: 'refused', flaggedForReconciliation: true });
    expect(response.body.detail).to.contain('8000').and.to.contain('10000');
    expect(await state(payment.id)).to.include({ state: 'PAID', fee: null, net: null, flaggedForReconciliation: true });
    expect(await postedOf(api, bank)).to.equal(0n);
    expect(await postedOf(api, fees)).to.equal(0n);
    expect(await postedOf(api, clearingId())).to.equal(-10_000n);
    const [record] = await recorded(payment.id);
    expect(record).to.include({ eventId: callback.id, outcome: 'refused', amount: 8_000n });
    await expectBooksBalanced(harness.store);
  });

  it('settles what is left after a refund when the provider reports that amount, and refuses the captured amount', async () => {
    const payment = await paidPayment();
    expect((await move(api, payment.id, 'refunds', { amount: '4000' })).status).to.equal(201);
    const whole = await sendCallback(api, paymentCallback('payment.settled', payment, { amount: '10000', fee: '300' }));
    expect(whole.body, whole.text).to.include({ outcome: 'refused', flaggedForReconciliation: true });
    expect(await postedOf(api, bank)).to.equal(0n);
    const rest = await sendCallback(api, paymentCallback('payment.settled', payment, { amount: '6000', fee: '300' }));
    expect(rest.body, rest.text).to.include({ outcome: 'applied' });
    expect(await state(payment.id)).to.include({ state: 'SETTLED', fee: '300', net: '5700' });
    expect(await postedOf(api, bank)).to.equal(-5_700n);
    expect(await postedOf(api, clearingId())).to.equal(0n);
    await expectBooksBalanced(harness.store);
  });

  it('refuses a settlement of another amount that waited for the capture, once it could be applied', async () => {
    const payment = await createPayment(api, merchant);
    const pending = expectMoved(await move(api, payment.id, 'submit'), 'PENDING');
    const early = await sendCallback(api, paymentCallback('payment.settled', pending, { amount: '12000', fee: '300' }));
    expect(early.body.outcome, early.text).to.equal('deferred');
    expectMoved(await move(api, payment.id, 'capture'), 'PAID');
    expect(await state(payment.id)).to.include({ state: 'PAID', flaggedForReconciliation: true });
    expect((await recorded(payment.id)).map(({ outcome }) => outcome)).to.deep.equal(['deferred', 'refused']);
    expect(await postedOf(api, bank)).to.equal(0n);
    await expectBooksBalanced(harness.store);
  });

  it('refuses and flags a settlement of a settled payment for another amount, and takes one for its amount as outdated', async () => {
    const payment = await paidPayment();
    expectMoved(await move(api, payment.id, 'settle', { fee: '290' }), 'SETTLED');
    const same = await sendCallback(api, paymentCallback('payment.settled', payment, { amount: '10000', fee: '290' }));
    expect(same.body, same.text).to.include({ outcome: 'outdated', flaggedForReconciliation: false });
    const other = await sendCallback(api, paymentCallback('payment.settled', payment, { amount: '9000', fee: '290' }));
    expect(other.body, other.text).to.include({ outcome: 'refused', flaggedForReconciliation: true });
    expect(await state(payment.id)).to.include({ state: 'SETTLED', fee: '290', net: '9710', flaggedForReconciliation: true });
    expect(await postedOf(api, bank)).to.equal(-9_710n);
    await expectBooksBalanced(harness.store);
  });

  it('takes the late confirmation of a payment settled and then refunded in full as outdated, and flags one for another amount or fee', async () => {
    const payment = await paidPayment();
    expectMoved(await move(api, payment.id, 'settle', { fee: '290' }), 'SETTLED');
    expectMoved(await move(api, payment.id, 'refunds', { amount: '10000' }), 'REFUNDED');
    const same = await sendCallback(api, paymentCallback('payment.settled', payment, { amount: '10000', fee: '290' }));
    expect(same.body, same.text).to.include({ outcome: 'outdated', flaggedForReconciliation: false });
    expect(await state(payment.id)).to.include({ state: 'REFUNDED', fee: '290', net: '9710', flaggedForReconciliation: false });
    const otherFee = await sendCallback(api, paymentCallback('payment.settled', payment, { amount: '10000', fee: '310' }));
    expect(otherFee.body, otherFee.text).to.include({ outcome: 'refused', flaggedForReconciliation: true });
    const otherAmount = await sendCallback(api, paymentCallback('payment.settled', payment, { amount: '9000', fee: '290' }));
    expect(otherAmount.body, otherAmount.text).to.include({ outcome: 'refused', flaggedForReconciliation: true });
    expect(await state(payment.id)).to.include({ state: 'REFUNDED', refunded: '10000', flaggedForReconciliation: true });
    expect(await postedOf(api, bank)).to.equal(290n);
    expect(await postedOf(api, merchant)).to.equal(0n);
    await expectBooksBalanced(harness.store);
  });
});

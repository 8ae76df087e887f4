/**
 * A callback that overtakes the submission finds its payment by Folio's id and waits there; it
 * still names the provider's reference of the charge it is about. Once the payment is submitted
 * under another reference, it is about another charge: it moves no money and flags the payment.
 */
import { expect } from 'chai';
import { collect, paymentCatalog, paymentStream, type PaymentCatalogEvent } from '@folio/shared';
import { createApiHarness, expectBooksBalanced, type ApiHarness, type ApiServer } from '../api/apiHarness.js';
import {
  checkoutAtSandbox,
  clearingId,
  createPayment,
  expectMoved,
  move,
  openMerchant,
  paymentCallback,
  postedOf,
  quietSandbox,
  sendCallback,
} from '../payments/paymentTestSupport.js';

describe('callbacks that waited for the submission', () => {
  let harness: ApiHarness;
  let api: ApiServer;
  let merchant: string;

  beforeEach(async () => {
    harness = await createApiHarness(quietSandbox);
    api = harness.api;
    merchant = await openMerchant(api);
  });
  afterEach(() => harness.close());

  const recordedCallbacks = async (paymentId: string) =>
    (await collect(harness.store.readStream(paymentStream(paymentId))))
      .map((recorded) => paymentCatalog.decode(recorded) as PaymentCatalogEvent)
      .filter((event) => event.type === 'PaymentCallbackRecorded')
      .map((event) => event.data as { eventId: string; outcome: string; flaggedForReconciliation: boolean; providerRef?: string });

  it('moves no money on a payment submitted under another reference than the waiting capture names, and flags it', async () => {
    const payment = await createPayment(api, merchant);
    const early = await sendCallback(api, paymentCallback('payment.captured', { id: payment.id, providerRef: 'pi_their_charge' }));
    expect(early.body.outcome, early.text).to.equal('deferred');
    const ourCharge = await checkoutAtSandbox(api, payment);
    const submitted = expectMoved(await move(api, payment.id, 'submit', { providerRef: ourCharge }), 'PENDING');
    expect(submitted.flaggedForReconciliation).to.equal(true);
    expect(await postedOf(api, merchant)).to.equal(0n);
    expect(await postedOf(api, clearingId())).to.equal(0n);
    const recorded = await recordedCallbacks(payment.id);
    expect(recorded.map(({ outcome, flaggedForReconciliation, providerRef }) => [outcome, flaggedForReconciliation, providerRef])).to.deep.equal([
      ['deferred', false, 'pi_their_charge'],
      ['refused', true, 'pi_their_charge'],
    ]);
    // A capture about its own charge still moves it.
    const own = await sendCallback(api, paymentCallback('payment.captured', { id: payment.id, providerRef: ourCharge }));
    expect(own.body.outcome, own.text).to.equal('applied');
    expect(await postedOf(api, merchant)).to.equal(10_000n);
    await expectBooksBalanced(harness.store);
  });

  it('applies a waiting capture and settlement that name the reference the payment is submitted under', async () => {
    const payment = await createPayment(api, merchant);
    const ref = { id: payment.id, providerRef: await checkoutAtSandbox(api, payment) };
    expect((await sendCallback(api, paymentCallback('payment.settled', ref, { fee: '300' }))).body.outcome).to.equal('deferred');
    expect((await sendCallback(api, paymentCallback('payment.captured', ref))).body.outcome).to.equal('deferred');
    const settled = expectMoved(await move(api, payment.id, 'submit', { providerRef: ref.providerRef }), 'SETTLED');
    expect(settled).to.include({ fee: '300', net: '9700', flaggedForReconciliation: false });
    expect(await postedOf(api, merchant)).to.equal(10_000n);
    expect(await postedOf(api, clearingId())).to.equal(0n);
    await expectBooksBalanced(harness.store);
  });
});

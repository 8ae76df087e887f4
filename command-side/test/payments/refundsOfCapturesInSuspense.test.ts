/**
 * Refunds of a payment whose capture the merchant's account refused: the captured money sits in
 * suspense, never in the merchant's account, so a refund pays it back from suspense and leaves the
 * merchant's balance alone, whether the merchant is frozen still, unfrozen, or funded since.
 */
import { expect } from 'chai';
import { StoreUnavailableError, systemAccountId } from '@folio/shared';
import type { ProviderAdapter } from '../../src/providers/providerAdapter.js';
import { ApiServer, expectBooksBalanced } from '../api/apiHarness.js';
import { interceptAppends } from '../commandHandling/testSupport.js';
import { openTempStore, type TempStore } from '../tempEventStore.js';
import {
  clearingId,
  createPayment,
  expectMoved,
  move,
  openMerchant,
  paymentCallback,
  postedOf,
  sendCallback,
  SANDBOX_SECRET,
} from './paymentTestSupport.js';

describe('refunds of captures booked to suspense', () => {
  let temp: TempStore;
  let api: ApiServer;
  let refundsAsked: string[];
  /** The type of event whose next append to a payment stream fails, as a crash would leave it. */
  let failingRecord: string | undefined;
  /** The journal kind and leg whose next posting fails: that leg is not written. */
  let failingPosting: { kind: string; leg: string } | undefined;

  const provider: ProviderAdapter = {
    provider: 'sandbox',
    submitPayment: async ({ paymentId }) => ({ providerRef: `pi_${paymentId}` }),
    async refundPayment({ refundId }) {
      refundsAsked.push(refundId);
      return { providerRefundRef: `re_${refundId}` };
    },
    findPayment: () => Promise.reject(new Error('no references given in these tests')),
    submitPayout: () => Promise.reject(new Error('no payouts in these tests')),
  };

  beforeEach(async () => {
    temp = openTempStore();
    refundsAsked = [];
    failingRecord = undefined;
    failingPosting = undefined;
    const store = interceptAppends(temp.store, (call, proceed) => {
      if (
        failingRecord !== undefined &&
        call.streamName.startsWith('payment-') &&
        call.events.some((event) => event.type === failingRecord)
      ) {
        failingRecord = undefined;
        return Promise.reject(new StoreUnavailableError('the store went away'));
      }
      const posting = failingPosting;
      const journals = call.events.map((event) => event.data.journal as { kind?: string; leg?: string } | undefined);
      if (
        posting !== undefined &&
        call.streamName.startsWith('account-') &&
        journals.some((journal) => journal?.kind === posting.kind && journal.leg === posting.leg)
      ) {
        failingPosting = undefined;
        return Promise.reject(new StoreUnavailableError('the store went away'));
      }
      return proceed();
    });
    api = await ApiServer.start(temp.store, {
      sandboxProviders: [],
      providers: [{ adapter: provider, secret: SANDBOX_SECRET }],
      eventStore: store,
    });
  });
  afterEach(async () => {
    await api.stop();
    await temp.dispose();
  });

  const suspense = systemAccountId({ role: 'suspense', currency: 'EUR' });
  const bank = systemAccountId({ role: 'bank', currency: 'EUR' });

  const setStatus = async (accountId: string, action: 'freeze' | 'unfreeze') => {
    const response = await api.post(`/v1/accounts/${accountId}/${action}`, {});
    expect(response.status, response.text).to.equal(200);
  };

  /** A payment the provider captured while the merchant was frozen: its 10000 are in suspense. */
  const capturedToSuspense = async (merchant: string) => {
    const payment = expectMoved(await move(api, (await createPayment(api, merchant)).id, 'submit'), 'PENDING');
    await setStatus(merchant, 'freeze');
    const reported = await sendCallback(api, paymentCallback('payment.captured', payment, { amount: '10000' }));
    expect(reported.status, reported.text).to.equal(200);
    const after = (await api.get(`/v1/payments/${payment.id}`)).body;
    expect(after).to.include({ state: 'PAID', flaggedForReconciliation: true });
    expect(await postedOf(api, suspense)).to.equal(10_000n);
    return after;
  };

  /** Unfreezes the merchant and credits it 10000 by a payment of its own, captured normally. */
  const unfrozenAndFunded = async (merchant: string) => {
    await setStatus(merchant, 'unfreeze');
    const other = await createPayment(api, merchant);
    expectMoved(await move(api, other.id, 'submit'), 'PENDING');
    expectMoved(await move(api, other.id, 'capture'), 'PAID');
    expect(await postedOf(api, merchant)).to.equal(10_000n);
  };

  it('pays the refund back from suspense, not from the merchant unfrozen and funded since', async () => {
    const merchant = await openMerchant(api);
    const payment = await capturedToSuspense(merchant);
    await unfrozenAndFunded(merchant);
    const response = await move(api, payment.id, 'refunds', { amount: '10000' });
    expect(expectMoved(response, 'REFUNDED')).to.include({
      refunded: '10000',
      refundable: '0',
      flaggedForReconciliation: true,
    });
    expect(refundsAsked).to.deep.equal([response.body.refundId]);
    expect(await postedOf(api, merchant)).to.equal(10_000n);
    expect(await postedOf(api, suspense)).to.equal(0n);
    // The refund credited clearing back: what is left there is the other payment's capture.
    expect(await postedOf(api, clearingId())).to.equal(-10_000n);
    await expectBooksBalanced(temp.store);
  });

  it('pays a refund back from suspense while the merchant is frozen still', async () => {
    const merchant = await openMerchant(api);
    const payment = await capturedToSuspense(merchant);
    const response = await move(api, payment.id, 'refunds', { amount: '3000' });
    expect(expectMoved(response, 'PAID')).to.include({ refunded: '3000', refundable: '7000' });
    expect(refundsAsked).to.have.length(1);
    expect(await postedOf(api, merchant)).to.equal(0n);
    expect(await postedOf(api, suspense)).to.equal(7_000n);
    expect(await postedOf(api, clearingId())).to.equal(-7_000n);
    await expectBooksBalanced(temp.store);
  });

  it('pays a partial refund and then the rest from suspense, after settlement to the bank', async () => {
    const merchant = await openMerchant(api);
    const payment = await capturedToSuspense(merchant);
    const settled = await sendCallback(api, paymentCallback('payment.settled', payment, { fee: '300' }));
    expect(settled.status, settled.text).to.equal(200);
    await unfrozenAndFunded(merchant);
    const bankBefore = await postedOf(api, bank);
    expect(expectMoved(await move(api, payment.id, 'refunds', { amount: '4000' }), 'SETTLED')).to.include({
      refunded: '4000',
      refundable: '6000',
    });
    expect(await postedOf(api, suspense)).to.equal(6_000n);
    expect(await postedOf(api, bank)).to.equal(bankBefore + 4_000n);
    expect(expectMoved(await move(api, payment.id, 'refunds', { amount: '6000' }), 'REFUNDED')).to.include({
      refunded: '10000',
      flaggedForReconciliation: true,
    });
    expect(await postedOf(api, suspense)).to.equal(0n);
    expect(await postedOf(api, bank)).to.equal(bankBefore + 10_000n);
    expect(await postedOf(api, merchant)).to.equal(10_000n);
    await expectBooksBalanced(temp.store);
  });

  it('pays from suspense a refund the provider reports, and takes its confirmation as nothing new', async () => {
    const merchant = await openMerchant(api);
    const payment = await capturedToSuspense(merchant);
    await unfrozenAndFunded(merchant);
    const reported = await sendCallback(
      api,
      paymentCallback('payment.refunded', payment, { amount: '2500', refundReference: 're_dashboard' }),
    );
    expect(reported.status, reported.text).to.equal(200);
    expect(reported.body).to.include({ outcome: 'applied', flaggedForReconciliation: false });
    const asked = await move(api, payment.id, 'refunds', { amount: '1500' });
    expect(expectMoved(asked, 'PAID')).to.include({ refunded: '4000', refundable: '6000' });
    const confirmation = await sendCallback(
      api,
      paymentCallback('payment.refunded', payment, { amount: '1500', refundReference: `re_${asked.body.refundId}` }),
    );
    expect(confirmation.status, confirmation.text).to.equal(200);
    expect(confirmation.body).to.include({ outcome: 'outdated', flaggedForReconciliation: false });
    expect(await postedOf(api, merchant)).to.equal(10_000n);
    expect(await postedOf(api, suspense)).to.equal(6_000n);
    await expectBooksBalanced(temp.store);
  });

  it('completes a refund interrupted after its journal from suspense, without moving money twice', async () => {
    const merchant = await openMerchant(api);
    const payment = await capturedToSuspense(merchant);
    await unfrozenAndFunded(merchant);
    failingRecord = 'PaymentRefunded';
    expect((await move(api, payment.id, 'refunds', { amount: '3000' })).status).to.be.at.least(500);
    expect((await api.get(`/v1/payments/${payment.id}`)).body).to.include({ refunded: '3000', refundable: '7000' });
    expect(await postedOf(api, merchant)).to.equal(10_000n);
    expect(await postedOf(api, suspense)).to.equal(7_000n);
    expect(await postedOf(api, clearingId())).to.equal(-17_000n);
    await expectBooksBalanced(temp.store);
  });

  it('finishes a refund interrupted between the legs of its journal from suspense, posting each leg once', async () => {
    const merchant = await openMerchant(api);
    const payment = await capturedToSuspense(merchant);
    await unfrozenAndFunded(merchant);
    failingPosting = { kind: 'correction', leg: 'second' };
    expect((await move(api, payment.id, 'refunds', { amount: '3000' })).status).to.be.at.least(500);
    expect((await api.get(`/v1/payments/${payment.id}`)).body).to.include({ refunded: '3000', refundable: '7000' });
    const more = await move(api, payment.id, 'refunds', { amount: '7000' });
    expect(expectMoved(more, 'REFUNDED')).to.include({ refunded: '10000' });
    expect(await postedOf(api, merchant)).to.equal(10_000n);
    expect(await postedOf(api, suspense)).to.equal(0n);
    expect(await postedOf(api, clearingId())).to.equal(-10_000n);
    await expectBooksBalanced(temp.store);
  });
});

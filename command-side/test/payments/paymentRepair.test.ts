/**
 * A move interrupted between its money and its record (the store failing the payment's append,
 * as a crash would leave it) is completed from the journals in the log, never posted twice.
 */
import { expect } from 'chai';
import { StoreUnavailableError } from '@folio/shared';
import { interceptAppends } from '../commandHandling/testSupport.js';
import { ApiServer, expectBooksBalanced, uniqueKey } from '../api/apiHarness.js';
import { openTempStore, type TempStore } from '../tempEventStore.js';
import {
  clearingId,
  createPayment,
  expectMoved,
  move,
  openMerchant,
  paymentCallback,
  postedOf,
  quietSandbox,
  sendCallback,
} from './paymentTestSupport.js';

describe('payments interrupted between their money and their record', () => {
  let temp: TempStore;
  let api: ApiServer;
  let failNext: string | undefined;
  /** The kind of journal whose next posting fails: nothing of that journal is written. */
  let failNextPosting: string | undefined;

  beforeEach(async () => {
    temp = openTempStore();
    failNext = undefined;
    failNextPosting = undefined;
    const store = interceptAppends(temp.store, (call, proceed) => {
      const types = call.events.map((event) => event.type);
      if (failNext !== undefined && call.streamName.startsWith('payment-') && types.includes(failNext)) {
        failNext = undefined;
        return Promise.reject(new StoreUnavailableError('the store went away'));
      }
      const kinds = call.events.map((event) => (event.data.journal as { kind?: string } | undefined)?.kind);
      if (failNextPosting !== undefined && call.streamName.startsWith('account-') && kinds.includes(failNextPosting)) {
        failNextPosting = undefined;
        return Promise.reject(new StoreUnavailableError('the store went away'));
      }
      return proceed();
    });
    api = await ApiServer.start(temp.store, { ...quietSandbox, eventStore: store });
  });
  afterEach(async () => {
    await api.stop();
    await temp.dispose();
  });

  it('records a capture whose journal completed when the payment is next read', async () => {
    const merchant = await openMerchant(api);
    const payment = await createPayment(api, merchant);
    expectMoved(await move(api, payment.id, 'submit'), 'PENDING');
    failNext = 'PaymentCaptured';
    const interrupted = await move(api, payment.id, 'capture');
    expect(interrupted.status, interrupted.text).to.be.at.least(500);
    expect(await postedOf(api, merchant)).to.equal(10_000n);
    expect((await api.get(`/v1/payments/${payment.id}`)).body.state).to.equal('PAID');
    expect(await postedOf(api, merchant)).to.equal(10_000n);
    await expectBooksBalanced(temp.store);
  });

  it('finishes a settlement whose net was posted, with the fee it had', async () => {
    const merchant = await openMerchant(api);
    const payment = await createPayment(api, merchant);
    await move(api, payment.id, 'submit');
    expectMoved(await move(api, payment.id, 'capture'), 'PAID');
    failNext = 'PaymentSettled';
    expect((await move(api, payment.id, 'settle', { fee: '120' })).status).to.be.at.least(500);
    const after = (await api.get(`/v1/payments/${payment.id}`)).body;
    expect(after).to.include({ state: 'SETTLED', fee: '120', net: '9880' });
    expect(await postedOf(api, clearingId())).to.equal(0n);
    await expectBooksBalanced(temp.store);
  });

  it('completes a refund whose journal ran, and counts it once', async () => {
    const merchant = await openMerchant(api);
    const payment = await createPayment(api, merchant);
    await move(api, payment.id, 'submit');
    expectMoved(await move(api, payment.id, 'capture'), 'PAID');
    failNext = 'PaymentRefunded';
    expect((await move(api, payment.id, 'refunds', { amount: '4000' })).status).to.be.at.least(500);
    expect((await api.get(`/v1/payments/${payment.id}`)).body).to.include({ refunded: '4000', refundable: '6000' });
    expect(await postedOf(api, merchant)).to.equal(6_000n);
    await expectBooksBalanced(temp.store);
  });

  it('answers a refund retried with its key after an interruption without refunding twice', async () => {
    const merchant = await openMerchant(api);
    const payment = await createPayment(api, merchant);
    await move(api, payment.id, 'submit');
    expectMoved(await move(api, payment.id, 'capture'), 'PAID');
    failNext = 'PaymentRefunded';
    const key = uniqueKey('refund');
    expect((await move(api, payment.id, 'refunds', { amount: '4000' }, key)).status).to.be.at.least(500);
    const retried = await move(api, payment.id, 'refunds', { amount: '4000' }, key);
    expect(retried.status, retried.text).to.equal(201);
    expect(retried.body.payment).to.include({ refunded: '4000', refundable: '6000' });
    expect(await postedOf(api, merchant)).to.equal(6_000n);
    await expectBooksBalanced(temp.store);
  });

  it('answers a capture retried with its key after an interruption with the payment, not a conflict', async () => {
    const merchant = await openMerchant(api);
    const payment = await createPayment(api, merchant);
    await move(api, payment.id, 'submit');
    failNext = 'PaymentCaptured';
    const key = uniqueKey('capture');
    expect((await move(api, payment.id, 'capture', {}, key)).status).to.be.at.least(500);
    expectMoved(await move(api, payment.id, 'capture', {}, key), 'PAID');
    expect(await postedOf(api, merchant)).to.equal(10_000n);
  });

  it('applies a settlement callback that waited for a capture whose record was interrupted, once the capture is completed', async () => {
    const merchant = await openMerchant(api);
    const payment = await createPayment(api, merchant);
    const pending = expectMoved(await move(api, payment.id, 'submit'), 'PENDING');
    const settled = await sendCallback(api, paymentCallback('payment.settled', pending, { fee: '290' }));
    expect(settled.body.outcome, settled.text).to.equal('deferred');
    failNext = 'PaymentCaptured';
    expect((await move(api, payment.id, 'capture')).status).to.be.at.least(500);
    expect((await api.get(`/v1/payments/${payment.id}`)).body).to.include({ state: 'SETTLED', fee: '290', net: '9710' });
    expect(await postedOf(api, clearingId())).to.equal(0n);
    expect(await postedOf(api, merchant)).to.equal(10_000n);
    await expectBooksBalanced(temp.store);
  });

  it('applies a settlement callback that waited for the capture when applying it was interrupted', async () => {
    const merchant = await openMerchant(api);
    const payment = await createPayment(api, merchant);
    const pending = expectMoved(await move(api, payment.id, 'submit'), 'PENDING');
    const settled = await sendCallback(api, paymentCallback('payment.settled', pending, { fee: '290' }));
    expect(settled.body.outcome, settled.text).to.equal('deferred');
    failNextPosting = 'settlement';
    expect((await move(api, payment.id, 'capture')).status).to.be.at.least(500);
    expect((await api.get(`/v1/payments/${payment.id}`)).body).to.include({ state: 'SETTLED', fee: '290', net: '9710' });
    expect(await postedOf(api, clearingId())).to.equal(0n);
    await expectBooksBalanced(temp.store);
  });
});

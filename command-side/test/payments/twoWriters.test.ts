/**
 * Two instances of the write API on one log, as behind a load balancer: each has its own locks and
 * caches, so the steps of one payment may interleave across them. Callbacks about one payment
 * reaching both at once must still leave the money posted once, and the record of a settlement
 * must say what its journals posted.
 */
import { expect } from 'chai';
import { collect, paymentCatalog, paymentStream, systemAccountId, type EventStore, type PaymentCatalogEvent } from '@folio/shared';
import type { CallbackPayloadWire } from '../../src/providers/callbackPayload.js';
import { interceptAppends } from '../commandHandling/testSupport.js';
import { expectBooksBalanced, type ApiServer } from '../api/apiHarness.js';
import { startTwoInstances, type TwoInstances } from '../concurrency/twoInstances.js';
import { clearingId, createPayment, expectMoved, move, openMerchant, paymentCallback, postedOf, quietSandbox, sendCallback } from './paymentTestSupport.js';

describe('two write API instances on one log', () => {
  let instances: TwoInstances;
  let first: ApiServer;
  let second: ApiServer;
  /** Appends of a callback's record to a payment stream wait until this many arrived, so both instances decide at once. */
  let barrier: { count: number; waiting: (() => void)[] } | undefined;

  const gated = (store: EventStore) =>
    interceptAppends(store, async (call, proceed) => {
      const gate = barrier;
      if (gate !== undefined && call.streamName.startsWith('payment-') && call.events.some((event) => event.type === 'PaymentCallbackRecorded')) {
        await new Promise<void>((resolve) => {
          gate.waiting.push(resolve);
          if (gate.waiting.length >= gate.count) {
            barrier = undefined;
            for (const release of gate.waiting) release();
          }
        });
      }
      return proceed();
    });

  beforeEach(async () => {
    barrier = undefined;
    instances = await startTwoInstances({ api: quietSandbox, wrap: { a: gated, b: gated } });
    ({ a: first, b: second } = instances);
  });
  afterEach(async () => {
    await instances.close();
  });

  const paidPayment = async () => {
    const merchant = await openMerchant(first);
    const payment = await createPayment(first, merchant);
    const pending = expectMoved(await move(first, payment.id, 'submit'), 'PENDING');
    expectMoved(await move(first, payment.id, 'capture'), 'PAID');
    // The second instance knows the payment and the accounts as they were before the race.
    expect((await second.get(`/v1/payments/${payment.id}`)).body.state).to.equal('PAID');
    return { merchant, payment: pending };
  };

  /** Sends one callback to each instance at once. */
  const race = async (one: CallbackPayloadWire, other: CallbackPayloadWire) => {
    barrier = { count: 2, waiting: [] };
    const answers = await Promise.all([sendCallback(first, one), sendCallback(second, other)]);
    for (const answer of answers) expect(answer.status, answer.text).to.equal(200);
    return answers;
  };

  const fees = systemAccountId({ role: 'fees', currency: 'EUR' });
  const bank = systemAccountId({ role: 'bank', currency: 'EUR' });

  it('settles once with one fee, the record saying what the journals posted, when two settlements with other fees race', async () => {
    const { merchant, payment } = await paidPayment();
    await race(
      paymentCallback('payment.settled', payment, { fee: '300' }),
      paymentCallback('payment.settled', payment, { fee: '10000' }),
    );
    const views = [(await first.get(`/v1/payments/${payment.id}`)).body, (await second.get(`/v1/payments/${payment.id}`)).body];
    for (const view of views) expect(view.state).to.equal('SETTLED');
    const fee = BigInt(views[0].fee);
    expect(BigInt(views[0].net)).to.equal(10_000n - fee);
    expect({ fees: await postedOf(first, fees), bank: await postedOf(first, bank), clearing: await postedOf(first, clearingId()) }).to.deep.equal({
      fees: -fee,
      bank: -(10_000n - fee),
      clearing: 0n,
    });
    expect(await postedOf(first, merchant)).to.equal(10_000n);
    // The settlement the books did not take is held for a person.
    for (const view of views) expect(view.flaggedForReconciliation).to.equal(true);
    const settled = (await collect(instances.store.readStream(paymentStream(payment.id))))
      .map((recorded) => paymentCatalog.decode(recorded) as PaymentCatalogEvent)
      .filter((event) => event.type === 'PaymentSettled');
    expect(settled).to.have.length(1);
    expect(settled[0]!.data).to.include({ fee });
    await expectBooksBalanced(instances.store);
  });

  it('books one refund once when the provider reports it under two event ids to both instances at once', async () => {
    const { merchant, payment } = await paidPayment();
    await race(
      paymentCallback('payment.refunded', payment, { amount: '2500', refundReference: 're_once' }),
      paymentCallback('payment.refunded', payment, { amount: '2500', refundReference: 're_once' }),
    );
    for (const api of [first, second]) expect((await api.get(`/v1/payments/${payment.id}`)).body).to.include({ refunded: '2500' });
    expect(await postedOf(first, merchant)).to.equal(7_500n);
    expect(await postedOf(first, clearingId())).to.equal(-7_500n);
    await expectBooksBalanced(instances.store);
  });

  it('captures once when the provider reports the capture under two event ids to both instances at once', async () => {
    const merchant = await openMerchant(first);
    const created = await createPayment(first, merchant);
    const payment = expectMoved(await move(first, created.id, 'submit'), 'PENDING');
    expect((await second.get(`/v1/payments/${payment.id}`)).body.state).to.equal('PENDING');
    await race(paymentCallback('payment.captured', payment), paymentCallback('payment.captured', payment));
    for (const api of [first, second]) expect((await api.get(`/v1/payments/${payment.id}`)).body).to.include({ state: 'PAID', captured: '10000' });
    expect(await postedOf(first, merchant)).to.equal(10_000n);
    expect(await postedOf(first, clearingId())).to.equal(-10_000n);
    await expectBooksBalanced(instances.store);
  });

  it('never leaves money captured for a payment recorded as failed when a capture and a failure race', async () => {
    const merchant = await openMerchant(first);
    const created = await createPayment(first, merchant);
    const payment = expectMoved(await move(first, created.id, 'submit'), 'PENDING');
    expect((await second.get(`/v1/payments/${payment.id}`)).body.state).to.equal('PENDING');
    await race(paymentCallback('payment.captured', payment), paymentCallback('payment.failed', payment, { reason: 'card_declined' }));
    const merchantPosted = await postedOf(first, merchant);
    for (const api of [first, second]) {
      const view = (await api.get(`/v1/payments/${payment.id}`)).body;
      // Whichever was decided first stands; the other is held for a person, and the money follows the record.
      expect({ state: view.state, captured: view.captured, merchant: merchantPosted, flagged: view.flaggedForReconciliation }).to.deep.be.oneOf([
        { state: 'PAID', captured: '10000', merchant: 10_000n, flagged: true },
        { state: 'FAILED', captured: '0', merchant: 0n, flagged: true },
      ]);
    }
    expect(await postedOf(first, clearingId())).to.equal(-merchantPosted);
    await expectBooksBalanced(instances.store);
  });
});

/**
 * Two instances of the write API on one log: a provider callback recorded as applied on one, and,
 * before its change follows, a move started on the other that holds that change back (a refund
 * reserved holds off a settlement, a settlement being posted holds off a refund). The provider was
 * answered `applied` and never sends the callback again, so its money is booked once that move
 * ended, by the instance that ends it; only a callback the books then contradict is refused.
 */
import { expect } from 'chai';
import { systemAccountId } from '@folio/shared';
import type { CallbackPayloadWire } from '../../src/providers/callbackPayload.js';
import { expectBooksBalanced, uniqueKey, type ApiResponse, type ApiServer } from '../api/apiHarness.js';
import { holdAppends, startTwoInstances, type AppendGate, type TwoInstances } from '../concurrency/twoInstances.js';
import type { AppendCall } from '../commandHandling/testSupport.js';
import { clearingId, createPayment, expectMoved, move, openMerchant, paymentCallback, postedOf, quietSandbox, sendCallback } from './paymentTestSupport.js';

/** An append of an event of `type` to a payment's stream. */
const appendOf =
  (type: string) =>
  (call: AppendCall): boolean =>
    call.streamName.startsWith('payment-') && call.events.some((event) => event.type === type);

describe('callbacks held back by a move another instance started', () => {
  let instances: TwoInstances;
  let first: ApiServer;
  let second: ApiServer;

  const bank = systemAccountId({ role: 'bank', currency: 'EUR' });
  const fees = systemAccountId({ role: 'fees', currency: 'EUR' });

  /**
   * Two instances on one log: the first stopped before its append of `firstHeld`, the second before
   * its append of `secondHeld`.
   */
  const start = async (firstHeld: string, secondHeld: string): Promise<{ a: AppendGate; b: AppendGate }> => {
    const gates = { a: holdAppends(appendOf(firstHeld)), b: holdAppends(appendOf(secondHeld)) };
    instances = await startTwoInstances({ api: quietSandbox, wrap: { a: gates.a.wrap, b: gates.b.wrap } });
    ({ a: first, b: second } = instances);
    return gates;
  };
  afterEach(async () => {
    await instances.close();
  });

  /** A payment of 10000 captured, known to both instances. */
  const paidPayment = async () => {
    const merchant = await openMerchant(first);
    const created = await createPayment(first, merchant);
    const payment = expectMoved(await move(first, created.id, 'submit'), 'PENDING');
    expectMoved(await move(first, payment.id, 'capture'), 'PAID');
    expect((await second.get(`/v1/payments/${payment.id}`)).body.state).to.equal('PAID');
    return { merchant, payment };
  };

  /**
   * The callback is recorded as applied on the first instance, which stops before its change; the
   * second starts `blocking` and stops within it; the first goes on (the move under way refuses its
   * change), then the second ends its move. Returns both answers.
   */
  const interleave = async (
    gates: { a: AppendGate; b: AppendGate },
    callback: CallbackPayloadWire,
    blocking: () => Promise<ApiResponse>,
  ): Promise<{ callback: ApiResponse; move: ApiResponse }> => {
    const answered = sendCallback(first, callback);
    await gates.a.reached;
    const moved = blocking();
    await gates.b.reached;
    gates.a.release();
    const callbackAnswer = await answered;
    gates.b.release();
    return { callback: callbackAnswer, move: await moved };
  };

  const viewsOf = async (paymentId: string) => [
    (await first.get(`/v1/payments/${paymentId}`)).body,
    (await second.get(`/v1/payments/${paymentId}`)).body,
  ];

  it('books a settlement the provider reported once a refund reserved meanwhile on another instance ended', async () => {
    const gates = await start('PaymentSettlementStarted', 'PaymentRefundAccepted');
    const { merchant, payment } = await paidPayment();
    const answers = await interleave(gates, paymentCallback('payment.settled', payment, { fee: '300' }), () =>
      second.post(`/v1/payments/${payment.id}/refunds`, { amount: '2500' }, { key: uniqueKey('refund') }),
    );
    expect(answers.callback.status, answers.callback.text).to.equal(200);
    expect(answers.callback.body).to.include({ outcome: 'applied', flaggedForReconciliation: false });
    expect(answers.move.status, answers.move.text).to.equal(201);
    for (const view of await viewsOf(payment.id)) {
      expect(view).to.include({ state: 'SETTLED', refunded: '2500', fee: '300', net: '7200', flaggedForReconciliation: false });
    }
    expect({
      merchant: await postedOf(first, merchant),
      clearing: await postedOf(first, clearingId()),
      bank: await postedOf(first, bank),
      fees: await postedOf(first, fees),
    }).to.deep.equal({ merchant: 7_500n, clearing: 0n, bank: -7_200n, fees: -300n });
    await expectBooksBalanced(instances.store);
  });

  it('books a refund the provider reported once a settlement started meanwhile on another instance ended', async () => {
    const gates = await start('PaymentRefundRequested', 'PaymentSettled');
    const { merchant, payment } = await paidPayment();
    const answers = await interleave(
      gates,
      paymentCallback('payment.refunded', payment, { amount: '2500', refundReference: 're_held_back' }),
      () => move(second, payment.id, 'settle', { fee: '300' }),
    );
    expect(answers.callback.status, answers.callback.text).to.equal(200);
    expect(answers.callback.body).to.include({ outcome: 'applied', flaggedForReconciliation: false });
    expectMoved(answers.move, 'SETTLED');
    for (const view of await viewsOf(payment.id)) {
      expect(view).to.include({ state: 'SETTLED', refunded: '2500', fee: '300', net: '9700', flaggedForReconciliation: false });
    }
    expect({
      merchant: await postedOf(first, merchant),
      clearing: await postedOf(first, clearingId()),
      bank: await postedOf(first, bank),
    }).to.deep.equal({ merchant: 7_500n, clearing: 0n, bank: -7_200n });
    await expectBooksBalanced(instances.store);
  });

  it('refuses and flags a settlement whose amount the refund that held it back made contrary to the books', async () => {
    const gates = await start('PaymentSettlementStarted', 'PaymentRefundAccepted');
    const { merchant, payment } = await paidPayment();
    const answers = await interleave(gates, paymentCallback('payment.settled', payment, { amount: '10000', fee: '300' }), () =>
      second.post(`/v1/payments/${payment.id}/refunds`, { amount: '2500' }, { key: uniqueKey('refund') }),
    );
    expect(answers.callback.status, answers.callback.text).to.equal(200);
    expect(answers.move.status, answers.move.text).to.equal(201);
    // The provider paid out 10000; the books hold 7500 to settle: a person reconciles it.
    for (const view of await viewsOf(payment.id)) {
      expect(view).to.include({ state: 'PAID', refunded: '2500', flaggedForReconciliation: true });
    }
    expect({ merchant: await postedOf(first, merchant), bank: await postedOf(first, bank) }).to.deep.equal({ merchant: 7_500n, bank: 0n });
    await expectBooksBalanced(instances.store);
  });
});

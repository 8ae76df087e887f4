import { expect } from 'chai';
import { paymentStream, payoutStream } from '@folio/shared';
import { CommandIdReusedError } from '../../src/commandHandling/commandErrors.js';
import { createPaymentCommandHandler } from '../../src/payments/paymentCommandHandler.js';
import { createPayoutCommandHandler } from '../../src/payouts/payoutCommandHandler.js';
import { contextFor, openTempStore, rejectionOf, type TempStore } from './testSupport.js';

const PAYMENT = '7400000000000000001';
const PAYOUT = '7600000000000000001';
const MERCHANT = '7300000000000000001';
const AT = '2026-01-02T03:04:05.000Z';
const LATER = '2026-01-02T03:09:05.000Z';

/**
 * Two runs of one step, under one command id, word or time it as each found it: what they ask is
 * the same, so the second is answered as the first's retry, and the first's words stand. What
 * they ask differs only where the money or the outcome would.
 */
describe('command identities: what a payment or payout command asks', () => {
  let temp: TempStore;

  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(() => temp.dispose());

  const createPayment = (amount: bigint, commandId = `create-${PAYMENT}`) =>
    createPaymentCommandHandler(temp.store).handle(
      paymentStream(PAYMENT),
      {
        type: 'CreatePayment',
        paymentId: PAYMENT,
        merchantAccountId: MERCHANT,
        amount,
        currency: 'EUR',
        provider: 'sandbox',
        captureJournalId: '7400000000000000011',
        settlementJournalId: '7400000000000000012',
        feeJournalId: '7400000000000000013',
        at: AT,
      },
      contextFor(commandId),
    );

  it('answers a payment failed again in other words as the failure recorded, which stands', async () => {
    await createPayment(10_000n);
    const payments = createPaymentCommandHandler(temp.store);
    const first = await payments.handle(paymentStream(PAYMENT), { type: 'FailPayment', reason: 'card declined', at: AT }, contextFor(`fail-${PAYMENT}`));
    // Another instance, its own cache, another delivery of the news.
    const second = await createPaymentCommandHandler(temp.store).handle(
      paymentStream(PAYMENT),
      { type: 'FailPayment', reason: 'expired', at: LATER },
      contextFor(`fail-${PAYMENT}`),
    );
    expect(first.replayed).to.equal(false);
    expect(second).to.deep.include({ replayed: true, appended: 0 });
    const { state } = await createPaymentCommandHandler(temp.store).load(paymentStream(PAYMENT), { fresh: true });
    expect(state).to.deep.include({ state: 'FAILED', failureReason: 'card declined' });
  });

  it('refuses a payment created again under its command id for another amount', async () => {
    await createPayment(10_000n);
    const error = await rejectionOf(createPaymentCommandHandler(temp.store).handle(
      paymentStream(PAYMENT),
      {
        type: 'CreatePayment',
        paymentId: PAYMENT,
        merchantAccountId: MERCHANT,
        amount: 20_000n,
        currency: 'EUR',
        provider: 'sandbox',
        captureJournalId: '7400000000000000011',
        settlementJournalId: '7400000000000000012',
        feeJournalId: '7400000000000000013',
        at: AT,
      },
      contextFor(`create-${PAYMENT}`),
    ));
    expect(error).to.be.instanceOf(CommandIdReusedError);
  });

  const requestPayout = (amount: bigint, deadline: string) =>
    createPayoutCommandHandler(temp.store).handle(
      payoutStream(PAYOUT),
      {
        type: 'RequestPayout',
        payoutId: PAYOUT,
        accountId: MERCHANT,
        amount,
        currency: 'EUR',
        provider: 'sandbox',
        destination: 'DE89370400440532013000',
        at: AT,
        deadline,
      },
      contextFor(`request-${PAYOUT}`),
    );

  it('answers a payout requested again by a run with another deadline as the request recorded', async () => {
    expect((await requestPayout(4_000n, AT)).replayed).to.equal(false);
    expect(await requestPayout(4_000n, LATER)).to.deep.include({ replayed: true, appended: 0 });
    expect(await rejectionOf(requestPayout(5_000n, AT))).to.be.instanceOf(CommandIdReusedError);
  });

  it('answers a payout failed at its deadline and by the provider, one instance each, as the failure recorded first', async () => {
    await requestPayout(4_000n, AT);
    const fail = (reason: string, timedOut: boolean) =>
      createPayoutCommandHandler(temp.store).handle(
        payoutStream(PAYOUT),
        { type: 'MarkPayoutFailed', reason, timedOut, at: LATER },
        contextFor(`failed-${PAYOUT}`),
      );
    expect((await fail('insufficient funds at the bank', false)).replayed).to.equal(false);
    expect(await fail('no answer before the deadline', true)).to.deep.include({ replayed: true, appended: 0 });
    const { state } = await createPayoutCommandHandler(temp.store).load(payoutStream(PAYOUT), { fresh: true });
    expect(state).to.deep.include({ state: 'FAILED', failureReason: 'insufficient funds at the bank', timedOut: false });
  });
});

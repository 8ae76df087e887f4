import { expect } from 'chai';
import { accountStream, paymentStream, payoutStream, reconciliationStream } from '@folio/shared';
import { createAccountCommandHandler } from '../../src/accounts/accountCommandHandler.js';
import { CommandIdReusedError } from '../../src/commandHandling/commandErrors.js';
import { createPaymentCommandHandler } from '../../src/payments/paymentCommandHandler.js';
import { createPayoutCommandHandler } from '../../src/payouts/payoutCommandHandler.js';
import { createDiscrepancyCommandHandler } from '../../src/reconciliation/discrepancyCommandHandler.js';
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

  // Each call is another instance's handler, with a cache of its own.
  const createPayment = (amount: bigint) =>
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
      contextFor(`create-${PAYMENT}`),
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
    const error = await rejectionOf(createPayment(20_000n));
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

describe('command identities: what an account or discrepancy command asks', () => {
  let temp: TempStore;

  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(() => temp.dispose());

  const ACCOUNT = '7300000000000000002';

  /** An account that may owe 10 000, holding 4 000 for the payout `PAYOUT`. */
  const holding = async () => {
    const accounts = createAccountCommandHandler(temp.store);
    const stream = accountStream(ACCOUNT);
    await accounts.handle(
      stream,
      { type: 'OpenAccount', accountId: ACCOUNT, ownerId: 'owner-1', currency: 'EUR', kind: 'customer', overdraftLimit: 10_000n },
      contextFor(`open-${ACCOUNT}`),
    );
    await accounts.handle(
      stream,
      { type: 'PlaceHold', accountId: ACCOUNT, holdId: PAYOUT, amount: 4_000n, currency: 'EUR', purpose: 'payout' },
      contextFor(`hold-${PAYOUT}`),
    );
  };

  const release = (holdId: string, reason: string) =>
    createAccountCommandHandler(temp.store).handle(
      accountStream(ACCOUNT),
      { type: 'ReleaseHold', accountId: ACCOUNT, holdId, reason },
      contextFor(`release-${PAYOUT}`),
    );

  it("answers a payout's hold released again in the words of another failure as the release recorded", async () => {
    await holding();
    // One instance releases it as the provider's failure says, the other at the payout's deadline.
    expect((await release(PAYOUT, 'account_closed')).replayed).to.equal(false);
    expect(await release(PAYOUT, 'no answer from the provider before the deadline')).to.deep.include({ replayed: true, appended: 0 });
    const { state } = await createAccountCommandHandler(temp.store).load(accountStream(ACCOUNT), { fresh: true });
    expect(state).to.deep.include({ holds: {} });
  });

  it('refuses another hold released under a release command id already used', async () => {
    await holding();
    await release(PAYOUT, 'account_closed');
    expect(await rejectionOf(release('7600000000000000002', 'account_closed'))).to.be.instanceOf(CommandIdReusedError);
  });

  const DISCREPANCY = '0123456789abcdef0123456789abcdef';
  const JOURNAL = '7700000000000000001';

  it("answers a correcting journal's failure recorded again as another run saw it as the failure recorded, which stands", async () => {
    const stream = reconciliationStream(DISCREPANCY);
    const correction = { amount: 2_500n, currency: 'EUR' as const, provider: 'sandbox' as const };
    const why = { discrepancyId: DISCREPANCY, by: 'key:ops', reason: 'ghost charge' };
    await createDiscrepancyCommandHandler(temp.store).handle(
      stream,
      { type: 'start-resolution', resolution: 'suspense', journalId: JOURNAL, correction, ...why, at: AT },
      contextFor(`start-resolution-${JOURNAL}`),
    );
    // The claimant's run and the request taking its claim over each met the refusal of their moment.
    const fail = (failure: { type: string; detail: string }) =>
      createDiscrepancyCommandHandler(temp.store).handle(
        stream,
        { type: 'fail-resolution', journalId: JOURNAL, failure, ...why, at: LATER },
        contextFor(`fail-resolution-${JOURNAL}`),
      );
    const first = { type: 'balance-out-of-range', detail: 'the posting would take account 1 beyond the bound' };
    expect((await fail(first)).replayed).to.equal(false);
    const second = await fail({ type: 'balance-out-of-range', detail: 'the posting would take account 2 beyond the bound' });
    expect(second).to.deep.include({ replayed: true, appended: 0 });
    expect(second.state.failed.get(JOURNAL)).to.deep.equal(first);
  });
});

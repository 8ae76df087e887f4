/**
 * A payout the provider answered `payout.failed` fails as the provider said, whoever records the
 * failure: a deadline passing before the answer's money moved (another instance recording it)
 * must not record the payout timed out, with the deadline's reason, against the provider's answer.
 */
import type { EventPayload } from '../../src/commandHandling/decider.js';
import { payoutDecider } from '../../src/payouts/payoutDecider.js';
import type { PayoutEvent } from '../../src/payouts/payoutState.js';
import { deciderSpec } from '../deciderSpecification.js';

type Event = EventPayload<PayoutEvent>;

const PAYOUT = '7600000000000000000';
const AT = '2026-01-02T03:04:05.000Z';
const spec = deciderSpec(payoutDecider);

const requested: Event = {
  type: 'PayoutRequested',
  data: {
    payoutId: PAYOUT,
    accountId: '7300000000000000001',
    amount: 4_000n,
    currency: 'EUR',
    provider: 'sandbox',
    destination: 'DE89370400440532013000',
    requestedAt: AT,
    deadline: AT,
  },
};
const submitted: Event = { type: 'PayoutSubmitted', data: { payoutId: PAYOUT, providerRef: 'po_1', submittedAt: AT } };
const failedAnswered = (reason?: string): Event => ({
  type: 'PayoutCallbackRecorded',
  data: {
    payoutId: PAYOUT,
    provider: 'sandbox',
    eventId: 'evt-1',
    callbackType: 'payout.failed',
    ...(reason === undefined ? {} : { reason }),
    providerCreatedAt: AT,
    outcome: 'applied',
    flaggedForReconciliation: false,
    detail: 'payout.failed',
    receivedAt: AT,
  },
});
const deadlinePassed = { type: 'MarkPayoutFailed', reason: 'no answer', timedOut: true, at: AT } as const;

describe('a payout the provider reported failed', () => {
  it('fails for the reason the provider gave, not timed out, when its deadline records the failure', () => {
    spec
      .given([requested, submitted, failedAnswered('account_closed')])
      .when(deadlinePassed)
      .then([
        {
          type: 'PayoutFailed',
          data: { payoutId: PAYOUT, reason: 'account_closed', timedOut: false, failedAt: AT, callbackEventId: 'evt-1' },
        },
      ]);
  });

  it('fails as refused by the provider when its answer gave no reason', () => {
    spec
      .given([requested, submitted, failedAnswered()])
      .when(deadlinePassed)
      .then([
        {
          type: 'PayoutFailed',
          data: { payoutId: PAYOUT, reason: 'refused by the provider', timedOut: false, failedAt: AT, callbackEventId: 'evt-1' },
        },
      ]);
  });

  it('fails as its answer says when the answer itself records the failure', () => {
    spec
      .given([requested, submitted, failedAnswered('account_closed')])
      .when({ type: 'MarkPayoutFailed', reason: 'account_closed', timedOut: false, at: AT, callbackEventId: 'evt-1' })
      .then([
        {
          type: 'PayoutFailed',
          data: { payoutId: PAYOUT, reason: 'account_closed', timedOut: false, failedAt: AT, callbackEventId: 'evt-1' },
        },
      ]);
  });
});

import { expect } from 'chai';
import type { EventPayload } from '../../src/commandHandling/decider.js';
import { classifyPayoutCallback, payoutDecider, type PayoutCommand } from '../../src/payouts/payoutDecider.js';
import { IllegalPayoutTransitionError, PayoutNotFoundError } from '../../src/payouts/payoutErrors.js';
import type { ExistingPayout, PayoutCallback, PayoutEvent } from '../../src/payouts/payoutState.js';
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
const paid: Event = { type: 'PayoutPaid', data: { payoutId: PAYOUT, journalId: PAYOUT, paidAt: AT } };
const timedOut: Event = {
  type: 'PayoutFailed',
  data: { payoutId: PAYOUT, reason: 'no answer', timedOut: true, failedAt: AT },
};
const paidAnswered: Event = {
  type: 'PayoutCallbackRecorded',
  data: {
    payoutId: PAYOUT,
    provider: 'sandbox',
    eventId: 'evt-1',
    callbackType: 'payout.paid',
    providerCreatedAt: AT,
    outcome: 'applied',
    flaggedForReconciliation: false,
    detail: 'payout.paid',
    receivedAt: AT,
  },
};
const callback = (callbackType: PayoutCallback['callbackType'], eventId = 'evt-1'): PayoutCallback => ({
  eventId,
  callbackType,
  providerCreatedAt: AT,
});
const stateAfter = (events: Event[]) => events.reduce(payoutDecider.evolve, payoutDecider.initialState()) as ExistingPayout;

describe('payout decider', () => {
  it('pays or fails a payout waiting for the provider, once', () => {
    spec.given([requested, submitted]).when({ type: 'MarkPayoutPaid', at: AT }).then([paid]);
    spec
      .given([requested, submitted, paid])
      .when({ type: 'MarkPayoutFailed', reason: 'late', timedOut: false, at: AT })
      .thenThrows(IllegalPayoutTransitionError, {
        type: 'illegal-payout-transition',
        status: 409,
        extensions: { currentState: 'PAID', allowedTransitions: [] },
      });
    spec.given([requested, timedOut]).when({ type: 'MarkPayoutPaid', at: AT }).thenThrows(IllegalPayoutTransitionError);
  });

  it("applies the provider's first answer; a contrary one after it is superseded and flagged", () => {
    expect(classifyPayoutCallback(stateAfter([requested, submitted]), callback('payout.paid'))).to.include({ outcome: 'applied' });
    expect(classifyPayoutCallback(stateAfter([requested, submitted, paid]), callback('payout.paid'))).to.include({
      outcome: 'outdated',
      flagged: false,
    });
    expect(classifyPayoutCallback(stateAfter([requested, timedOut]), callback('payout.paid'))).to.include({
      outcome: 'superseded',
      flagged: true,
    });
  });

  it('holds a payout the provider reported paid to that answer until its money has moved', () => {
    spec
      .given([requested, submitted, paidAnswered])
      .when({ type: 'MarkPayoutFailed', reason: 'no answer', timedOut: true, at: AT })
      .thenThrows(IllegalPayoutTransitionError, {
        type: 'illegal-payout-transition',
        status: 409,
        extensions: { currentState: 'SUBMITTED', allowedTransitions: ['pay'] },
      });
    spec.given([requested, submitted, paidAnswered]).when({ type: 'MarkPayoutPaid', at: AT }).then([paid]);
    const answered = stateAfter([requested, submitted, paidAnswered]);
    expect(classifyPayoutCallback(answered, callback('payout.paid', 'evt-2'))).to.include({
      outcome: 'outdated',
      flagged: false,
    });
    expect(classifyPayoutCallback(answered, callback('payout.failed', 'evt-3'))).to.include({
      outcome: 'superseded',
      flagged: true,
    });
  });

  it('recognises a repeated event id as a duplicate that leaves the state as it was', () => {
    const state = spec
      .given([requested, submitted])
      .when({ type: 'ReceivePayoutCallback', callback: callback('payout.paid', 'evt-9'), at: AT })
      .then([
        {
          type: 'PayoutCallbackRecorded',
          data: {
            payoutId: PAYOUT,
            provider: 'sandbox',
            eventId: 'evt-9',
            callbackType: 'payout.paid',
            providerCreatedAt: AT,
            outcome: 'applied',
            flaggedForReconciliation: false,
            detail: 'payout.paid',
            receivedAt: AT,
          },
        },
      ]) as ExistingPayout;
    expect(classifyPayoutCallback(state, callback('payout.failed', 'evt-9')).outcome).to.equal('duplicate');
  });

  describe('payouts abandoned before they were requested', () => {
    // Other times than the request's, so each event is seen to carry its own command's.
    const ABANDONED_AT = '2026-01-03T00:00:00.000Z';
    const LATE_AT = '2026-01-04T00:00:00.000Z';
    const REASON = 'hold found without its request on start: released';
    const abandoned: Event = {
      type: 'PayoutAbandoned',
      data: { payoutId: PAYOUT, accountId: '7300000000000000001', reason: REASON, abandonedAt: ABANDONED_AT },
    };
    const abandon = (reason = REASON): PayoutCommand => ({
      type: 'AbandonPayout',
      payoutId: PAYOUT,
      accountId: '7300000000000000001',
      reason,
      at: ABANDONED_AT,
    });
    const request = (at: string): PayoutCommand => ({
      type: 'RequestPayout',
      payoutId: PAYOUT,
      accountId: '7300000000000000001',
      amount: 4_000n,
      currency: 'EUR',
      provider: 'sandbox',
      destination: 'DE89370400440532013000',
      at,
      deadline: AT,
    });
    const requestedLate = { ...requested, data: { ...requested.data, requestedAt: LATE_AT } } as Event;

    it('a payout never abandoned is requested and nothing more', () => {
      const state = spec.given([]).when(request(AT)).then([requested]) as ExistingPayout;
      expect(state).to.include({ exists: true, state: 'PENDING' });
    });

    it('abandons a payout on its empty stream, once', () => {
      const state = spec.given([]).when(abandon()).then([abandoned]);
      expect(state).to.deep.equal({ exists: false, abandoned: REASON });
      spec.given([abandoned]).when(abandon('another reason')).thenNothing();
    });

    it('abandons no payout once requested, whatever its state', () => {
      for (const history of [[requested], [requested, submitted], [requested, submitted, paid], [requested, timedOut]]) {
        spec.given(history).when(abandon()).thenNothing();
      }
    });

    it('fails a payout requested after its abandonment, for the reason it was abandoned, without asking the provider', () => {
      const failed: Event = { type: 'PayoutFailed', data: { payoutId: PAYOUT, reason: REASON, timedOut: false, failedAt: LATE_AT } };
      const state = spec
        .given([abandoned])
        .when(request(LATE_AT))
        .then([requestedLate, failed]) as ExistingPayout;
      expect(state).to.include({ exists: true, state: 'FAILED', failureReason: REASON, timedOut: false });
      const history = [abandoned, requestedLate, failed];
      spec
        .given(history)
        .when({ type: 'SubmitPayout', providerRef: 'po_1', at: LATE_AT })
        .thenThrows(IllegalPayoutTransitionError, {
          type: 'illegal-payout-transition',
          status: 409,
          extensions: { currentState: 'FAILED', allowedTransitions: [] },
        });
      spec.given(history).when({ type: 'MarkPayoutPaid', at: LATE_AT }).thenThrows(IllegalPayoutTransitionError);
      spec.given(history).when(request(LATE_AT)).thenNothing();
    });

    it('refuses every other move on a payout abandoned and never requested as not found', () => {
      const moves: PayoutCommand[] = [
        { type: 'SubmitPayout', providerRef: 'po_1', at: AT },
        { type: 'MarkPayoutPaid', at: AT },
        { type: 'MarkPayoutFailed', reason: 'no answer', timedOut: true, at: AT },
        { type: 'ReceivePayoutCallback', callback: callback('payout.paid'), at: AT },
      ];
      for (const move of moves) {
        spec
          .given([abandoned])
          .when(move)
          .thenThrows(PayoutNotFoundError, { type: 'payout-not-found', status: 404, extensions: { payoutId: 'unknown' } });
      }
    });

    it('folds an abandonment recorded after the request as nothing: the payout goes on', () => {
      expect(stateAfter([requested, submitted, abandoned])).to.deep.equal(stateAfter([requested, submitted]));
      spec.given([requested, submitted, abandoned]).when({ type: 'MarkPayoutPaid', at: AT }).then([paid]);
    });
  });
});

/**
 * A payout the provider answered `payout.failed` fails as the provider said, whoever records the
 * failure: a deadline passing before the answer's money moved (another instance recording it)
 * must not record the payout timed out, with the deadline's reason, against the provider's answer.
 */
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

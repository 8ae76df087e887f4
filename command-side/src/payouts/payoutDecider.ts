import type { CurrencyCode, PaymentProvider } from '@folio/shared';
import type { Decider, EventPayload } from '../commandHandling/decider.js';
import type { Classification } from '../payments/paymentDecider.js';
import { IllegalPayoutTransitionError, PayoutNotFoundError } from './payoutErrors.js';
import {
  isOpen,
  reportedPaid,
  type ExistingPayout,
  type PayoutCallback,
  type PayoutEvent,
  type PayoutState,
} from './payoutState.js';

export type PayoutCommand =
  | {
      type: 'RequestPayout';
      payoutId: string;
      accountId: string;
      amount: bigint;
      currency: CurrencyCode;
      provider: PaymentProvider;
      destination: string;
      at: string;
      deadline: string;
    }
  | { type: 'SubmitPayout'; providerRef: string; at: string }
  | { type: 'MarkPayoutPaid'; at: string; callbackEventId?: string }
  | { type: 'MarkPayoutFailed'; reason: string; timedOut: boolean; at: string; callbackEventId?: string }
  | { type: 'ReceivePayoutCallback'; callback: PayoutCallback; at: string }
  | { type: 'AbandonPayout'; payoutId: string; accountId: string; reason: string; at: string };

type Event = EventPayload<PayoutEvent>;

const requirePayout = (state: PayoutState): ExistingPayout => {
  if (!state.exists) throw new PayoutNotFoundError('unknown');
  return state;
};

/** Why a payout fails that the provider reported failed without a reason. */
export const REFUSED_BY_PROVIDER = 'refused by the provider';

const stateReported = (callback: PayoutCallback): 'PAID' | 'FAILED' =>
  callback.callbackType === 'payout.paid' ? 'PAID' : 'FAILED';

/**
 * How the payout ends, or must end: as the provider's first answer says, or as it ended without
 * one (timed out, not taken by the provider); undefined while it waits for an answer.
 */
const settledAs = (payout: ExistingPayout): 'PAID' | 'FAILED' | undefined => {
  if (payout.answer !== undefined) return stateReported(payout.answer);
  return payout.state === 'PAID' || payout.state === 'FAILED' ? payout.state : undefined;
};

/** What a callback names that is not the payout's money: it is about another payout, or wrong. */
const moneyMismatch = (payout: ExistingPayout, callback: PayoutCallback): string | undefined => {
  if (callback.currency !== undefined && callback.currency !== payout.currency)
    return `${callback.callbackType} in ${callback.currency}, the payout is in ${payout.currency}`;
  if (callback.amount !== undefined && callback.amount !== payout.amount)
    return `${callback.callbackType} for ${callback.amount}, the payout is for ${payout.amount}`;
  return undefined;
};

/**
 * A payout callback against the payout's state: the first answer wins, even before its money
 * has moved; a contrary answer after it (paid after the hold was released on timeout) moves no
 * money and is flagged, and so does one naming another amount or currency than the payout's.
 */
export const classifyPayoutCallback = (payout: ExistingPayout, callback: PayoutCallback): Classification => {
  const seen = payout.callbacks[callback.eventId];
  if (seen !== undefined)
    return { outcome: 'duplicate', flagged: false, detail: `event ${callback.eventId} was already received (${seen})` };
  const mismatch = moneyMismatch(payout, callback);
  if (mismatch !== undefined) return { outcome: 'refused', flagged: true, detail: mismatch };
  const settled = settledAs(payout);
  if (settled === undefined) return { outcome: 'applied', flagged: false, detail: callback.callbackType };
  const standing = isOpen(payout)
    ? `reported ${payout.answer!.callbackType} by the provider`
    : `recorded as ${payout.state}${payout.timedOut ? ' (timed out)' : ''}`;
  if (stateReported(callback) === settled) {
    return { outcome: 'outdated', flagged: false, detail: `the payout is already ${standing}` };
  }
  return {
    outcome: 'superseded',
    flagged: true,
    detail: `the provider reports ${callback.callbackType} for a payout ${standing}`,
  };
};

const decide = (command: PayoutCommand, state: PayoutState): Event[] => {
  if (command.type === 'RequestPayout') {
    if (state.exists) return [];
    const { type: _type, at, ...data } = command;
    const requested: Event = { type: 'PayoutRequested', data: { ...data, requestedAt: at } };
    if (state.abandoned === undefined) return [requested];
    // Its hold was released as an interrupted payout's: the provider must never be asked.
    const failed: Event = {
      type: 'PayoutFailed',
      data: { payoutId: command.payoutId, reason: state.abandoned, timedOut: false, failedAt: at },
    };
    return [requested, failed];
  }
  if (command.type === 'AbandonPayout') {
    if (state.exists || state.abandoned !== undefined) return [];
    const { payoutId, accountId, reason, at } = command;
    return [{ type: 'PayoutAbandoned', data: { payoutId, accountId, reason, abandonedAt: at } }];
  }
  const payout = requirePayout(state);
  const { payoutId } = payout;
  const cause =
    'callbackEventId' in command && command.callbackEventId !== undefined ? { callbackEventId: command.callbackEventId } : {};
  switch (command.type) {
    case 'SubmitPayout':
      if (payout.providerRef === command.providerRef) return [];
      if (payout.state !== 'PENDING') throw new IllegalPayoutTransitionError(payout, 'submit');
      return [{ type: 'PayoutSubmitted', data: { payoutId, providerRef: command.providerRef, submittedAt: command.at } }];
    case 'MarkPayoutPaid':
      if (!isOpen(payout)) throw new IllegalPayoutTransitionError(payout, 'pay');
      return [{ type: 'PayoutPaid', data: { payoutId, journalId: payoutId, paidAt: command.at, ...cause } }];
    case 'MarkPayoutFailed': {
      if (!isOpen(payout) || reportedPaid(payout)) throw new IllegalPayoutTransitionError(payout, 'fail');
      // The provider reported it failed: it fails as it said, whoever records it (a deadline racing the answer).
      const { answer } = payout;
      const failure =
        answer === undefined
          ? { reason: command.reason, timedOut: command.timedOut, ...cause }
          : { reason: answer.reason ?? REFUSED_BY_PROVIDER, timedOut: false, callbackEventId: answer.eventId };
      return [{ type: 'PayoutFailed', data: { payoutId, ...failure, failedAt: command.at } }];
    }
    case 'ReceivePayoutCallback': {
      const { callback } = command;
      const classification = classifyPayoutCallback(payout, callback);
      return [
        {
          type: 'PayoutCallbackRecorded',
          data: {
            payoutId,
            provider: payout.provider,
            eventId: callback.eventId,
            callbackType: callback.callbackType,
            ...(callback.amount === undefined ? {} : { amount: callback.amount }),
            ...(callback.currency === undefined ? {} : { currency: callback.currency }),
            ...(callback.reason === undefined ? {} : { reason: callback.reason }),
            providerCreatedAt: callback.providerCreatedAt,
            outcome: classification.outcome,
            flaggedForReconciliation: classification.flagged,
            detail: classification.detail,
            receivedAt: command.at,
          },
        },
      ];
    }
  }
};

const evolve = (state: PayoutState, event: Event): PayoutState => {
  if (event.type === 'PayoutRequested') {
    return { exists: true, ...event.data, state: 'PENDING', timedOut: false, callbacks: {}, flaggedForReconciliation: false };
  }
  if (!state.exists) return event.type === 'PayoutAbandoned' ? { exists: false, abandoned: event.data.reason } : state;
  switch (event.type) {
    case 'PayoutSubmitted':
      return { ...state, state: 'SUBMITTED', providerRef: event.data.providerRef };
    case 'PayoutPaid':
      return { ...state, state: 'PAID' };
    case 'PayoutFailed':
      return { ...state, state: 'FAILED', failureReason: event.data.reason, timedOut: event.data.timedOut };
    case 'PayoutAbandoned':
      // Decided only while the stream is empty: a payout requested first is not abandoned.
      return state;
    case 'PayoutCallbackRecorded': {
      const { eventId, callbackType, amount, currency, reason, providerCreatedAt, outcome, flaggedForReconciliation } = event.data;
      const answered = outcome === 'applied' && state.answer === undefined;
      const answer = {
        eventId,
        callbackType,
        providerCreatedAt,
        ...(amount === undefined ? {} : { amount }),
        ...(currency === undefined ? {} : { currency }),
        ...(reason === undefined ? {} : { reason }),
      };
      return {
        ...state,
        ...(answered ? { answer } : {}),
        callbacks: outcome === 'duplicate' ? state.callbacks : { ...state.callbacks, [eventId]: outcome },
        flaggedForReconciliation: state.flaggedForReconciliation || flaggedForReconciliation,
      };
    }
  }
};

export const payoutDecider: Decider<PayoutState, PayoutCommand, Event> = {
  initialState: () => ({ exists: false }),
  evolve,
  decide,
};

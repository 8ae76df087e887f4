import type { CallbackOutcome, CurrencyCode, PaymentProvider, PaymentStateName } from '@folio/shared';
import type { Decider, EventPayload } from '../commandHandling/decider.js';
import type { AccountStatus } from '../accounts/accountState.js';
import { ProviderDeclinedError } from '../providers/providerErrors.js';
import type { ReferenceOwner } from '../providers/providerReferences.js';
import {
  FeeExceedsSettlementError,
  IllegalPaymentTransitionError,
  PaymentAlreadyExistsError,
  PaymentNotFoundError,
  ProviderReferenceTakenError,
  RefundExceedsCapturedError,
} from './paymentErrors.js';
import {
  refundable,
  refundSource,
  suspensePartOf,
  type ExistingPayment,
  type MoneyRoute,
  type PaymentCallback,
  type PaymentEvent,
  type PaymentState,
  type RefundInFlight,
} from './paymentState.js';

/** Commands carry their business time (`at`): deciders read no clock. */
export type PaymentCommand =
  | {
      type: 'CreatePayment';
      paymentId: string;
      merchantAccountId: string;
      amount: bigint;
      currency: CurrencyCode;
      provider: PaymentProvider;
      description?: string;
      customerRef?: string;
      captureJournalId: string;
      settlementJournalId: string;
      feeJournalId: string;
      at: string;
    }
  | { type: 'SubmitPayment'; providerRef: string; at: string }
  /**
   * The provider took the submission under `providerRef`, which belongs to another payment or
   * payout (`takenBy`): the charge it holds is flagged for reconciliation, and the payment is not submitted again.
   */
  | { type: 'RecordReferenceTaken'; providerRef: string; takenBy?: ReferenceOwner; at: string }
  /** Decides the capture before its journal is posted: a failure decided elsewhere meanwhile is refused. */
  | { type: 'StartCapture'; at: string; callbackEventId?: string }
  | { type: 'CapturePayment'; at: string; callbackEventId?: string }
  /** Fixes the settlement's fee on the stream before its journals are posted: one fee, whoever posts them. */
  | { type: 'StartSettlement'; fee: bigint; at: string; callbackEventId?: string }
  | { type: 'SettlePayment'; fee: bigint; at: string; callbackEventId?: string }
  | { type: 'FailPayment'; reason: string; at: string; callbackEventId?: string }
  /** The provider declined the submission (`reason` is its word): the payment fails, and so does a submission asked again. */
  | { type: 'DeclineSubmission'; reason: string; at: string }
  | {
      type: 'RequestRefund';
      refundId: string;
      amount: bigint;
      providerRefundRef?: string;
      /** Reserves the refund before the provider is asked for it: it moves no money until accepted. */
      awaitsProvider?: true;
      at: string;
      callbackEventId?: string;
    }
  /** The provider took a reserved refund under `providerRefundRef`: its money is posted next. */
  | { type: 'AcceptRefund'; refundId: string; providerRefundRef: string; at: string }
  /** The provider declined a reserved refund (`reason` is its word): the reservation is released. */
  | { type: 'DeclineRefund'; refundId: string; reason: string; at: string }
  | { type: 'CompleteRefund'; refundId: string; at: string }
  /**
   * The provider refunded, but the merchant's account refused the debit (`refusal` says why): the
   * refund is paid from suspense and the payment flagged, the merchant's debt left to reconciliation.
   */
  | { type: 'BookRefundFromSuspense'; refundId: string; refusal: string; at: string }
  /**
   * The provider captured, but the merchant's account refused the credit (`refusal` says why): the
   * money is booked to suspense (clearing → suspense, a correction journal with the capture's id),
   * the payment is captured all the same and flagged, the merchant's due left to reconciliation.
   */
  | { type: 'BookCaptureToSuspense'; refusal: string; at: string; callbackEventId?: string }
  /**
   * Fixes where the money of the capture under way (no `refundId`) or of an accepted refund goes,
   * before its journal is posted: to the merchant's account, or to suspense, that account having
   * refused it (`refusal`). The route chosen first stands.
   */
  | { type: 'ChooseRoute'; refundId?: string; to: MoneyRoute['to']; refusal?: string; at: string }
  /**
   * Replaces the merchant route of the capture under way (no `refundId`) or of an accepted refund
   * by suspense: its journal waits for the merchant's account, which `accountStatus` (as that
   * account's stream shows it) says is closed, so it never takes the journal. No other status
   * allows it: a frozen or spent account may take the journal later, and another writer may be
   * posting it.
   */
  | { type: 'RerouteFromClosedAccount'; refundId?: string; accountStatus: AccountStatus; refusal: string; at: string }
  /** `redelivery`: a deferred callback tried again; otherwise one just received. */
  | { type: 'ReceiveCallback'; callback: PaymentCallback; redelivery: boolean; at: string }
  /**
   * The books refused a callback recorded as applied (its move no longer fits the payment); one a
   * move under way holds back (`heldBack`) is not refused, it waits for that move to end.
   */
  | { type: 'RefuseCallback'; callback: PaymentCallback; detail: string; at: string };

type Event = EventPayload<PaymentEvent>;

const requirePayment = (state: PaymentState, id = 'unknown'): ExistingPayment => {
  if (!state.exists) throw new PaymentNotFoundError(id);
  return state;
};

const requireState = (payment: ExistingPayment, move: string, ...states: PaymentStateName[]): void => {
  if (!states.includes(payment.state)) throw new IllegalPaymentTransitionError(payment.paymentId, payment.state, move);
};

/**
 * What a settlement with `fee` takes off clearing (captured less refunds), once nothing stands in
 * its way: the payment is PAID, no settlement with another fee and no refund is under way, and the
 * fee fits.
 */
const settlementGross = (payment: ExistingPayment, fee: bigint): bigint => {
  requireState(payment, 'settle', 'PAID');
  const { paymentId, settling } = payment;
  if (settling !== undefined && settling.fee !== fee) {
    throw new IllegalPaymentTransitionError(paymentId, payment.state, 'settle', `a settlement with a fee of ${settling.fee} is under way`);
  }
  if (Object.keys(payment.refundsInFlight).length > 0) {
    throw new IllegalPaymentTransitionError(paymentId, payment.state, 'settle', 'a refund is under way');
  }
  const gross = payment.captured - payment.refunded;
  if (fee > gross) throw new FeeExceedsSettlementError(paymentId, fee, gross);
  return gross;
};

const cause = (callbackEventId: string | undefined) => (callbackEventId === undefined ? {} : { callbackEventId });

/** Callbacks of higher rank come later in a payment's life; deferred ones are applied in this order. */
export const callbackRank = { 'payment.captured': 1, 'payment.failed': 1, 'payment.settled': 2, 'payment.refunded': 3 } as const;

export interface Classification {
  outcome: CallbackOutcome;
  flagged: boolean;
  detail: string;
}

/**
 * What a callback means for the payment in its current state: the provider is the truth, but it
 * speaks late, twice and out of order. A callback that needs a state the payment has not reached
 * waits; one that repeats or trails what is known changes nothing; one that contradicts a state
 * of higher precedence never moves money, it flags the payment for reconciliation.
 */
export const classifyCallback = (payment: ExistingPayment, callback: PaymentCallback, redelivery: boolean): Classification => {
  const seen = payment.callbacks[callback.eventId];
  if (seen !== undefined && !(redelivery && seen === 'deferred')) {
    return { outcome: 'duplicate', flagged: false, detail: `event ${callback.eventId} was already received (${seen})` };
  }
  return judgeCallback(payment, callback);
};

/**
 * What a callback means for the payment's books as they are now, whether it was received before
 * or not: a callback recorded as applied whose change has not followed is judged again by it.
 */
export const judgeCallback = (payment: ExistingPayment, callback: PaymentCallback): Classification => {
  const { state } = payment;
  const apply = (detail: string): Classification => ({ outcome: 'applied', flagged: false, detail });
  const defer = (detail: string): Classification => ({ outcome: 'deferred', flagged: false, detail });
  const outdated = (detail: string): Classification => ({ outcome: 'outdated', flagged: false, detail });
  const supersede = (detail: string): Classification => ({ outcome: 'superseded', flagged: true, detail });
  // A callback that waited for the submission names the charge it is about: another reference than
  // the one submitted is another charge, whatever payment it names.
  if (callback.providerRef !== undefined && payment.providerRef !== undefined && callback.providerRef !== payment.providerRef) {
    const detail = `the callback names the reference ${callback.providerRef}, the payment has ${payment.providerRef}: applied to none`;
    return { outcome: 'refused', flagged: true, detail };
  }
  // Money in another currency is not this payment's money, whatever its amount says.
  if (callback.callbackType !== 'payment.failed' && callback.currency !== undefined && callback.currency !== payment.currency) {
    return { outcome: 'refused', flagged: true, detail: `${callback.callbackType} in ${callback.currency}, the payment is in ${payment.currency}` };
  }
  switch (callback.callbackType) {
    case 'payment.captured':
      if (callback.amount !== undefined && callback.amount !== payment.amount) {
        return { outcome: 'refused', flagged: true, detail: `captured ${callback.amount}, the payment is for ${payment.amount}` };
      }
      if (state === 'CREATED') return defer('captured before the submission was recorded');
      if (state === 'PENDING') return apply('captured');
      if (state === 'FAILED') return supersede('the provider reports a capture of a payment Folio recorded as failed');
      return outdated(`the payment is already ${state}`);
    case 'payment.failed':
      if (payment.capturing !== undefined) return supersede('a failure of a payment whose capture is under way: the capture stands');
      if (state === 'CREATED' || state === 'PENDING') return apply('failed');
      if (state === 'FAILED') return outdated('the payment already failed');
      return supersede(`a failure after the payment became ${state}: its money was not touched`);
    case 'payment.settled':
      if (state === 'CREATED' || state === 'PENDING') return defer('settled before the capture was recorded');
      if (state === 'PAID') {
        if (Object.keys(payment.refundsInFlight).length > 0) return defer('a refund is under way');
        const gross = payment.captured - payment.refunded;
        // The books would post what was captured less refunds: another amount paid out is money
        // the provider did not move as they would book it.
        if (callback.amount !== undefined && callback.amount !== gross) {
          const detail =
            `settled ${callback.amount}, the books hold ${gross} to settle ` +
            `(captured ${payment.captured}, refunded ${payment.refunded})`;
          return { outcome: 'refused', flagged: true, detail };
        }
        if ((callback.fee ?? 0n) > gross) {
          return { outcome: 'refused', flagged: true, detail: `the fee ${callback.fee} exceeds the ${gross} settled` };
        }
        // Another writer fixed the fee already: its journals are being posted, no second settlement.
        if (payment.settling !== undefined) {
          if (callback.fee !== undefined && callback.fee !== payment.settling.fee) {
            const detail = `settled with a fee of ${callback.fee}, the books are settling with ${payment.settling.fee}`;
            return { outcome: 'refused', flagged: true, detail };
          }
          return outdated('the payment is being settled');
        }
        return apply('settled');
      }
      // Refunded in full after it was settled, the payment keeps what was settled: a confirmation
      // of that settlement trails what is known, as it does for a settled payment.
      if (state === 'SETTLED' || (state === 'REFUNDED' && payment.fee !== undefined)) {
        const settled = (payment.fee ?? 0n) + (payment.net ?? 0n);
        if (callback.amount !== undefined && callback.amount !== settled) {
          return { outcome: 'refused', flagged: true, detail: `settled ${callback.amount}, the books settled ${settled}` };
        }
        // The books took another fee than the provider says: no repeat of what is known.
        if (callback.fee !== undefined && callback.fee !== payment.fee) {
          const detail = `settled with a fee of ${callback.fee}, the books took ${payment.fee}`;
          return { outcome: 'refused', flagged: true, detail };
        }
        return outdated('the payment is already settled');
      }
      return supersede(`a settlement of a payment that is ${state}`);
    case 'payment.refunded': {
      const reference = callback.providerRefundRef;
      // Providers name every refund they make, and the name is all that tells a second refund from
      // the same one reported under another event id: without it, booking could pay one refund back
      // twice. It is held here, on the payment, for a person to match against the provider's report.
      if (reference === undefined) {
        const detail = `a refund of ${callback.amount ?? 'no amount'} without the provider's refund reference: not booked`;
        return { outcome: 'refused', flagged: true, detail };
      }
      const booked = payment.refundRefs.get(reference);
      if (booked !== undefined) {
        // The provider's word on a refund the books hold: another amount is a discrepancy, never a second refund.
        if (callback.amount !== undefined && callback.amount !== booked) {
          const detail = `a refund of ${callback.amount} under ${reference}, the books hold ${booked} for it`;
          return { outcome: 'refused', flagged: true, detail };
        }
        if (payment.flaggedRefundRefs.includes(reference)) {
          const detail = 'a refund the books hold, flagged: paid from suspense, or reported for another amount';
          return { outcome: 'outdated', flagged: true, detail };
        }
        return outdated('a refund the books hold');
      }
      if (state === 'CREATED' || state === 'PENDING') return defer('refunded before the capture was recorded');
      if (payment.settling !== undefined) return defer('a settlement is under way');
      if (state === 'FAILED' || state === 'REFUNDED') return supersede(`a refund of a payment that is ${state}`);
      const amount = callback.amount ?? 0n;
      const left = refundable(payment);
      if (amount <= 0n || amount > left) return supersede(`a refund of ${amount} where ${left} may be refunded`);
      return apply('refunded');
    }
  }
};

/** Whether a callback recorded as applied has not taken effect yet (its change was interrupted). */
export const awaitsEffect = (payment: ExistingPayment, callback: PaymentCallback): boolean => {
  if (payment.callbacks[callback.eventId] !== 'applied') return false;
  switch (callback.callbackType) {
    case 'payment.captured':
      return payment.state === 'PENDING';
    case 'payment.failed':
      return payment.state === 'CREATED' || payment.state === 'PENDING';
    case 'payment.settled':
      // Refunded in full while a refund held it back, a payment never settled: judged again, the
      // settlement is refused and flagged rather than left unbooked unseen.
      return payment.state === 'PAID' || (payment.state === 'REFUNDED' && payment.fee === undefined);
    case 'payment.refunded':
      // A refund the books hold under its reference took effect, whichever callback started it.
      return (
        !payment.refundCallbacks.includes(callback.eventId) &&
        !(callback.providerRefundRef !== undefined && payment.refundRefs.has(callback.providerRefundRef)) &&
        (payment.state === 'PAID' || payment.state === 'SETTLED')
      );
  }
};

/**
 * Whether a callback recorded as applied waits for a move under way on the payment to end before
 * its change can follow: a refund reserved or being posted holds off a settlement, a settlement
 * being posted holds off a refund. That move ends, either way, and the callback is judged again
 * then, as one received then would be; the provider was answered already and never sends it again.
 */
export const heldBack = (payment: ExistingPayment, callback: PaymentCallback): boolean =>
  awaitsEffect(payment, callback) && judgeCallback(payment, callback).outcome === 'deferred';

const callbackData = (payment: ExistingPayment, callback: PaymentCallback, classification: Classification, at: string) => ({
  paymentId: payment.paymentId,
  provider: payment.provider,
  eventId: callback.eventId,
  callbackType: callback.callbackType,
  ...(callback.amount === undefined ? {} : { amount: callback.amount }),
  ...(callback.currency === undefined ? {} : { currency: callback.currency }),
  ...(callback.fee === undefined ? {} : { fee: callback.fee }),
  ...(callback.reason === undefined ? {} : { reason: callback.reason }),
  ...(callback.providerRefundRef === undefined ? {} : { providerRefundRef: callback.providerRefundRef }),
  ...(callback.providerRef === undefined ? {} : { providerRef: callback.providerRef }),
  providerCreatedAt: callback.providerCreatedAt,
  outcome: classification.outcome,
  flaggedForReconciliation: classification.flagged,
  detail: classification.detail,
  receivedAt: at,
});

const capturedEvent = (payment: ExistingPayment, at: string, callbackEventId: string | undefined): Event => ({
  type: 'PaymentCaptured',
  data: {
    paymentId: payment.paymentId,
    amount: payment.amount,
    journalId: payment.captureJournalId,
    capturedAt: at,
    ...cause(callbackEventId),
  },
});

const refundedEvent = (payment: ExistingPayment, refundId: string, refund: RefundInFlight, at: string): Event => {
  const refundedTotal = payment.refunded + refund.amount;
  return {
    type: 'PaymentRefunded',
    data: {
      paymentId: payment.paymentId,
      refundId,
      amount: refund.amount,
      refundedTotal,
      fullyRefunded: refundedTotal === payment.captured,
      refundedAt: at,
    },
  };
};

/** Ends a reserved refund the provider did not take, or took under a reference the books hold: nothing moved. */
const refundFailedEvent = (
  payment: ExistingPayment,
  refundId: string,
  at: string,
  reason: { type: string; detail: string },
): Event => ({
  type: 'PaymentRefundFailed',
  data: { paymentId: payment.paymentId, refundId, amount: payment.refundsInFlight[refundId]!.amount, reason, failedAt: at },
});

/**
 * The callback a refund paid from suspense is recorded under, refused by the books and flagged: the
 * one that reported it, or, for a refund Folio asked for, the provider's answer to the request.
 */
const refundCallbackOf = (payment: ExistingPayment, refundId: string, refund: RefundInFlight, at: string): PaymentCallback =>
  payment.applied.find((callback) => callback.eventId === refund.callbackEventId) ?? {
    eventId: `refund-${refundId}`,
    callbackType: 'payment.refunded',
    amount: refund.amount,
    ...(refund.providerRefundRef === undefined ? {} : { providerRefundRef: refund.providerRefundRef }),
    providerCreatedAt: at,
  };

/** The event id standing for a capture Folio was asked to record, when no provider callback reported it. */
const requestedCaptureEventId = (paymentId: string) => `capture-${paymentId}`;

/**
 * The callback a capture booked to suspense is recorded under, refused by the books and flagged: the
 * one that reported it, or, for a capture Folio was asked to record, one standing for that request.
 */
const captureCallbackOf = (payment: ExistingPayment, callbackEventId: string | undefined, at: string): PaymentCallback =>
  payment.applied.find((callback) => callback.eventId === callbackEventId) ??
  payment.applied.find((callback) => callback.callbackType === 'payment.captured') ?? {
    eventId: requestedCaptureEventId(payment.paymentId),
    callbackType: 'payment.captured',
    amount: payment.amount,
    providerCreatedAt: at,
  };

/** The capture under way (no `refundId`) or the accepted refund whose route is chosen, if it is open. */
const routedMove = (payment: ExistingPayment, refundId: string | undefined): { route?: MoneyRoute } | undefined => {
  if (refundId === undefined) return payment.capturing;
  const refund = payment.refundsInFlight[refundId];
  return refund?.awaitingProvider === undefined ? refund : undefined;
};

const routeChosenEvent = (
  payment: ExistingPayment,
  refundId: string | undefined,
  route: MoneyRoute,
  at: string,
  replaces?: 'merchant',
): Event => ({
  type: 'PaymentRouteChosen',
  data: {
    paymentId: payment.paymentId,
    move: refundId === undefined ? 'capture' : 'refund',
    journalId: refundId ?? payment.captureJournalId,
    route: route.to,
    ...(route.to === 'merchant' ? { accountId: payment.merchantAccountId } : { refusal: route.refusal }),
    ...(replaces === undefined ? {} : { replaces }),
    chosenAt: at,
  },
});

const decide = (command: PaymentCommand, state: PaymentState): Event[] => {
  if (command.type === 'CreatePayment') {
    if (state.exists) {
      // The same creation again (a retried request) is a no-op.
      if (state.amount === command.amount && state.merchantAccountId === command.merchantAccountId) return [];
      throw new PaymentAlreadyExistsError(command.paymentId);
    }
    const { type: _type, at, ...data } = command;
    return [{ type: 'PaymentCreated', data: { ...data, createdAt: at } }];
  }
  const payment = requirePayment(state);
  const { paymentId } = payment;
  switch (command.type) {
    case 'SubmitPayment':
      if (payment.state === 'PENDING' && payment.providerRef === command.providerRef) return [];
      // Asked again, a declined submission is answered as it was, without asking the provider.
      if (payment.state === 'FAILED' && payment.submissionDeclined) {
        throw new ProviderDeclinedError(payment.provider, payment.failureReason ?? 'declined');
      }
      // The provider holds a charge under a reference Folio cannot give this payment: asked again,
      // it would answer the same, and another reference would leave that charge unexplained.
      if (payment.state === 'CREATED' && payment.referenceTaken !== undefined) {
        throw new ProviderReferenceTakenError(payment.provider, payment.referenceTaken);
      }
      requireState(payment, 'submit', 'CREATED');
      return [
        {
          type: 'PaymentSubmitted',
          data: { paymentId, provider: payment.provider, providerRef: command.providerRef, submittedAt: command.at },
        },
      ];
    case 'RecordReferenceTaken':
      if (payment.referenceTaken === command.providerRef) return [];
      requireState(payment, 'submit', 'CREATED');
      return [
        {
          type: 'PaymentReferenceTaken',
          data: {
            paymentId,
            provider: payment.provider,
            providerRef: command.providerRef,
            ...(command.takenBy === undefined ? {} : { takenBy: command.takenBy }),
            recordedAt: command.at,
          },
        },
      ];
    case 'StartCapture':
      // Its amount and journal are the payment's: the same capture again, from another writer or a repair.
      if (payment.capturing !== undefined) return [];
      requireState(payment, 'capture', 'PENDING');
      return [
        {
          type: 'PaymentCaptureStarted',
          data: {
            paymentId,
            amount: payment.amount,
            journalId: payment.captureJournalId,
            startedAt: command.at,
            ...cause(command.callbackEventId),
          },
        },
      ];
    case 'CapturePayment':
      requireState(payment, 'capture', 'PENDING');
      // The route recorded first stands: money routed to suspense never reaches the merchant too.
      if (payment.capturing?.route?.to === 'suspense') {
        throw new IllegalPaymentTransitionError(paymentId, payment.state, 'capture', 'its money was routed to suspense');
      }
      return [capturedEvent(payment, command.at, command.callbackEventId)];
    case 'StartSettlement': {
      // The same settlement again, from another writer or a retry: nothing new.
      if (payment.settling?.fee === command.fee) return [];
      const gross = settlementGross(payment, command.fee);
      return [
        {
          type: 'PaymentSettlementStarted',
          data: { paymentId, gross, fee: command.fee, net: gross - command.fee, startedAt: command.at, ...cause(command.callbackEventId) },
        },
      ];
    }
    case 'SettlePayment': {
      const gross = settlementGross(payment, command.fee);
      const net = gross - command.fee;
      return [
        {
          type: 'PaymentSettled',
          data: {
            paymentId,
            gross,
            fee: command.fee,
            net,
            ...(net > 0n ? { settlementJournalId: payment.settlementJournalId } : {}),
            ...(command.fee > 0n ? { feeJournalId: payment.feeJournalId } : {}),
            settledAt: command.at,
            ...cause(command.callbackEventId),
          },
        },
      ];
    }
    case 'FailPayment':
      requireState(payment, 'fail', 'CREATED', 'PENDING');
      if (payment.capturing !== undefined) {
        throw new IllegalPaymentTransitionError(paymentId, payment.state, 'fail', 'a capture is under way');
      }
      return [
        {
          type: 'PaymentFailed',
          data: { paymentId, reason: command.reason, failedAt: command.at, ...cause(command.callbackEventId) },
        },
      ];
    case 'DeclineSubmission':
      if (payment.state === 'FAILED' && payment.submissionDeclined) return [];
      requireState(payment, 'decline', 'CREATED');
      return [{ type: 'PaymentFailed', data: { paymentId, reason: command.reason, failedAt: command.at, declined: true } }];
    case 'RequestRefund': {
      const inFlight = payment.refundsInFlight[command.refundId];
      if (inFlight !== undefined && inFlight.amount === command.amount) return [];
      if (payment.refundsEnded.includes(command.refundId)) return [];
      // The provider names a refund it reported itself and the books already hold (its answer to
      // this request was lost): refunding again would pay it back twice.
      // So is one a callback reports under another event id than the one that booked it (two writers
      // took the two reports at once).
      const reference = command.providerRefundRef;
      if (reference !== undefined && payment.refundRefs.has(reference)) return [];
      requireState(payment, 'refund', 'PAID', 'SETTLED');
      // Its fee is fixed on what was captured less refunds: a refund now would be settled too.
      if (payment.settling !== undefined) {
        throw new IllegalPaymentTransitionError(paymentId, payment.state, 'refund', 'a settlement is under way');
      }
      const left = refundable(payment);
      if (command.amount > left) throw new RefundExceedsCapturedError(paymentId, command.amount, left);
      const fromCaptureInSuspense = suspensePartOf(payment, command.amount);
      return [
        {
          type: 'PaymentRefundRequested',
          data: {
            paymentId,
            refundId: command.refundId,
            amount: command.amount,
            from: refundSource(payment),
            ...(fromCaptureInSuspense > 0n ? { fromCaptureInSuspense } : {}),
            ...(command.providerRefundRef === undefined ? {} : { providerRefundRef: command.providerRefundRef }),
            ...(command.awaitsProvider === undefined ? {} : { awaitsProvider: command.awaitsProvider }),
            requestedAt: command.at,
            ...cause(command.callbackEventId),
          },
        },
      ];
    }
    case 'AcceptRefund': {
      // Accepted already, or ended: the same answer again changes nothing.
      if (payment.refundsInFlight[command.refundId]?.awaitingProvider === undefined) return [];
      const reference = command.providerRefundRef;
      // The provider reported this refund itself before its answer was recorded, and the books
      // hold it under that report: posting the reservation too would pay it back twice.
      if (payment.refundRefs.has(reference)) {
        return [
          refundFailedEvent(payment, command.refundId, command.at, {
            type: 'booked-from-provider-report',
            detail: `the provider's report of refund ${reference} booked it first`,
          }),
        ];
      }
      return [
        {
          type: 'PaymentRefundAccepted',
          data: { paymentId, refundId: command.refundId, providerRefundRef: reference, acceptedAt: command.at },
        },
      ];
    }
    case 'DeclineRefund':
      if (payment.refundsInFlight[command.refundId]?.awaitingProvider === undefined) return [];
      return [refundFailedEvent(payment, command.refundId, command.at, { type: 'provider-declined', detail: command.reason })];
    case 'CompleteRefund': {
      const refund = payment.refundsInFlight[command.refundId];
      if (refund?.route?.to === 'suspense') {
        throw new IllegalPaymentTransitionError(paymentId, payment.state, 'complete the refund', 'its money was routed to suspense');
      }
      return refund === undefined ? [] : [refundedEvent(payment, command.refundId, refund, command.at)];
    }
    case 'BookRefundFromSuspense': {
      const refund = payment.refundsInFlight[command.refundId];
      if (refund === undefined) return [];
      if (refund.route?.to === 'merchant') {
        throw new IllegalPaymentTransitionError(paymentId, payment.state, 'book the refund from suspense', 'its money was routed to the merchant');
      }
      const detail =
        `the provider refunded ${refund.amount}, the merchant's account refused it (${command.refusal}): ` +
        'paid from suspense';
      return [
        {
          type: 'PaymentCallbackRecorded',
          data: callbackData(
            payment,
            refundCallbackOf(payment, command.refundId, refund, command.at),
            { outcome: 'refused', flagged: true, detail },
            command.at,
          ),
        },
        refundedEvent(payment, command.refundId, refund, command.at),
      ];
    }
    case 'BookCaptureToSuspense': {
      // The same booking again (an interrupted run repaired) changes nothing.
      if (payment.state !== 'PENDING') return [];
      if (payment.capturing?.route?.to === 'merchant') {
        throw new IllegalPaymentTransitionError(paymentId, payment.state, 'book the capture to suspense', 'its money was routed to the merchant');
      }
      const detail =
        `the provider captured ${payment.amount}, the merchant's account refused it (${command.refusal}): ` +
        'booked to suspense';
      const callback = captureCallbackOf(payment, command.callbackEventId, command.at);
      // The capture names the provider's callback refused here: the fold reads its money went to suspense.
      const reportedBy = callback.eventId === requestedCaptureEventId(paymentId) ? undefined : callback.eventId;
      return [
        {
          type: 'PaymentCallbackRecorded',
          data: callbackData(payment, callback, { outcome: 'refused', flagged: true, detail }, command.at),
        },
        capturedEvent(payment, command.at, reportedBy),
      ];
    }
    case 'ChooseRoute': {
      const open = routedMove(payment, command.refundId);
      // Chosen already, or the move ended (another writer recorded it): the route that stands.
      if (open === undefined || open.route !== undefined) return [];
      const route: MoneyRoute = command.to === 'merchant' ? { to: 'merchant' } : { to: 'suspense', refusal: command.refusal ?? 'refused' };
      return [routeChosenEvent(payment, command.refundId, route, command.at)];
    }
    case 'RerouteFromClosedAccount': {
      const open = routedMove(payment, command.refundId);
      // The move ended, or another writer replaced the route first: the route that stands.
      if (open === undefined || open.route?.to === 'suspense') return [];
      const move = `book the ${command.refundId === undefined ? 'capture' : 'refund'} to suspense`;
      if (open.route === undefined) throw new IllegalPaymentTransitionError(paymentId, payment.state, move, 'no route was chosen for it');
      if (command.accountStatus !== 'closed') {
        const why = `its money was routed to the merchant, whose account is ${command.accountStatus} and may take it yet`;
        throw new IllegalPaymentTransitionError(paymentId, payment.state, move, why);
      }
      return [routeChosenEvent(payment, command.refundId, { to: 'suspense', refusal: command.refusal }, command.at, 'merchant')];
    }
    case 'ReceiveCallback': {
      const classification = classifyCallback(payment, command.callback, command.redelivery);
      return [{ type: 'PaymentCallbackRecorded', data: callbackData(payment, command.callback, classification, command.at) }];
    }
    case 'RefuseCallback':
      // Refused by a move under way, not by the books: the callback stays awaiting its change.
      if (heldBack(payment, command.callback)) return [];
      return [
        {
          type: 'PaymentCallbackRecorded',
          data: callbackData(
            payment,
            command.callback,
            { outcome: 'refused', flagged: true, detail: command.detail },
            command.at,
          ),
        },
      ];
  }
};

const evolve = (state: PaymentState, event: Event): PaymentState => {
  if (event.type === 'PaymentCreated') {
    const { createdAt, ...data } = event.data;
    return {
      exists: true,
      ...data,
      createdAt,
      state: 'CREATED',
      submissionDeclined: false,
      captured: 0n,
      refunded: 0n,
      capturedToSuspense: 0n,
      refundedFromSuspense: 0n,
      refundsInFlight: {},
      refundCallbacks: [],
      refundRefs: new Map(),
      flaggedRefundRefs: [],
      refundsEnded: [],
      callbacks: {},
      deferred: [],
      applied: [],
      flaggedForReconciliation: false,
    };
  }
  if (!state.exists) return state;
  switch (event.type) {
    case 'PaymentSubmitted':
      return { ...state, state: 'PENDING', providerRef: event.data.providerRef };
    case 'PaymentCaptured': {
      // Booked to suspense (`BookCaptureToSuspense`) if the books refused its cause just before: the
      // merchant's account never received its money. No other capture has a refused cause: a capture
      // callback applied is recorded so, one of another amount never captures, and the id standing
      // for a requested capture is recorded only by that booking.
      const cause = event.data.callbackEventId ?? requestedCaptureEventId(state.paymentId);
      const toSuspense = state.callbacks[cause] === 'refused';
      const { capturing: _done, ...rest } = state;
      return {
        ...rest,
        state: 'PAID',
        captured: event.data.amount,
        capturedToSuspense: toSuspense ? event.data.amount : 0n,
      };
    }
    case 'PaymentCaptureStarted': {
      const { callbackEventId } = event.data;
      return { ...state, capturing: callbackEventId === undefined ? {} : { callbackEventId } };
    }
    case 'PaymentRouteChosen': {
      const { move, journalId, route: to, refusal } = event.data;
      const route: MoneyRoute = to === 'merchant' ? { to } : { to, refusal: refusal ?? 'refused' };
      if (move === 'capture') return state.capturing === undefined ? state : { ...state, capturing: { ...state.capturing, route } };
      const refund = state.refundsInFlight[journalId];
      if (refund === undefined) return state;
      return { ...state, refundsInFlight: { ...state.refundsInFlight, [journalId]: { ...refund, route } } };
    }
    case 'PaymentSettlementStarted': {
      const { fee, callbackEventId } = event.data;
      return { ...state, settling: { fee, ...(callbackEventId === undefined ? {} : { callbackEventId }) } };
    }
    case 'PaymentSettled': {
      const { settling: _done, ...rest } = state;
      return { ...rest, state: 'SETTLED', fee: event.data.fee, net: event.data.net };
    }
    case 'PaymentReferenceTaken':
      return { ...state, referenceTaken: event.data.providerRef, flaggedForReconciliation: true };
    case 'PaymentFailed':
      return { ...state, state: 'FAILED', failureReason: event.data.reason, submissionDeclined: event.data.declined === true };
    case 'PaymentRefundRequested': {
      const { amount, from, fromCaptureInSuspense, providerRefundRef, awaitsProvider, callbackEventId } = event.data;
      return {
        ...state,
        refundsInFlight: {
          ...state.refundsInFlight,
          [event.data.refundId]: {
            amount,
            from,
            fromCaptureInSuspense: fromCaptureInSuspense ?? 0n,
            ...(providerRefundRef === undefined ? {} : { providerRefundRef }),
            ...(callbackEventId === undefined ? {} : { callbackEventId }),
            ...(awaitsProvider === undefined ? {} : { awaitingProvider: awaitsProvider }),
            requestedAt: event.data.requestedAt,
          },
        },
        refundCallbacks:
          event.data.callbackEventId === undefined
            ? state.refundCallbacks
            : [...state.refundCallbacks, event.data.callbackEventId],
        refundRefs:
          providerRefundRef === undefined ? state.refundRefs : new Map(state.refundRefs).set(providerRefundRef, amount),
      };
    }
    case 'PaymentRefundAccepted': {
      const { refundId, providerRefundRef } = event.data;
      const reserved = state.refundsInFlight[refundId];
      if (reserved === undefined) return state;
      const { awaitingProvider: _answered, ...refund } = reserved;
      return {
        ...state,
        refundsInFlight: { ...state.refundsInFlight, [refundId]: { ...refund, providerRefundRef } },
        refundRefs: new Map(state.refundRefs).set(providerRefundRef, refund.amount),
      };
    }
    case 'PaymentRefunded': {
      const { [event.data.refundId]: done, ...refundsInFlight } = state.refundsInFlight;
      return {
        ...state,
        refundsInFlight,
        refundsEnded: [...state.refundsEnded, event.data.refundId],
        refunded: event.data.refundedTotal,
        refundedFromSuspense: state.refundedFromSuspense + (done?.fromCaptureInSuspense ?? 0n),
        state: event.data.fullyRefunded ? 'REFUNDED' : state.state,
      };
    }
    case 'PaymentRefundFailed': {
      // A reservation ends here with no reference of its own. In streams from before refunds were
      // paid from suspense, the provider had refunded all the same, so its confirmation is no
      // longer one of Folio's own refunds and gets applied.
      const { [event.data.refundId]: failed, ...refundsInFlight } = state.refundsInFlight;
      const refundRefs = new Map(state.refundRefs);
      if (failed?.providerRefundRef !== undefined) refundRefs.delete(failed.providerRefundRef);
      return { ...state, refundsInFlight, refundsEnded: [...state.refundsEnded, event.data.refundId], refundRefs };
    }
    case 'PaymentCallbackRecorded': {
      const { eventId, outcome } = event.data;
      const callback: PaymentCallback = {
        eventId,
        callbackType: event.data.callbackType,
        providerCreatedAt: event.data.providerCreatedAt,
        ...(event.data.amount === undefined ? {} : { amount: event.data.amount }),
        ...(event.data.currency === undefined ? {} : { currency: event.data.currency }),
        ...(event.data.fee === undefined ? {} : { fee: event.data.fee }),
        ...(event.data.reason === undefined ? {} : { reason: event.data.reason }),
        ...(event.data.providerRefundRef === undefined ? {} : { providerRefundRef: event.data.providerRefundRef }),
        ...(event.data.providerRef === undefined ? {} : { providerRef: event.data.providerRef }),
      };
      // A duplicate says nothing new about the first delivery.
      if (outcome === 'duplicate') {
        return { ...state, flaggedForReconciliation: state.flaggedForReconciliation || event.data.flaggedForReconciliation };
      }
      const others = (callbacks: readonly PaymentCallback[]) => callbacks.filter((other) => other.eventId !== eventId);
      const flaggedRefund = event.data.flaggedForReconciliation ? callback.providerRefundRef : undefined;
      return {
        ...state,
        callbacks: { ...state.callbacks, [eventId]: outcome },
        deferred: outcome === 'deferred' ? [...others(state.deferred), callback] : others(state.deferred),
        applied: outcome === 'applied' ? [...others(state.applied), callback] : others(state.applied),
        flaggedRefundRefs:
          flaggedRefund === undefined || state.flaggedRefundRefs.includes(flaggedRefund)
            ? state.flaggedRefundRefs
            : [...state.flaggedRefundRefs, flaggedRefund],
        flaggedForReconciliation: state.flaggedForReconciliation || event.data.flaggedForReconciliation,
      };
    }
  }
};

export const paymentDecider: Decider<PaymentState, PaymentCommand, Event> = {
  initialState: () => ({ exists: false }),
  evolve,
  decide,
};

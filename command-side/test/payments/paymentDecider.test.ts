import { expect } from 'chai';
import fc from 'fast-check';
import type { PaymentStateName } from '@folio/shared';
import type { EventPayload } from '../../src/commandHandling/decider.js';
import { awaitsEffect, classifyCallback, heldBack, paymentDecider, type PaymentCommand } from '../../src/payments/paymentDecider.js';
import {
  FeeExceedsSettlementError,
  IllegalPaymentTransitionError,
  PaymentNotFoundError,
  ProviderReferenceTakenError,
  RefundExceedsCapturedError,
} from '../../src/payments/paymentErrors.js';
import {
  refundsAwaitingProvider,
  type ExistingPayment,
  type PaymentCallback,
  type PaymentEvent,
} from '../../src/payments/paymentState.js';
import { ProviderDeclinedError } from '../../src/providers/providerErrors.js';
import { deciderSpec } from '../deciderSpecification.js';

type Event = EventPayload<PaymentEvent>;

const PAYMENT = '7400000000000000000';
const MERCHANT = '7300000000000000001';
const AT = '2026-01-02T03:04:05.000Z';
const spec = deciderSpec(paymentDecider);

const created: Event = {
  type: 'PaymentCreated',
  data: {
    paymentId: PAYMENT,
    merchantAccountId: MERCHANT,
    amount: 10_000n,
    currency: 'EUR',
    provider: 'sandbox',
    captureJournalId: '7400000000000000001',
    settlementJournalId: '7400000000000000002',
    feeJournalId: '7400000000000000003',
    createdAt: AT,
  },
};
const submitted: Event = {
  type: 'PaymentSubmitted',
  data: { paymentId: PAYMENT, provider: 'sandbox', providerRef: 'ref-1', submittedAt: AT },
};
const captured: Event = {
  type: 'PaymentCaptured',
  data: { paymentId: PAYMENT, amount: 10_000n, journalId: '7400000000000000001', capturedAt: AT },
};
const settled: Event = {
  type: 'PaymentSettled',
  data: {
    paymentId: PAYMENT,
    gross: 10_000n,
    fee: 300n,
    net: 9_700n,
    settlementJournalId: '7400000000000000002',
    feeJournalId: '7400000000000000003',
    settledAt: AT,
  },
};
const failed: Event = { type: 'PaymentFailed', data: { paymentId: PAYMENT, reason: 'declined', failedAt: AT } };
const refundRequested = (
  refundId: string,
  amount: bigint,
  from: 'clearing' | 'bank' = 'clearing',
  extra: { providerRefundRef?: string; callbackEventId?: string; awaitsProvider?: true } = {},
): Event => ({
  type: 'PaymentRefundRequested',
  data: { paymentId: PAYMENT, refundId, amount, from, ...extra, requestedAt: AT },
});
const refunded = (refundId: string, amount: bigint, refundedTotal: bigint): Event => ({
  type: 'PaymentRefunded',
  data: { paymentId: PAYMENT, refundId, amount, refundedTotal, fullyRefunded: refundedTotal === 10_000n, refundedAt: AT },
});

/** The shortest history that brings a payment to each state. */
const historyOf: Record<PaymentStateName, Event[]> = {
  CREATED: [created],
  PENDING: [created, submitted],
  PAID: [created, submitted, captured],
  SETTLED: [created, submitted, captured, settled],
  FAILED: [created, failed],
  REFUNDED: [
    created,
    submitted,
    captured,
    refundRequested('7500000000000000001', 10_000n),
    refunded('7500000000000000001', 10_000n, 10_000n),
  ],
};

const moves: Record<string, PaymentCommand> = {
  submit: { type: 'SubmitPayment', providerRef: 'ref-2', at: AT },
  capture: { type: 'CapturePayment', at: AT },
  settle: { type: 'SettlePayment', fee: 100n, at: AT },
  fail: { type: 'FailPayment', reason: 'declined', at: AT },
  refund: { type: 'RequestRefund', refundId: '7500000000000000009', amount: 1_000n, at: AT },
};

const legal: Record<PaymentStateName, string[]> = {
  CREATED: ['submit', 'fail'],
  PENDING: ['capture', 'fail'],
  PAID: ['settle', 'refund'],
  SETTLED: ['refund'],
  FAILED: [],
  REFUNDED: [],
};

const stateAfter = (events: readonly Event[]) =>
  events.reduce(paymentDecider.evolve, paymentDecider.initialState()) as ExistingPayment;

describe('payment decider', () => {
  describe('the lifecycle state machine', () => {
    const expectedState: Record<string, PaymentStateName | undefined> = {
      submit: 'PENDING',
      capture: 'PAID',
      settle: 'SETTLED',
      fail: 'FAILED',
      // A partial refund leaves the state as it was; it is tracked as refunded amount.
      refund: undefined,
    };
    for (const [state, history] of Object.entries(historyOf) as [PaymentStateName, Event[]][]) {
      for (const [move, command] of Object.entries(moves)) {
        if (legal[state].includes(move)) {
          it(`${state} --${move}--> ${expectedState[move] ?? state}`, () => {
            const decided = paymentDecider.decide(command, stateAfter(history));
            expect(decided).to.have.length(1);
            const after = decided.reduce(paymentDecider.evolve, stateAfter(history)) as ExistingPayment;
            expect(after.state).to.equal(expectedState[move] ?? state);
          });
        } else {
          it(`${state} refuses ${move} with 409 naming the state and the allowed moves`, () => {
            spec
              .given(history)
              .when(command)
              .thenThrows(IllegalPaymentTransitionError, {
                type: 'illegal-payment-transition',
                status: 409,
                extensions: { paymentId: PAYMENT, currentState: state, allowedTransitions: legal[state] },
              });
          });
        }
      }
    }

    it('FAILED → PAID is impossible: neither a capture nor a capture callback moves it', () => {
      spec.given(historyOf.FAILED).when(moves.capture!).thenThrows(IllegalPaymentTransitionError);
      const callback: PaymentCallback = { eventId: 'evt-1', callbackType: 'payment.captured', providerCreatedAt: AT };
      const outcome = classifyCallback(stateAfter(historyOf.FAILED), callback, false);
      expect(outcome).to.include({ outcome: 'superseded', flagged: true });
    });

    it('a capture books the amount on the capture journal fixed at creation', () => {
      spec.given(historyOf.PENDING).when(moves.capture!).then([captured]);
    });

    it('a settlement of a partly refunded payment settles what is left, less the fee', () => {
      const history = [
        ...historyOf.PAID,
        refundRequested('7500000000000000001', 2_000n),
        refunded('7500000000000000001', 2_000n, 2_000n),
      ];
      const [event] = paymentDecider.decide({ type: 'SettlePayment', fee: 250n, at: AT }, stateAfter(history));
      expect(event).to.deep.include({ type: 'PaymentSettled' });
      expect(event!.data).to.include({ gross: 8_000n, fee: 250n, net: 7_750n });
    });

    it('refuses a fee larger than what is settled', () => {
      spec.given(historyOf.PAID).when({ type: 'SettlePayment', fee: 10_001n, at: AT }).thenThrows(FeeExceedsSettlementError, {
        type: 'fee-exceeds-settlement',
        status: 422,
      });
    });

    it('a refund after settlement is paid back from the bank, before it from clearing', () => {
      const [beforeSettlement] = paymentDecider.decide(moves.refund!, stateAfter(historyOf.PAID));
      const [afterSettlement] = paymentDecider.decide(moves.refund!, stateAfter(historyOf.SETTLED));
      expect(beforeSettlement!.data).to.include({ from: 'clearing' });
      expect(afterSettlement!.data).to.include({ from: 'bank' });
    });
  });

  describe('submissions the provider declines', () => {
    const declined: Event = {
      type: 'PaymentFailed',
      data: { paymentId: PAYMENT, reason: 'card declined', failedAt: AT, declined: true },
    };
    const decline: PaymentCommand = { type: 'DeclineSubmission', reason: 'card declined', at: AT };

    it("fail the created payment with the provider's reason", () => {
      const after = spec.given([created]).when(decline).then([declined]) as ExistingPayment;
      expect(after).to.include({ state: 'FAILED', failureReason: 'card declined', submissionDeclined: true });
    });

    it('answer a submission asked again with the same refusal, and a decline again with nothing', () => {
      spec
        .given([created, declined])
        .when(moves.submit!)
        .thenThrows(ProviderDeclinedError, {
          type: 'provider-declined',
          status: 422,
          extensions: { provider: 'sandbox' },
          message: /declined the request: card declined$/,
        });
      spec.given([created, declined]).when(decline).thenNothing();
    });

    it('are no failure of their own: a payment failed otherwise refuses a submission as an illegal move', () => {
      spec.given(historyOf.FAILED).when(moves.submit!).thenThrows(IllegalPaymentTransitionError);
      spec.given(historyOf.PENDING).when(decline).thenThrows(IllegalPaymentTransitionError);
    });
  });

  describe('partial refunds', () => {
    it('become REFUNDED exactly when they add up to the captured amount', () => {
      let state = stateAfter(historyOf.SETTLED);
      for (const [index, amount] of [3_000n, 3_000n, 4_000n].entries()) {
        const refundId = `750000000000000000${index}`;
        state = paymentDecider
          .decide({ type: 'RequestRefund', refundId, amount, at: AT }, state)
          .reduce(paymentDecider.evolve, state) as ExistingPayment;
        state = paymentDecider
          .decide({ type: 'CompleteRefund', refundId, at: AT }, state)
          .reduce(paymentDecider.evolve, state) as ExistingPayment;
        expect(state.state).to.equal(index < 2 ? 'SETTLED' : 'REFUNDED');
      }
      expect(state.refunded).to.equal(10_000n);
    });

    it('summing past the captured amount are refused, counting refunds still under way', () => {
      const history = [
        ...historyOf.PAID,
        refundRequested('7500000000000000001', 6_000n),
        refunded('7500000000000000001', 6_000n, 6_000n),
        refundRequested('7500000000000000002', 3_000n),
      ];
      spec
        .given(history)
        .when({ type: 'RequestRefund', refundId: '7500000000000000003', amount: 1_001n, at: AT })
        .thenThrows(RefundExceedsCapturedError, {
          type: 'refund-exceeds-captured',
          status: 422,
          extensions: { paymentId: PAYMENT, requested: '1001', refundable: '1000' },
        });
      spec
        .given(history)
        .when({ type: 'RequestRefund', refundId: '7500000000000000003', amount: 1_000n, at: AT })
        .then([refundRequested('7500000000000000003', 1_000n)]);
    });

    it('a refund recorded as failed (streams from before refunds were paid from suspense) gives its amount back', () => {
      const afterFailure = stateAfter([
        ...historyOf.PAID,
        refundRequested('7500000000000000001', 10_000n),
        {
          type: 'PaymentRefundFailed',
          data: {
            paymentId: PAYMENT,
            refundId: '7500000000000000001',
            amount: 10_000n,
            reason: { type: 'insufficient-funds', detail: 'no' },
            failedAt: AT,
          },
        },
      ]);
      expect(afterFailure.state).to.equal('PAID');
      expect(paymentDecider.decide(moves.refund!, afterFailure)).to.have.length(1);
    });

    it('never let the refunded total exceed the captured amount, whatever the sequence (property)', () => {
      fc.assert(
        fc.property(
          fc.array(fc.record({ amount: fc.bigInt({ min: 1n, max: 12_000n }), completes: fc.boolean() }), { maxLength: 12 }),
          (requests) => {
            let state = stateAfter(historyOf.PAID);
            for (const [index, request] of requests.entries()) {
              const refundId = (7_500_000_000_000_000_000n + BigInt(index)).toString();
              try {
                state = paymentDecider
                  .decide({ type: 'RequestRefund', refundId, amount: request.amount, at: AT }, state)
                  .reduce(paymentDecider.evolve, state) as ExistingPayment;
              } catch (error) {
                if (!(error instanceof RefundExceedsCapturedError) && !(error instanceof IllegalPaymentTransitionError))
                  throw error;
                continue;
              }
              const end: PaymentCommand = request.completes
                ? { type: 'CompleteRefund', refundId, at: AT }
                : { type: 'BookRefundFromSuspense', refundId, refusal: 'account-frozen', at: AT };
              state = paymentDecider.decide(end, state).reduce(paymentDecider.evolve, state) as ExistingPayment;
              expect(state.refunded <= state.captured).to.equal(true);
              expect(state.state === 'REFUNDED').to.equal(state.refunded === state.captured);
            }
          },
        ),
      );
    });
    it('take a refund id asked again after it ended as a no-op, never a second refund', () => {
      const done = [
        ...historyOf.PAID,
        refundRequested('7500000000000000001', 1_000n),
        refunded('7500000000000000001', 1_000n, 1_000n),
      ];
      spec.given(done).when({ type: 'RequestRefund', refundId: '7500000000000000001', amount: 1_000n, at: AT }).thenNothing();
    });
    it('take a refund the provider answers with the reference of one its callback already booked as a no-op', () => {
      const reportedFirst = refundRequested('7500000000000000001', 1_000n, 'clearing', {
        providerRefundRef: 're_lost_answer',
        callbackEventId: 'evt-refund',
      });
      spec
        .given([...historyOf.PAID, reportedFirst, refunded('7500000000000000001', 1_000n, 1_000n)])
        .when({ type: 'RequestRefund', refundId: '7500000000000000002', amount: 1_000n, providerRefundRef: 're_lost_answer', at: AT })
        .thenNothing();
    });
  });

  describe('refunds of a capture booked to suspense', () => {
    const capturedCallback: PaymentCallback = { eventId: 'e1', callbackType: 'payment.captured', providerCreatedAt: AT };
    const after = (state: ExistingPayment, command: PaymentCommand) =>
      paymentDecider.decide(command, state).reduce(paymentDecider.evolve, state) as ExistingPayment;
    const reported = (state: ExistingPayment) =>
      after(state, { type: 'ReceiveCallback', callback: capturedCallback, redelivery: false, at: AT });
    const toSuspense = (callbackEventId?: string): PaymentCommand => ({
      type: 'BookCaptureToSuspense',
      refusal: 'account-frozen: frozen',
      at: AT,
      ...(callbackEventId === undefined ? {} : { callbackEventId }),
    });
    const refund = (refundId: string, amount: bigint): PaymentCommand => ({ type: 'RequestRefund', refundId, amount, at: AT });
    const inSuspense = () => after(reported(stateAfter(historyOf.PENDING)), toSuspense('e1'));

    it('holds the capture in suspense, reported by a callback, asked of Folio, or repaired after an interruption', () => {
      expect(inSuspense()).to.include({ state: 'PAID', capturedToSuspense: 10_000n, flaggedForReconciliation: true });
      expect(after(stateAfter(historyOf.PENDING), toSuspense())).to.include({ capturedToSuspense: 10_000n });
      // A repair knows no callback: the capture names the one it refuses.
      const [, capture] = paymentDecider.decide(toSuspense(), reported(stateAfter(historyOf.PENDING)));
      expect(capture!.data).to.include({ callbackEventId: 'e1' });
      expect(after(reported(stateAfter(historyOf.PENDING)), toSuspense())).to.include({ capturedToSuspense: 10_000n });
    });

    it('holds nothing in suspense for a capture the merchant took, even after a capture of another amount was refused', () => {
      const tookIt = after(reported(stateAfter(historyOf.PENDING)), { type: 'CapturePayment', callbackEventId: 'e1', at: AT });
      expect(tookIt).to.include({ capturedToSuspense: 0n });
      const mismatched: PaymentCallback = { ...capturedCallback, eventId: 'e2', amount: 9_999n };
      const refused = after(stateAfter(historyOf.PENDING), {
        type: 'ReceiveCallback',
        callback: mismatched,
        redelivery: false,
        at: AT,
      });
      expect(after(refused, moves.capture!)).to.include({ capturedToSuspense: 0n });
      const [request] = paymentDecider.decide(refund('7500000000000000001', 1_000n), stateAfter(historyOf.PAID));
      expect(request!.data).not.to.have.property('fromCaptureInSuspense');
    });

    it('pays refunds back from the booking, counting those under way and done, never past what it holds', () => {
      let state = after(inSuspense(), refund('7500000000000000001', 3_000n));
      expect(state.refundsInFlight['7500000000000000001']).to.include({ fromCaptureInSuspense: 3_000n });
      const [second] = paymentDecider.decide(refund('7500000000000000002', 7_000n), state);
      expect(second!.data).to.include({ fromCaptureInSuspense: 7_000n });
      state = after(state, { type: 'CompleteRefund', refundId: '7500000000000000001', at: AT });
      expect(state).to.include({ refunded: 3_000n, refundedFromSuspense: 3_000n, flaggedForReconciliation: true });
      state = after(state, refund('7500000000000000002', 7_000n));
      state = after(state, { type: 'BookRefundFromSuspense', refundId: '7500000000000000002', refusal: 'x', at: AT });
      expect(state).to.include({ state: 'REFUNDED', refunded: 10_000n, refundedFromSuspense: 10_000n });
      // Were the booking smaller than the refund, the merchant would pay the rest.
      const smaller = { ...inSuspense(), capturedToSuspense: 4_000n };
      const [partly] = paymentDecider.decide(refund('7500000000000000003', 6_000n), smaller);
      expect(partly!.data).to.include({ amount: 6_000n, fromCaptureInSuspense: 4_000n });
    });

    it('takes a refund requested before refunds were paid from the booking as the merchant\'s', () => {
      const state = [refundRequested('7500000000000000001', 3_000n), refunded('7500000000000000001', 3_000n, 3_000n)].reduce(
        paymentDecider.evolve,
        inSuspense(),
      ) as ExistingPayment;
      expect(state).to.include({ refunded: 3_000n, refundedFromSuspense: 0n });
      const [rest] = paymentDecider.decide(refund('7500000000000000002', 7_000n), state);
      expect(rest!.data).to.include({ fromCaptureInSuspense: 7_000n });
    });
  });

  describe('callbacks by precedence', () => {
    const callback = (
      eventId: string,
      callbackType: PaymentCallback['callbackType'],
      extra: Partial<PaymentCallback> = {},
    ): PaymentCallback => ({
      eventId,
      callbackType,
      providerCreatedAt: AT,
      ...extra,
    });
    const outcomeOf = (state: PaymentStateName, received: PaymentCallback) =>
      classifyCallback(stateAfter(historyOf[state]), received, false);

    it('applies a callback in the state it needs, defers one that came too early', () => {
      expect(outcomeOf('PENDING', callback('e1', 'payment.captured')).outcome).to.equal('applied');
      expect(outcomeOf('CREATED', callback('e1', 'payment.captured')).outcome).to.equal('deferred');
      expect(outcomeOf('PENDING', callback('e2', 'payment.settled', { fee: 10n })).outcome).to.equal('deferred');
      expect(outcomeOf('PAID', callback('e2', 'payment.settled', { fee: 10n })).outcome).to.equal('applied');
      expect(outcomeOf('PENDING', callback('e3', 'payment.refunded', { amount: 10n, providerRefundRef: 're_1' })).outcome).to.equal('deferred');
    });

    it('records a failure after a success as superseded and flagged; the success stands', () => {
      for (const state of ['PAID', 'SETTLED', 'REFUNDED'] as const) {
        expect(outcomeOf(state, callback('e4', 'payment.failed'))).to.include({ outcome: 'superseded', flagged: true });
      }
    });

    it('takes a late callback for what is already known as outdated, a repeated event id as a duplicate', () => {
      expect(outcomeOf('SETTLED', callback('e5', 'payment.captured'))).to.include({ outcome: 'outdated', flagged: false });
      const seen = spec
        .given(historyOf.PENDING)
        .when({ type: 'ReceiveCallback', callback: callback('e6', 'payment.captured'), redelivery: false, at: AT });
      const state = seen.then([
        {
          type: 'PaymentCallbackRecorded',
          data: {
            paymentId: PAYMENT,
            provider: 'sandbox',
            eventId: 'e6',
            callbackType: 'payment.captured',
            providerCreatedAt: AT,
            outcome: 'applied',
            flaggedForReconciliation: false,
            detail: 'captured',
            receivedAt: AT,
          },
        },
      ]) as ExistingPayment;
      expect(classifyCallback(state, callback('e6', 'payment.captured'), false).outcome).to.equal('duplicate');
    });

    it('applies the confirmation of a refund recorded as failed: the provider refunded it all the same', () => {
      const requested = refundRequested('7500000000000000001', 1_000n, 'clearing', { providerRefundRef: 're_1' });
      const refundFailed: Event = {
        type: 'PaymentRefundFailed',
        data: {
          paymentId: PAYMENT,
          refundId: '7500000000000000001',
          amount: 1_000n,
          reason: { type: 'account-frozen', detail: 'frozen' },
          failedAt: AT,
        },
      };
      const confirmation = callback('e8', 'payment.refunded', { amount: 1_000n, providerRefundRef: 're_1' });
      const outcomeAfter = (events: Event[]) =>
        classifyCallback(stateAfter([...historyOf.PAID, ...events]), confirmation, false).outcome;
      expect(outcomeAfter([requested])).to.equal('outdated');
      expect(outcomeAfter([requested, refundFailed])).to.equal('applied');
    });

    it('refuses and flags a capture of another amount than the payment', () => {
      expect(outcomeOf('PENDING', callback('e7', 'payment.captured', { amount: 9_999n }))).to.include({
        outcome: 'refused',
        flagged: true,
      });
    });

    it('refuses and flags a settlement of a settled payment with another fee, takes one with its fee as outdated', () => {
      expect(outcomeOf('SETTLED', callback('e12', 'payment.settled', { fee: 310n }))).to.include({ outcome: 'refused', flagged: true });
      expect(outcomeOf('SETTLED', callback('e13', 'payment.settled', { fee: 300n }))).to.include({ outcome: 'outdated', flagged: false });
      expect(outcomeOf('SETTLED', callback('e14', 'payment.settled'))).to.include({ outcome: 'outdated', flagged: false });
    });

    it('refuses and flags a settlement of another amount than captured less refunds, applies one of that amount', () => {
      const settle = (eventId: string, amount: bigint) => callback(eventId, 'payment.settled', { amount, fee: 300n });
      const refused = outcomeOf('PAID', settle('e15', 8_000n));
      expect(refused).to.include({ outcome: 'refused', flagged: true });
      expect(refused.detail).to.contain('8000').and.to.contain('10000');
      expect(outcomeOf('PAID', settle('e16', 10_000n))).to.include({ outcome: 'applied', flagged: false });
      const partlyRefunded = stateAfter([...historyOf.PAID, refundRequested('7500000000000000001', 4_000n), refunded('7500000000000000001', 4_000n, 4_000n)]);
      expect(classifyCallback(partlyRefunded, settle('e17', 10_000n), false)).to.include({ outcome: 'refused', flagged: true });
      expect(classifyCallback(partlyRefunded, settle('e18', 6_000n), false)).to.include({ outcome: 'applied', flagged: false });
    });

    it('refuses and flags a settlement of a settled payment for another amount than it settled, takes its amount as outdated', () => {
      const settle = (eventId: string, amount: bigint) => callback(eventId, 'payment.settled', { amount, fee: 300n });
      expect(outcomeOf('SETTLED', settle('e19', 9_700n))).to.include({ outcome: 'refused', flagged: true });
      expect(outcomeOf('SETTLED', settle('e20', 10_000n))).to.include({ outcome: 'outdated', flagged: false });
    });

    it('judges a settlement of a payment refunded in full after its settlement as of a settled one, and flags one never settled', () => {
      const refundedAfterSettlement = stateAfter([
        ...historyOf.SETTLED,
        refundRequested('7500000000000000001', 10_000n, 'bank'),
        refunded('7500000000000000001', 10_000n, 10_000n),
      ]);
      const settle = (eventId: string, extra: Partial<PaymentCallback>) => callback(eventId, 'payment.settled', extra);
      const outcomeAfterRefund = (received: PaymentCallback) => classifyCallback(refundedAfterSettlement, received, false);
      expect(refundedAfterSettlement.state).to.equal('REFUNDED');
      expect(outcomeAfterRefund(settle('e22', { amount: 10_000n, fee: 300n }))).to.include({ outcome: 'outdated', flagged: false });
      expect(outcomeAfterRefund(settle('e23', {}))).to.include({ outcome: 'outdated', flagged: false });
      expect(outcomeAfterRefund(settle('e24', { amount: 9_700n, fee: 300n }))).to.include({ outcome: 'refused', flagged: true });
      expect(outcomeAfterRefund(settle('e25', { amount: 10_000n, fee: 310n }))).to.include({ outcome: 'refused', flagged: true });
      expect(outcomeOf('REFUNDED', settle('e26', { amount: 10_000n, fee: 300n }))).to.include({ outcome: 'superseded', flagged: true });
    });

    it('refuses and flags a refund without the provider\'s refund reference in every state, never booking it', () => {
      for (const state of Object.keys(historyOf) as PaymentStateName[]) {
        const unnamed = callback(`e21-${state}`, 'payment.refunded', { amount: 1_000n });
        const classification = outcomeOf(state, unnamed);
        expect(classification, state).to.include({ outcome: 'refused', flagged: true });
        expect(classification.detail).to.contain('refund reference');
      }
      const state = spec.given(historyOf.PAID).when({
        type: 'ReceiveCallback',
        callback: callback('e22', 'payment.refunded', { amount: 1_000n }),
        redelivery: false,
        at: AT,
      });
      const after = state.then([
        {
          type: 'PaymentCallbackRecorded',
          data: {
            paymentId: PAYMENT,
            provider: 'sandbox',
            eventId: 'e22',
            callbackType: 'payment.refunded',
            amount: 1_000n,
            providerCreatedAt: AT,
            outcome: 'refused',
            flaggedForReconciliation: true,
            detail: "a refund of 1000 without the provider's refund reference: not booked",
            receivedAt: AT,
          },
        },
      ]) as ExistingPayment;
      expect(after).to.include({ refunded: 0n, flaggedForReconciliation: true });
      expect(after.refundsInFlight).to.deep.equal({});
      expect(after.applied).to.deep.equal([]);
    });

    it('refuses and flags the confirmation of a booked refund for another amount, moving nothing', () => {
      const requested = refundRequested('7500000000000000001', 4_000n, 'clearing', { providerRefundRef: 're_1' });
      for (const events of [[requested], [requested, refunded('7500000000000000001', 4_000n, 4_000n)]]) {
        const state = stateAfter([...historyOf.PAID, ...events]);
        const confirm = (eventId: string, amount?: bigint) => {
          const said = amount === undefined ? {} : { amount };
          return classifyCallback(state, callback(eventId, 'payment.refunded', { providerRefundRef: 're_1', ...said }), false);
        };
        expect(confirm('e9', 3_000n)).to.include({ outcome: 'refused', flagged: true });
        expect(confirm('e10', 4_000n)).to.include({ outcome: 'outdated', flagged: false });
        expect(confirm('e11')).to.include({ outcome: 'outdated', flagged: false });
      }
    });
  });

  describe('what more than one writer decides at once', () => {
    const settlementStarted = (fee: bigint, callbackEventId?: string): Event => ({
      type: 'PaymentSettlementStarted',
      data: { paymentId: PAYMENT, gross: 10_000n, fee, net: 10_000n - fee, startedAt: AT, ...(callbackEventId === undefined ? {} : { callbackEventId }) },
    });
    const settledCallback = (eventId: string, fee: bigint): PaymentCallback => ({ eventId, callbackType: 'payment.settled', fee, providerCreatedAt: AT });

    it('fixes a settlement\'s fee once: the same fee again is nothing new, another one is refused', () => {
      spec
        .given(historyOf.PAID)
        .when({ type: 'StartSettlement', fee: 300n, at: AT, callbackEventId: 'e1' })
        .then([settlementStarted(300n, 'e1')]);
      spec.given([...historyOf.PAID, settlementStarted(300n)]).when({ type: 'StartSettlement', fee: 300n, at: AT }).thenNothing();
      spec
        .given([...historyOf.PAID, settlementStarted(300n)])
        .when({ type: 'StartSettlement', fee: 10_000n, at: AT })
        .thenThrows(IllegalPaymentTransitionError, { type: 'illegal-payment-transition', status: 409, message: /fee of 300 is under way/ });
      spec
        .given([...historyOf.PAID, settlementStarted(300n)])
        .when({ type: 'SettlePayment', fee: 10_000n, at: AT })
        .thenThrows(IllegalPaymentTransitionError, { type: 'illegal-payment-transition', status: 409 });
      const settledState = spec
        .given([...historyOf.PAID, settlementStarted(300n, 'e1')])
        .when({ type: 'SettlePayment', fee: 300n, at: AT, callbackEventId: 'e1' })
        .then([{ type: 'PaymentSettled', data: { ...settled.data, callbackEventId: 'e1' } }]) as ExistingPayment;
      expect(settledState).to.include({ state: 'SETTLED', fee: 300n, net: 9_700n });
      expect(settledState.settling).to.equal(undefined);
    });

    it('decides a capture before its money: the same capture again is nothing new, a failure is refused or superseded', () => {
      const captureStarted: Event = {
        type: 'PaymentCaptureStarted',
        data: { paymentId: PAYMENT, amount: 10_000n, journalId: '7400000000000000001', startedAt: AT, callbackEventId: 'e1' },
      };
      spec.given(historyOf.PENDING).when({ type: 'StartCapture', at: AT, callbackEventId: 'e1' }).then([captureStarted]);
      spec.given([...historyOf.PENDING, captureStarted]).when({ type: 'StartCapture', at: AT }).thenNothing();
      spec
        .given([...historyOf.PENDING, captureStarted])
        .when({ type: 'FailPayment', reason: 'card_declined', at: AT })
        .thenThrows(IllegalPaymentTransitionError, { type: 'illegal-payment-transition', status: 409, message: /capture is under way/ });
      const failure: PaymentCallback = { eventId: 'e2', callbackType: 'payment.failed', providerCreatedAt: AT };
      expect(classifyCallback(stateAfter([...historyOf.PENDING, captureStarted]), failure, false)).to.include({ outcome: 'superseded', flagged: true });
      const paid = spec.given([...historyOf.PENDING, captureStarted]).when({ type: 'CapturePayment', at: AT }).then([captured]) as ExistingPayment;
      expect(paid).to.include({ state: 'PAID', captured: 10_000n });
      expect(paid.capturing).to.equal(undefined);
    });

    it('takes a settlement callback for the fee being settled as outdated, flags one with another fee, and holds refunds meanwhile', () => {
      const settling = stateAfter([...historyOf.PAID, settlementStarted(300n)]);
      expect(classifyCallback(settling, settledCallback('e2', 300n), false)).to.include({ outcome: 'outdated', flagged: false });
      expect(classifyCallback(settling, settledCallback('e3', 10_000n), false)).to.include({ outcome: 'refused', flagged: true });
      const refund: PaymentCallback = { eventId: 'e4', callbackType: 'payment.refunded', amount: 1_000n, providerRefundRef: 're_1', providerCreatedAt: AT };
      expect(classifyCallback(settling, refund, false).outcome).to.equal('deferred');
      spec
        .given([...historyOf.PAID, settlementStarted(300n)])
        .when({ type: 'RequestRefund', refundId: '7500000000000000001', amount: 1_000n, at: AT })
        .thenThrows(IllegalPaymentTransitionError, { type: 'illegal-payment-transition', status: 409, message: /settlement is under way/ });
    });

    it('books a refund reported under a second event id as nothing new once the first booked it', () => {
      const first: PaymentCallback = { eventId: 'e5', callbackType: 'payment.refunded', amount: 2_500n, providerRefundRef: 're_1', providerCreatedAt: AT };
      const second: PaymentCallback = { ...first, eventId: 'e6' };
      const recordedApplied = (callback: PaymentCallback): Event => ({
        type: 'PaymentCallbackRecorded',
        data: {
          paymentId: PAYMENT,
          provider: 'sandbox',
          eventId: callback.eventId,
          callbackType: 'payment.refunded',
          amount: 2_500n,
          providerRefundRef: 're_1',
          providerCreatedAt: AT,
          outcome: 'applied',
          flaggedForReconciliation: false,
          detail: 'refunded',
          receivedAt: AT,
        },
      });
      const history = [
        ...historyOf.PAID,
        recordedApplied(first),
        recordedApplied(second),
        refundRequested('7500000000000000001', 2_500n, 'clearing', { providerRefundRef: 're_1', callbackEventId: 'e5' }),
      ];
      spec
        .given(history)
        .when({ type: 'RequestRefund', refundId: '7500000000000000002', amount: 2_500n, providerRefundRef: 're_1', callbackEventId: 'e6', at: AT })
        .thenNothing();
      expect(awaitsEffect(stateAfter(history), second)).to.equal(false);
    });

    it('leaves a callback recorded as applied awaiting its change while a move another writer started holds it back', () => {
      const recordedApplied = (callback: PaymentCallback): Event => ({
        type: 'PaymentCallbackRecorded',
        data: {
          paymentId: PAYMENT,
          provider: 'sandbox',
          eventId: callback.eventId,
          callbackType: callback.callbackType,
          ...(callback.fee === undefined ? {} : { fee: callback.fee }),
          ...(callback.amount === undefined ? {} : { amount: callback.amount }),
          ...(callback.providerRefundRef === undefined ? {} : { providerRefundRef: callback.providerRefundRef }),
          providerCreatedAt: AT,
          outcome: 'applied',
          flaggedForReconciliation: false,
          detail: 'applied',
          receivedAt: AT,
        },
      });
      const refuse = (callback: PaymentCallback): PaymentCommand => ({ type: 'RefuseCallback', callback, detail: 'refused by a move', at: AT });
      const settlement = settledCallback('e8', 300n);
      const reserved = refundRequested('7500000000000000001', 2_500n, 'clearing', { awaitsProvider: true });
      const reservedMeanwhile = [...historyOf.PAID, recordedApplied(settlement), reserved];
      expect(heldBack(stateAfter(reservedMeanwhile), settlement)).to.equal(true);
      spec.given(reservedMeanwhile).when(refuse(settlement)).thenNothing();
      // The refund ended: the settlement is no longer held back, and the books take it.
      const refundEnded: Event = {
        type: 'PaymentRefundFailed',
        data: {
          paymentId: PAYMENT,
          refundId: '7500000000000000001',
          amount: 2_500n,
          reason: { type: 'provider-declined', detail: 'no' },
          failedAt: AT,
        },
      };
      const released = stateAfter([...reservedMeanwhile, refundEnded]);
      expect(awaitsEffect(released, settlement)).to.equal(true);
      expect(heldBack(released, settlement)).to.equal(false);
      // Refunded in full instead, the payment never settled: the settlement awaits a judgement, refused and flagged.
      const refundedInFull = [
        ...historyOf.PAID,
        recordedApplied(settlement),
        refundRequested('7500000000000000001', 10_000n),
        refunded('7500000000000000001', 10_000n, 10_000n),
      ];
      expect(awaitsEffect(stateAfter(refundedInFull), settlement)).to.equal(true);
      const [refusal] = paymentDecider.decide(refuse(settlement), stateAfter(refundedInFull));
      expect(refusal?.data).to.include({ eventId: 'e8', outcome: 'refused', flaggedForReconciliation: true });
      const refund: PaymentCallback = {
        eventId: 'e9',
        callbackType: 'payment.refunded',
        amount: 1_000n,
        providerRefundRef: 're_9',
        providerCreatedAt: AT,
      };
      const settlingMeanwhile = [...historyOf.PAID, recordedApplied(refund), settlementStarted(300n)];
      expect(heldBack(stateAfter(settlingMeanwhile), refund)).to.equal(true);
      spec.given(settlingMeanwhile).when(refuse(refund)).thenNothing();
    });

    it('refuses and flags a waiting callback about another reference than the one submitted', () => {
      const early: PaymentCallback = { eventId: 'e7', callbackType: 'payment.captured', providerRef: 'pi_other', providerCreatedAt: AT };
      expect(classifyCallback(stateAfter(historyOf.CREATED), early, false).outcome).to.equal('deferred');
      expect(classifyCallback(stateAfter(historyOf.PENDING), early, true)).to.include({ outcome: 'refused', flagged: true });
      expect(classifyCallback(stateAfter(historyOf.PENDING), { ...early, providerRef: 'ref-1' }, true).outcome).to.equal('applied');
      // Recorded before the reference was kept: it names none, and is applied as it always was.
      const { providerRef: _none, ...unnamed } = early;
      expect(classifyCallback(stateAfter(historyOf.PENDING), unnamed, true).outcome).to.equal('applied');
    });

    it('records a reference the provider answered with that another payment holds, flagged, and submits the payment no more', () => {
      const taken: Event = {
        type: 'PaymentReferenceTaken',
        data: { paymentId: PAYMENT, provider: 'sandbox', providerRef: 'pi_shared', takenBy: { resource: 'payment', resourceId: '7400000000000000099' }, recordedAt: AT },
      };
      const state = spec
        .given(historyOf.CREATED)
        .when({ type: 'RecordReferenceTaken', providerRef: 'pi_shared', takenBy: { resource: 'payment', resourceId: '7400000000000000099' }, at: AT })
        .then([taken]) as ExistingPayment;
      expect(state).to.include({ state: 'CREATED', referenceTaken: 'pi_shared', flaggedForReconciliation: true });
      spec.given([...historyOf.CREATED, taken]).when({ type: 'RecordReferenceTaken', providerRef: 'pi_shared', at: AT }).thenNothing();
      for (const providerRef of ['pi_shared', 'pi_another']) {
        spec
          .given([...historyOf.CREATED, taken])
          .when({ type: 'SubmitPayment', providerRef, at: AT })
          .thenThrows(ProviderReferenceTakenError, {
            type: 'provider-reference-taken',
            status: 409,
            extensions: { provider: 'sandbox', providerRef: 'pi_shared' },
          });
      }
    });
  });
  describe('refunds reserved before the provider is asked', () => {
    const REFUND = '7500000000000000001';
    const reserved = refundRequested(REFUND, 4_000n, 'clearing', { awaitsProvider: true });
    const accepted: Event = {
      type: 'PaymentRefundAccepted',
      data: { paymentId: PAYMENT, refundId: REFUND, providerRefundRef: 're_1', acceptedAt: AT },
    };
    const released = (type: string, detail: string): Event => ({
      type: 'PaymentRefundFailed',
      data: { paymentId: PAYMENT, refundId: REFUND, amount: 4_000n, reason: { type, detail }, failedAt: AT },
    });

    it('a reservation holds its amount and blocks a settlement while the provider has not answered', () => {
      spec
        .given(historyOf.PAID)
        .when({ type: 'RequestRefund', refundId: REFUND, amount: 4_000n, awaitsProvider: true, at: AT })
        .then([reserved]);
      spec
        .given([...historyOf.PAID, reserved])
        .when({ type: 'RequestRefund', refundId: '7500000000000000002', amount: 6_001n, at: AT })
        .thenThrows(RefundExceedsCapturedError);
      spec
        .given([...historyOf.PAID, reserved])
        .when({ type: 'StartSettlement', fee: 100n, at: AT })
        .thenThrows(IllegalPaymentTransitionError);
      expect(stateAfter([...historyOf.PAID, reserved]).refundsInFlight[REFUND]).to.include({ awaitingProvider: true });
    });

    it("the provider's answer is recorded once, and its reference is the books'", () => {
      const state = spec
        .given([...historyOf.PAID, reserved])
        .when({ type: 'AcceptRefund', refundId: REFUND, providerRefundRef: 're_1', at: AT })
        .then([accepted]) as ExistingPayment;
      expect(state.refundsInFlight[REFUND]).to.deep.equal({
        amount: 4_000n,
        from: 'clearing',
        fromCaptureInSuspense: 0n,
        providerRefundRef: 're_1',
        requestedAt: AT,
      });
      expect(state.refundRefs.get('re_1')).to.equal(4_000n);
      const answered = [...historyOf.PAID, reserved, accepted];
      spec.given(answered).when({ type: 'AcceptRefund', refundId: REFUND, providerRefundRef: 're_1', at: AT }).then([]);
      spec.given(answered).when({ type: 'DeclineRefund', refundId: REFUND, reason: 'no', at: AT }).then([]);
    });

    it('a reservation the provider declines is released, giving its amount back', () => {
      const state = spec
        .given([...historyOf.PAID, reserved])
        .when({ type: 'DeclineRefund', refundId: REFUND, reason: 'balance too low', at: AT })
        .then([released('provider-declined', 'balance too low')]) as ExistingPayment;
      expect(state.refundsInFlight).to.deep.equal({});
      expect(state.refundsEnded).to.deep.equal([REFUND]);
      spec
        .given([...historyOf.PAID, reserved, released('provider-declined', 'no')])
        .when({ type: 'AcceptRefund', refundId: REFUND, providerRefundRef: 're_1', at: AT })
        .then([]);
    });

    it("a reservation the provider's own report booked first is released, not paid back twice", () => {
      const reported = refundRequested('7500000000000000002', 4_000n, 'clearing', {
        providerRefundRef: 're_1',
        callbackEventId: 'evt-1',
      });
      spec
        .given([...historyOf.PAID, reserved, reported])
        .when({ type: 'AcceptRefund', refundId: REFUND, providerRefundRef: 're_1', at: AT })
        .then([released('booked-from-provider-report', "the provider's report of refund re_1 booked it first")]);
    });
  });

  describe("where a capture's or refund's money goes", () => {
    const REFUND = '7500000000000000001';
    // Another time than the moves before it, so the event is seen to carry the command's.
    const CHOSEN_AT = '2026-01-03T00:00:00.000Z';
    const captureStarted: Event = {
      type: 'PaymentCaptureStarted',
      data: { paymentId: PAYMENT, amount: 10_000n, journalId: '7400000000000000001', startedAt: AT, callbackEventId: 'e1' },
    };
    const capturing = [...historyOf.PENDING, captureStarted];
    const reserved = refundRequested(REFUND, 4_000n, 'clearing', { awaitsProvider: true });
    const accepted: Event = {
      type: 'PaymentRefundAccepted',
      data: { paymentId: PAYMENT, refundId: REFUND, providerRefundRef: 're_1', acceptedAt: AT },
    };
    const refunding = [...historyOf.PAID, reserved, accepted];
    const choose = (to: 'merchant' | 'suspense', extra: { refundId?: string; refusal?: string } = {}): PaymentCommand => ({
      type: 'ChooseRoute',
      to,
      ...extra,
      at: CHOSEN_AT,
    });
    const chosen = (move: 'capture' | 'refund', to: 'merchant' | 'suspense', refusal?: string): Event => ({
      type: 'PaymentRouteChosen',
      data: {
        paymentId: PAYMENT,
        move,
        journalId: move === 'capture' ? '7400000000000000001' : REFUND,
        route: to,
        ...(to === 'merchant' ? { accountId: MERCHANT } : {}),
        ...(refusal === undefined ? {} : { refusal }),
        chosenAt: CHOSEN_AT,
      },
    });

    it("records the route of a capture under way on its journal: to the merchant, or to suspense with the account's refusal", () => {
      const toMerchant = spec.given(capturing).when(choose('merchant')).then([chosen('capture', 'merchant')]) as ExistingPayment;
      expect(toMerchant.capturing).to.deep.equal({ callbackEventId: 'e1', route: { to: 'merchant' } });
      const toSuspense = spec
        .given(capturing)
        .when(choose('suspense', { refusal: 'account-frozen: frozen' }))
        .then([chosen('capture', 'suspense', 'account-frozen: frozen')]) as ExistingPayment;
      expect(toSuspense.capturing).to.deep.equal({ callbackEventId: 'e1', route: { to: 'suspense', refusal: 'account-frozen: frozen' } });
      expect(toSuspense.state).to.equal('PENDING');
    });

    it('names a refusal for suspense even when none was given, and none for the merchant even when one was', () => {
      spec.given(capturing).when(choose('suspense')).then([chosen('capture', 'suspense', 'refused')]);
      spec.given(capturing).when(choose('merchant', { refusal: 'account-frozen: frozen' })).then([chosen('capture', 'merchant')]);
    });

    it('lets the first route of a capture stand: another one, or the same again, is nothing new', () => {
      const toSuspense = [...capturing, chosen('capture', 'suspense', 'account-frozen: frozen')];
      spec.given(toSuspense).when(choose('merchant')).thenNothing();
      spec.given(toSuspense).when(choose('suspense', { refusal: 'account-closed' })).thenNothing();
      spec.given([...capturing, chosen('capture', 'merchant')]).when(choose('suspense', { refusal: 'account-frozen: frozen' })).thenNothing();
      expect(stateAfter(toSuspense).capturing?.route).to.deep.equal({ to: 'suspense', refusal: 'account-frozen: frozen' });
    });

    it('chooses no route for a capture not under way: not started, recorded already, or of a failed payment', () => {
      for (const history of [historyOf.PENDING, [...capturing, captured], historyOf.PAID, historyOf.FAILED]) {
        spec.given(history).when(choose('merchant')).thenNothing();
      }
    });

    it("records the route of a refund the provider took on the refund's journal", () => {
      const state = spec
        .given(refunding)
        .when(choose('suspense', { refundId: REFUND, refusal: 'account-frozen: frozen' }))
        .then([chosen('refund', 'suspense', 'account-frozen: frozen')]) as ExistingPayment;
      expect(state.refundsInFlight[REFUND]).to.include({ providerRefundRef: 're_1', amount: 4_000n });
      expect(state.refundsInFlight[REFUND]!.route).to.deep.equal({ to: 'suspense', refusal: 'account-frozen: frozen' });
      // A refund asked of Folio once the provider had made it is never reserved.
      const direct = [...historyOf.SETTLED, refundRequested(REFUND, 4_000n, 'bank', { providerRefundRef: 're_1' })];
      const after = spec.given(direct).when(choose('merchant', { refundId: REFUND })).then([chosen('refund', 'merchant')]) as ExistingPayment;
      expect(after.refundsInFlight[REFUND]!.route).to.deep.equal({ to: 'merchant' });
    });

    it('lets the first route of a refund stand', () => {
      const toMerchant = [...refunding, chosen('refund', 'merchant')];
      spec.given(toMerchant).when(choose('suspense', { refundId: REFUND, refusal: 'account-frozen: frozen' })).thenNothing();
      spec.given(toMerchant).when(choose('merchant', { refundId: REFUND })).thenNothing();
      expect(stateAfter(toMerchant).refundsInFlight[REFUND]!.route).to.deep.equal({ to: 'merchant' });
    });

    it('chooses no route for a refund the provider has not taken, one ended, or one never requested', () => {
      spec.given([...historyOf.PAID, reserved]).when(choose('merchant', { refundId: REFUND })).thenNothing();
      const ended = [...refunding, refunded(REFUND, 4_000n, 4_000n)];
      spec.given(ended).when(choose('merchant', { refundId: REFUND })).thenNothing();
      spec.given(refunding).when(choose('merchant', { refundId: '7500000000000000002' })).thenNothing();
      // A refund id names a refund, never the capture, even while one is under way.
      spec.given(capturing).when(choose('merchant', { refundId: REFUND })).thenNothing();
    });

    it('holds every writer to the route recorded first: the other way of ending the move is refused', () => {
      const frozen = 'account-frozen: frozen';
      spec
        .given([...capturing, chosen('capture', 'suspense', frozen)])
        .when({ type: 'CapturePayment', at: AT })
        .thenThrows(IllegalPaymentTransitionError, { type: 'illegal-payment-transition', status: 409, message: /routed to/ });
      spec
        .given([...capturing, chosen('capture', 'merchant')])
        .when({ type: 'BookCaptureToSuspense', refusal: frozen, at: AT })
        .thenThrows(IllegalPaymentTransitionError, { type: 'illegal-payment-transition', status: 409, message: /routed to/ });
      spec
        .given([...refunding, chosen('refund', 'suspense', frozen)])
        .when({ type: 'CompleteRefund', refundId: REFUND, at: AT })
        .thenThrows(IllegalPaymentTransitionError, { type: 'illegal-payment-transition', status: 409, message: /routed to/ });
      spec
        .given([...refunding, chosen('refund', 'merchant')])
        .when({ type: 'BookRefundFromSuspense', refundId: REFUND, refusal: frozen, at: AT })
        .thenThrows(IllegalPaymentTransitionError, { type: 'illegal-payment-transition', status: 409, message: /routed to/ });
    });

    it('ends each move the way its route says', () => {
      const captureByRoute = stateAfter([...capturing, chosen('capture', 'merchant')]);
      expect(paymentDecider.decide({ type: 'CapturePayment', at: AT }, captureByRoute).map((event) => event.type)).to.deep.equal(['PaymentCaptured']);
      const toSuspense = stateAfter([...capturing, chosen('capture', 'suspense', 'account-frozen: frozen')]);
      expect(paymentDecider.decide({ type: 'BookCaptureToSuspense', refusal: 'account-frozen: frozen', at: AT }, toSuspense).map((event) => event.type))
        .to.deep.equal(['PaymentCallbackRecorded', 'PaymentCaptured']);
      const refundByRoute = stateAfter([...refunding, chosen('refund', 'merchant')]);
      expect(paymentDecider.decide({ type: 'CompleteRefund', refundId: REFUND, at: AT }, refundByRoute).map((event) => event.type)).to.deep.equal(['PaymentRefunded']);
      const refundToSuspense = stateAfter([...refunding, chosen('refund', 'suspense', 'account-frozen: frozen')]);
      expect(
        paymentDecider.decide({ type: 'BookRefundFromSuspense', refundId: REFUND, refusal: 'account-frozen: frozen', at: AT }, refundToSuspense).map((event) => event.type),
      ).to.deep.equal(['PaymentCallbackRecorded', 'PaymentRefunded']);
    });

    it('refuses a route for a payment that does not exist', () => {
      spec
        .given([])
        .when(choose('merchant'))
        .thenThrows(PaymentNotFoundError, { type: 'payment-not-found', status: 404, extensions: { paymentId: 'unknown' } });
    });

    it('folds a route recorded for no move under way as nothing, and one without a refusal as refused', () => {
      // Another writer's capture or refund ended before its route was read back: nothing to hold it.
      expect(stateAfter([...historyOf.PAID, chosen('capture', 'merchant')])).to.deep.equal(stateAfter(historyOf.PAID));
      expect(stateAfter([...historyOf.PAID, chosen('refund', 'merchant')])).to.deep.equal(stateAfter(historyOf.PAID));
      expect(stateAfter([...capturing, chosen('capture', 'suspense')]).capturing?.route).to.deep.equal({ to: 'suspense', refusal: 'refused' });
    });
  });

  describe('refunds reserved, by age', () => {
    it('keep when each was requested, and are listed oldest first while the provider has not answered', () => {
      const requestedOn = (requestedAt: string, event: Event) => ({ ...event, data: { ...event.data, requestedAt } }) as Event;
      const reserve = (refundId: string, amount: bigint) => refundRequested(refundId, amount, 'clearing', { awaitsProvider: true });
      const state = stateAfter([
        ...historyOf.PAID,
        requestedOn('2026-01-05T00:00:00.000Z', reserve('7500000000000000001', 1_000n)),
        requestedOn('2026-01-04T00:00:00.000Z', reserve('7500000000000000002', 2_000n)),
        requestedOn('2026-01-03T00:00:00.000Z', refundRequested('7500000000000000003', 3_000n)),
      ]);
      expect(state.refundsInFlight['7500000000000000003']).to.include({ requestedAt: '2026-01-03T00:00:00.000Z' });
      expect(refundsAwaitingProvider(state)).to.deep.equal([
        { refundId: '7500000000000000002', amount: 2_000n, since: '2026-01-04T00:00:00.000Z' },
        { refundId: '7500000000000000001', amount: 1_000n, since: '2026-01-05T00:00:00.000Z' },
      ]);
    });
  });

  describe('deferred callbacks redelivered', () => {
    const early: PaymentCallback = { eventId: 'e1', callbackType: 'payment.captured', providerCreatedAt: AT };
    const recorded = (outcome: 'deferred' | 'applied' | 'duplicate', detail: string): Event => ({
      type: 'PaymentCallbackRecorded',
      data: {
        paymentId: PAYMENT,
        provider: 'sandbox',
        eventId: 'e1',
        callbackType: 'payment.captured',
        providerCreatedAt: AT,
        outcome,
        flaggedForReconciliation: false,
        detail,
        receivedAt: AT,
      },
    });
    const deferred = recorded('deferred', 'captured before the submission was recorded');
    const receive = (redelivery: boolean): PaymentCommand => ({ type: 'ReceiveCallback', callback: early, redelivery, at: AT });

    it('are judged again: applied once the payment reached the state they need, deferred again before', () => {
      const state = spec
        .given([created, deferred, submitted])
        .when(receive(true))
        .then([recorded('applied', 'captured')]) as ExistingPayment;
      expect(state.deferred).to.deep.equal([]);
      expect(state.applied).to.deep.equal([early]);
      spec.given([created, deferred]).when(receive(true)).then([deferred]);
    });

    it('are applied only as recorded: redelivered again once applied, or received again from the provider, they are duplicates', () => {
      const duplicate = recorded('duplicate', 'event e1 was already received (applied)');
      spec.given([created, deferred, submitted, recorded('applied', 'captured')]).when(receive(true)).then([duplicate]);
      spec
        .given([created, deferred, submitted])
        .when(receive(false))
        .then([recorded('duplicate', 'event e1 was already received (deferred)')]);
    });
  });
});

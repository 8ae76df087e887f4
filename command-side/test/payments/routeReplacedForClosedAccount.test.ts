/**
 * The payment decider replaces a merchant route by suspense only once the merchant's account is
 * closed (it never takes a posting again); every other contradiction of a recorded route stays refused.
 */
import { expect } from 'chai';
import type { EventPayload } from '../../src/commandHandling/decider.js';
import type { AccountStatus } from '../../src/accounts/accountState.js';
import { paymentDecider, type PaymentCommand } from '../../src/payments/paymentDecider.js';
import { IllegalPaymentTransitionError } from '../../src/payments/paymentErrors.js';
import type { ExistingPayment, PaymentEvent } from '../../src/payments/paymentState.js';
import { deciderSpec } from '../deciderSpecification.js';

type Event = EventPayload<PaymentEvent>;

const PAYMENT = '7400000000000000000';
const MERCHANT = '7300000000000000001';
const CAPTURE_JOURNAL = '7400000000000000001';
const REFUND = '7500000000000000001';
const AT = '2026-01-02T03:04:05.000Z';
const REPLACED_AT = '2026-01-04T00:00:00.000Z';
const CLOSED = 'account-closed: account 7300000000000000001 is closed: cannot credit';
const spec = deciderSpec(paymentDecider);

const pending: Event[] = [
  {
    type: 'PaymentCreated',
    data: {
      paymentId: PAYMENT,
      merchantAccountId: MERCHANT,
      amount: 10_000n,
      currency: 'EUR',
      provider: 'sandbox',
      captureJournalId: CAPTURE_JOURNAL,
      settlementJournalId: '7400000000000000002',
      feeJournalId: '7400000000000000003',
      createdAt: AT,
    },
  },
  { type: 'PaymentSubmitted', data: { paymentId: PAYMENT, provider: 'sandbox', providerRef: 'ref-1', submittedAt: AT } },
];
const capturing: Event[] = [
  ...pending,
  { type: 'PaymentCaptureStarted', data: { paymentId: PAYMENT, amount: 10_000n, journalId: CAPTURE_JOURNAL, startedAt: AT } },
];
const captured: Event = { type: 'PaymentCaptured', data: { paymentId: PAYMENT, amount: 10_000n, journalId: CAPTURE_JOURNAL, capturedAt: AT } };
const refunding: Event[] = [
  ...pending,
  captured,
  { type: 'PaymentRefundRequested', data: { paymentId: PAYMENT, refundId: REFUND, amount: 4_000n, from: 'clearing', requestedAt: AT } },
];

const toMerchant = (move: 'capture' | 'refund', accountId: string | undefined = MERCHANT): Event => ({
  type: 'PaymentRouteChosen',
  data: {
    paymentId: PAYMENT,
    move,
    journalId: move === 'capture' ? CAPTURE_JOURNAL : REFUND,
    route: 'merchant',
    ...(accountId === undefined ? {} : { accountId }),
    chosenAt: AT,
  },
});
const toSuspense = (move: 'capture' | 'refund', refusal: string, replaces?: 'merchant'): Event => ({
  type: 'PaymentRouteChosen',
  data: {
    paymentId: PAYMENT,
    move,
    journalId: move === 'capture' ? CAPTURE_JOURNAL : REFUND,
    route: 'suspense',
    refusal,
    ...(replaces === undefined ? {} : { replaces }),
    chosenAt: REPLACED_AT,
  },
});

const reroute = (accountStatus: AccountStatus, refundId?: string): PaymentCommand => ({
  type: 'RerouteFromClosedAccount',
  ...(refundId === undefined ? {} : { refundId }),
  accountStatus,
  refusal: CLOSED,
  at: REPLACED_AT,
});

describe('a merchant route replaced once the merchant account is closed', () => {
  it("replaces the capture's merchant route by suspense, naming the refusal and the route replaced", () => {
    for (const routed of [toMerchant('capture'), toMerchant('capture', undefined)]) {
      const state = spec
        .given([...capturing, routed])
        .when(reroute('closed'))
        .then([toSuspense('capture', CLOSED, 'merchant')]) as ExistingPayment;
      expect(state.capturing?.route).to.deep.equal({ to: 'suspense', refusal: CLOSED });
      // The capture is booked to suspense next; crediting the merchant is refused from here on.
      spec.given([...capturing, routed, toSuspense('capture', CLOSED, 'merchant')])
        .when({ type: 'CapturePayment', at: REPLACED_AT })
        .thenThrows(IllegalPaymentTransitionError, { type: 'illegal-payment-transition', status: 409, message: /routed to suspense/ });
    }
  });

  it("replaces a refund's merchant route by suspense, so it is paid from suspense and never completed from the merchant", () => {
    const given = [...refunding, toMerchant('refund')];
    const state = spec.given(given).when(reroute('closed', REFUND)).then([toSuspense('refund', CLOSED, 'merchant')]) as ExistingPayment;
    expect(state.refundsInFlight[REFUND]?.route).to.deep.equal({ to: 'suspense', refusal: CLOSED });
    spec
      .given([...given, toSuspense('refund', CLOSED, 'merchant')])
      .when({ type: 'CompleteRefund', refundId: REFUND, at: REPLACED_AT })
      .thenThrows(IllegalPaymentTransitionError, { type: 'illegal-payment-transition', status: 409, message: /routed to suspense/ });
  });

  it('refuses the replacement while the merchant account may still take the journal (active or frozen)', () => {
    for (const status of ['active', 'frozen'] as const) {
      spec
        .given([...capturing, toMerchant('capture')])
        .when(reroute(status))
        .thenThrows(IllegalPaymentTransitionError, { type: 'illegal-payment-transition', status: 409, message: new RegExp(`account is ${status}`) });
      spec.given([...refunding, toMerchant('refund')]).when(reroute(status, REFUND)).thenThrows(IllegalPaymentTransitionError);
    }
  });

  it('keeps refusing every other contradiction of a recorded route', () => {
    const routedToMerchant = [...capturing, toMerchant('capture')];
    spec.given(routedToMerchant).when({ type: 'ChooseRoute', to: 'suspense', refusal: CLOSED, at: REPLACED_AT }).thenNothing();
    spec
      .given(routedToMerchant)
      .when({ type: 'BookCaptureToSuspense', refusal: CLOSED, at: REPLACED_AT })
      .thenThrows(IllegalPaymentTransitionError, { type: 'illegal-payment-transition', status: 409, message: /routed to the merchant/ });
    spec
      .given([...refunding, toMerchant('refund')])
      .when({ type: 'BookRefundFromSuspense', refundId: REFUND, refusal: CLOSED, at: REPLACED_AT })
      .thenThrows(IllegalPaymentTransitionError, { type: 'illegal-payment-transition', status: 409, message: /routed to the merchant/ });
    // Suspense chosen first is never turned back to the merchant.
    const routedToSuspense = [...capturing, toSuspense('capture', 'account-frozen: frozen')];
    spec.given(routedToSuspense).when({ type: 'ChooseRoute', to: 'merchant', at: REPLACED_AT }).thenNothing();
    spec.given(routedToSuspense).when(reroute('closed')).thenNothing();
  });

  it('replaces nothing where no merchant route waits: none chosen yet, already replaced, or the move recorded', () => {
    spec.given(capturing).when(reroute('closed')).thenThrows(IllegalPaymentTransitionError, {
      type: 'illegal-payment-transition',
      status: 409,
      message: /no route was chosen/,
    });
    spec.given([...capturing, toMerchant('capture'), toSuspense('capture', CLOSED, 'merchant')]).when(reroute('closed')).thenNothing();
    spec.given([...capturing, toMerchant('capture'), captured]).when(reroute('closed')).thenNothing();
    spec
      .given([...refunding, toMerchant('refund'), { type: 'PaymentRefunded', data: { paymentId: PAYMENT, refundId: REFUND, amount: 4_000n, refundedTotal: 4_000n, fullyRefunded: false, refundedAt: AT } }])
      .when(reroute('closed', REFUND))
      .thenNothing();
  });
});

import type {
  CallbackOutcome,
  CurrencyCode,
  PaymentCallbackType,
  PaymentCatalogEventOfType,
  PaymentProvider,
  PaymentStateName,
} from '@folio/shared';

/** A provider callback as the payment sees it, once its signature and shape were checked. */
export interface PaymentCallback {
  eventId: string;
  callbackType: PaymentCallbackType;
  amount?: bigint;
  currency?: CurrencyCode;
  fee?: bigint;
  reason?: string;
  providerRefundRef?: string;
  /** The provider's reference of the payment the callback names (absent in callbacks recorded before it was kept). */
  providerRef?: string;
  providerCreatedAt: string;
}

/**
 * Where a capture's or refund's money goes, fixed on the payment's stream before its journal is
 * posted: the merchant's account, or suspense because that account refused it (`refusal`).
 */
export type MoneyRoute = { to: 'merchant' } | { to: 'suspense'; refusal: string };

export interface RefundInFlight {
  amount: bigint;
  from: 'clearing' | 'bank';
  /** The part paid back from the capture's suspense booking (0 when none); the rest is the merchant's. */
  fromCaptureInSuspense: bigint;
  /** The provider's reference of the refund, when Folio asked the provider for it. */
  providerRefundRef?: string;
  /** The callback that reported the refund, when the provider started it. */
  callbackEventId?: string;
  /**
   * Reserved for a request to the provider whose answer is not recorded yet: it holds its amount,
   * but no money moves for it until the provider is known to have taken it.
   */
  awaitingProvider?: true;
  /** When it was requested (its reservation's business time). */
  requestedAt: string;
  /** Where the merchant's part goes, once chosen (`PaymentRouteChosen`). */
  route?: MoneyRoute;
}

export interface ExistingPayment {
  exists: true;
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
  createdAt: string;
  state: PaymentStateName;
  providerRef?: string;
  /** What the provider captured (0 before PAID). */
  captured: bigint;
  /** Σ of completed refunds. */
  refunded: bigint;
  /** What of the capture was booked to suspense, the merchant's account having refused it (0 when none). */
  capturedToSuspense: bigint;
  /** What completed refunds paid back from that booking. */
  refundedFromSuspense: bigint;
  refundsInFlight: Readonly<Record<string, RefundInFlight>>;
  /** Provider event ids of the refunds callbacks started, so a redelivered one is not refunded twice. */
  refundCallbacks: readonly string[];
  /**
   * The provider's references of the refunds the books hold, with their amounts: their callbacks
   * change nothing, and one for another amount is flagged.
   */
  refundRefs: ReadonlyMap<string, bigint>;
  /**
   * References of refunds the books disagree on (booked from suspense, or reported for another
   * amount): their callbacks stay flagged.
   */
  flaggedRefundRefs: readonly string[];
  /** Refunds that completed or failed: asking for one of them again changes nothing. */
  refundsEnded: readonly string[];
  fee?: bigint;
  net?: bigint;
  /** A capture decided and not recorded yet: its journal is posted by whichever writer gets to it, and the payment no longer fails. */
  capturing?: { callbackEventId?: string; route?: MoneyRoute };
  /** A settlement decided and not recorded yet: its journals are posted with this fee, by whichever writer gets to them. */
  settling?: { fee: bigint; callbackEventId?: string };
  /**
   * The provider took the submission under this reference, which belongs to another payment or
   * payout: the provider holds a charge Folio cannot book, so the payment is flagged and not submitted again.
   */
  referenceTaken?: string;
  failureReason?: string;
  /** It failed because the provider declined its submission: a submission asked again is declined again. */
  submissionDeclined: boolean;
  /** The latest outcome of every provider callback, by the provider's event id. */
  callbacks: Readonly<Record<string, CallbackOutcome>>;
  /** Callbacks that came before the state they need, waiting to be applied. */
  deferred: readonly PaymentCallback[];
  /** Callbacks recorded as applied: one whose change an interruption left undone is applied again (`awaitsEffect`). */
  applied: readonly PaymentCallback[];
  /** A callback contradicted the books: the payment needs reconciliation. */
  flaggedForReconciliation: boolean;
}

export type PaymentState = { exists: false } | ExistingPayment;

export type PaymentEvent =
  | PaymentCatalogEventOfType<'PaymentCreated'>
  | PaymentCatalogEventOfType<'PaymentSubmitted'>
  | PaymentCatalogEventOfType<'PaymentCaptured'>
  | PaymentCatalogEventOfType<'PaymentSettled'>
  | PaymentCatalogEventOfType<'PaymentFailed'>
  | PaymentCatalogEventOfType<'PaymentRefundRequested'>
  | PaymentCatalogEventOfType<'PaymentRefunded'>
  | PaymentCatalogEventOfType<'PaymentRefundFailed'>
  | PaymentCatalogEventOfType<'PaymentCallbackRecorded'>
  | PaymentCatalogEventOfType<'PaymentReferenceTaken'>
  | PaymentCatalogEventOfType<'PaymentCaptureStarted'>
  | PaymentCatalogEventOfType<'PaymentSettlementStarted'>
  | PaymentCatalogEventOfType<'PaymentRefundAccepted'>
  | PaymentCatalogEventOfType<'PaymentRouteChosen'>;

export const paymentEventTypes: PaymentEvent['type'][] = [
  'PaymentCreated',
  'PaymentSubmitted',
  'PaymentCaptured',
  'PaymentSettled',
  'PaymentFailed',
  'PaymentRefundRequested',
  'PaymentRefunded',
  'PaymentRefundFailed',
  'PaymentCallbackRecorded',
  'PaymentReferenceTaken',
  'PaymentCaptureStarted',
  'PaymentSettlementStarted',
  'PaymentRefundAccepted',
  'PaymentRouteChosen',
];

/** What may still be refunded: captured, less refunds done and under way. */
export const refundable = (payment: ExistingPayment): bigint =>
  payment.captured - payment.refunded - Object.values(payment.refundsInFlight).reduce((sum, refund) => sum + refund.amount, 0n);

/** What the capture's suspense booking still holds, less refunds under way that are paid from it. */
const heldInSuspense = (payment: ExistingPayment): bigint =>
  payment.capturedToSuspense -
  payment.refundedFromSuspense -
  Object.values(payment.refundsInFlight).reduce((sum, refund) => sum + refund.fromCaptureInSuspense, 0n);

/**
 * The part of a refund of `amount` paid back from the capture's suspense booking: as much as it
 * holds. The merchant never received that money, so it pays only the rest.
 */
export const suspensePartOf = (payment: ExistingPayment, amount: bigint): bigint => {
  const held = heldInSuspense(payment);
  return amount < held ? amount : held;
};

/** Refunds reserved for a request to the provider whose answer is not recorded yet, oldest first. */
export const refundsAwaitingProvider = (payment: ExistingPayment) =>
  Object.entries(payment.refundsInFlight)
    .filter(([, refund]) => refund.awaitingProvider !== undefined)
    .map(([refundId, refund]) => ({ refundId, amount: refund.amount, since: refund.requestedAt }))
    .sort((a, b) => a.since.localeCompare(b.since));

/** Where a refund's money goes back from: clearing before settlement, the bank after. */
export const refundSource = (payment: ExistingPayment): RefundInFlight['from'] =>
  payment.state === 'PAID' ? 'clearing' : 'bank';

/** The moves each state allows, as the API names them. */
export const allowedMoves: Record<PaymentStateName, readonly string[]> = {
  CREATED: ['submit', 'fail'],
  PENDING: ['capture', 'fail'],
  PAID: ['settle', 'refund'],
  SETTLED: ['refund'],
  FAILED: [],
  REFUNDED: [],
};

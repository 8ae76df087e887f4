import type {
  CallbackOutcome,
  CurrencyCode,
  PaymentCatalogEventOfType,
  PaymentProvider,
  PayoutCallbackType,
  PayoutStateName,
} from '@folio/shared';

export interface PayoutCallback {
  eventId: string;
  callbackType: PayoutCallbackType;
  amount?: bigint;
  currency?: CurrencyCode;
  reason?: string;
  providerCreatedAt: string;
}

export interface ExistingPayout {
  exists: true;
  payoutId: string;
  accountId: string;
  amount: bigint;
  currency: CurrencyCode;
  provider: PaymentProvider;
  destination: string;
  requestedAt: string;
  deadline: string;
  state: PayoutStateName;
  providerRef?: string;
  failureReason?: string;
  timedOut: boolean;
  /**
   * The provider's first answer, once applied. Recorded before its money moves, so a payout still
   * open with one has it to complete: the answer decides, not the deadline.
   */
  answer?: PayoutCallback;
  callbacks: Readonly<Record<string, CallbackOutcome>>;
  flaggedForReconciliation: boolean;
}

/** `abandoned`: why a payout never requested was abandoned (its hold released); it can only fail now. */
export type PayoutState = { exists: false; abandoned?: string } | ExistingPayout;

export type PayoutEvent =
  | PaymentCatalogEventOfType<'PayoutRequested'>
  | PaymentCatalogEventOfType<'PayoutSubmitted'>
  | PaymentCatalogEventOfType<'PayoutPaid'>
  | PaymentCatalogEventOfType<'PayoutFailed'>
  | PaymentCatalogEventOfType<'PayoutCallbackRecorded'>
  | PaymentCatalogEventOfType<'PayoutAbandoned'>;

export const payoutEventTypes: PayoutEvent['type'][] = [
  'PayoutRequested',
  'PayoutSubmitted',
  'PayoutPaid',
  'PayoutFailed',
  'PayoutCallbackRecorded',
  'PayoutAbandoned',
];

/** Waiting for the provider's answer: the amount is held on the account. */
export const isOpen = (payout: ExistingPayout): boolean => payout.state === 'PENDING' || payout.state === 'SUBMITTED';

/** The provider reported the payout paid: it may only end PAID. */
export const reportedPaid = (payout: ExistingPayout): boolean => payout.answer?.callbackType === 'payout.paid';

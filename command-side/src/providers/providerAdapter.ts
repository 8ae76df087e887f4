import type { CurrencyCode, PaymentProvider } from '@folio/shared';

export interface PaymentSubmission {
  paymentId: string;
  amount: bigint;
  currency: CurrencyCode;
  description?: string;
}

export interface RefundSubmission {
  paymentId: string;
  providerRef: string;
  refundId: string;
  amount: bigint;
  currency: CurrencyCode;
}

export interface PayoutSubmission {
  payoutId: string;
  amount: bigint;
  currency: CurrencyCode;
  destination: string;
}

/**
 * A payment as the provider holds it: the Folio payment it was created for (Folio's id, passed
 * with the submission, or by a merchant's checkout that created it), its amount and currency.
 */
export interface ProviderPayment {
  paymentId: string;
  amount: bigint;
  currency: CurrencyCode;
}

/**
 * The port every payment provider is reached through. Each call carries Folio's id, which the
 * adapter passes to the provider as its idempotency key: asking twice gives the same reference.
 * A provider's outright refusal is thrown as a `ProviderRefusedError`; any other error may come
 * after the provider took the request. What the provider does afterwards (captured, failed,
 * settled, paid out) comes back later as signed callbacks.
 */
export interface ProviderAdapter {
  readonly provider: PaymentProvider;
  submitPayment(submission: PaymentSubmission): Promise<{ providerRef: string }>;
  /** The payment the provider holds under `providerRef`; `undefined` when it holds none. */
  findPayment(providerRef: string): Promise<ProviderPayment | undefined>;
  refundPayment(submission: RefundSubmission): Promise<{ providerRefundRef: string }>;
  submitPayout(submission: PayoutSubmission): Promise<{ providerRef: string }>;
}

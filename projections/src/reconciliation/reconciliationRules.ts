import { z } from 'zod';

const durationMs = z.number().int().nonnegative().max(366 * 24 * 3_600_000);
const categories = z.array(z.string().min(1)).min(1);

/**
 * How statement rows are matched and judged. Versioned: every discrepancy names the rules version
 * that found it, and a change of rules is a new version (and a rebuild of the read model).
 */
export const reconciliationRulesSchema = z.strictObject({
  version: z.number().int().positive(),
  /** Reference kinds tried first, in order, against the provider reference of a payment. */
  referenceKinds: z.array(z.string().min(1)),
  /** A reference kind whose value is the payment id itself (carried back as metadata). */
  paymentIdReferenceKinds: z.array(z.string().min(1)),
  /** Categories of rows that take money in for one payment. */
  chargeCategories: categories,
  refundCategories: categories,
  /** Categories that take settled money back (chargebacks, disputes). */
  reversalCategories: categories,
  /** Categories that give back what a reversal took (a dispute won, a chargeback reversed). */
  reversalReversalCategories: z.array(z.string().min(1)),
  /**
   * Categories that take back the part of a charge row's gross the provider did not capture (a
   * Stripe partial capture reports the full authorisation as the charge): the charge counts net of them.
   */
  captureReversalCategories: z.array(z.string().min(1)),
  /** Categories of the row paying a batch of rows out (the payout itself). */
  payoutCategories: categories,
  /**
   * Reference kinds, in order, naming the payout a payout row is when it carries no payout id: a
   * Stripe balance report's payout row names it as `source_id` (its first reference is the balance transaction).
   */
  payoutReferenceKinds: z.array(z.string().min(1)),
  /**
   * Reference kinds of a payout row that name that payout, so a bank credit showing one is its credit. Never an
   * account's (an Adyen merchant or company account, a Stripe connected account): it names every payout of the account.
   */
  bankPayoutReferenceKinds: z.array(z.string().min(1)),
  /** Statement formats of bank accounts: their credits are matched to the providers' payouts. */
  bankFormats: z.array(z.string().min(1)).default(['camt053', 'mt940']),
  /** Statement sources that are banks whatever the format (a bank's CSV export, say). */
  bankProviders: z.array(z.string().min(1)).default([]),
  /** A rule match needs the same currency and an amount within this many minor units. */
  amountToleranceMinorUnits: z.number().int().nonnegative(),
  /** A rule match needs the row's date within this window of the capture. */
  dateWindowMs: durationMs,
  /** How long a captured payment may wait for its provider row before it is missing. */
  settlementGraceMs: durationMs,
  /** How long a payment may stay submitted but neither captured nor failed. */
  stalePendingMs: durationMs,
});
export type ReconciliationRules = z.output<typeof reconciliationRulesSchema>;

export const defaultReconciliationRules: ReconciliationRules = reconciliationRulesSchema.parse({
  version: 6,
  // A PayPal charge row carries its `Transaction ID`, the id its refunds and chargebacks name it by (`paypal_reference:TXN`).
  referenceKinds: ['payment_intent', 'charge', 'psp_reference', 'transaction_id', 'paypal_reference:TXN', 'merchant_reference', 'end_to_end_id'],
  paymentIdReferenceKinds: ['payment_metadata:folio_payment_id'],
  chargeCategories: ['charge', 'payment', 'Settled', 'T0006'],
  refundCategories: ['refund', 'Refunded', 'T1107'],
  reversalCategories: ['dispute', 'chargeback', 'Chargeback', 'SecondChargeback', 'T1201'],
  reversalReversalCategories: ['dispute_reversal', 'ChargebackReversed', 'T1202'],
  captureReversalCategories: ['partial_capture_reversal'],
  // PayPal's T04xx rows are withdrawals to the bank (T0400 general, T0401 auto-sweep, T0402 to Hyperwallet, T0403 by the user).
  payoutCategories: ['payout', 'MerchantPayout', 'T0400', 'T0401', 'T0402', 'T0403'],
  // A PayPal withdrawal is known by its `Transaction ID`.
  payoutReferenceKinds: ['source', 'transaction_id'],
  // Stripe's payout (`source`), its balance transaction and the `trace_id` its bank shows; PayPal's withdrawal and its `Bank Reference ID`.
  bankPayoutReferenceKinds: ['source', 'balance_transaction', 'trace_id', 'transaction_id', 'bank_reference'],
  amountToleranceMinorUnits: 0,
  dateWindowMs: 3 * 24 * 3_600_000,
  settlementGraceMs: 3 * 24 * 3_600_000,
  stalePendingMs: 24 * 3_600_000,
});

import { snowflakeIdSchema, type PaymentCatalogEvent } from '@folio/shared';
import { z } from 'zod';

/**
 * A payment that can still bring money to its merchant's account or take money from it: created or
 * submitted (the provider may capture it any moment), or with a refund under way that the merchant
 * pays (its reservation awaiting the provider's answer, or its journals not posted yet).
 */
export interface OpenPayment {
  paymentId: string;
  /** Its capture or failure (`CREATED`, `PENDING`), or the end of a refund (`PAID`, `SETTLED`). */
  awaiting: 'capture' | 'refund';
}

/** A payment as folded, and as checkpointed. */
export const foldedPaymentSchema = z.object({
  paymentId: snowflakeIdSchema,
  /**
   * Its merchant's account, from `PaymentCreated`. Absent for a refund of a payment that ended
   * before the checkpoint the fold started from, until read from the payment's stream.
   */
  accountId: snowflakeIdSchema.optional(),
  /** Neither captured nor failed yet. */
  capturable: z.boolean(),
  /** The refunds requested and not ended whose money the merchant pays (not wholly paid from suspense). */
  refundIds: z.array(snowflakeIdSchema),
});

type FoldedPayment = z.infer<typeof foldedPaymentSchema>;

/**
 * Folds payment events into the payments open on merchants' accounts: one opens with
 * `PaymentCreated` and stops awaiting its capture with `PaymentCaptured` or `PaymentFailed`; a
 * refund the merchant pays is under way from `PaymentRefundRequested` to `PaymentRefunded` or
 * `PaymentRefundFailed`. A payment no longer awaiting either ends, so the fold holds only open ones.
 * `apply` tells the payment whose merchant account is to be read, when a refund opens one it does
 * not hold.
 */
export const createOpenPayments = (seed: readonly FoldedPayment[] = []) => {
  const open = new Map(seed.map((payment) => [payment.paymentId, { ...payment, refundIds: [...payment.refundIds] }]));
  const endIfDone = (payment: FoldedPayment): void => {
    if (!payment.capturable && payment.refundIds.length === 0) open.delete(payment.paymentId);
  };
  return {
    apply(event: PaymentCatalogEvent): string | undefined {
      switch (event.type) {
        case 'PaymentCreated': {
          const { paymentId, merchantAccountId } = event.data;
          open.set(paymentId, { paymentId, accountId: merchantAccountId, capturable: true, refundIds: [] });
          return undefined;
        }
        case 'PaymentCaptured':
        case 'PaymentFailed': {
          const payment = open.get(event.data.paymentId);
          if (payment === undefined) return undefined;
          payment.capturable = false;
          endIfDone(payment);
          return undefined;
        }
        case 'PaymentRefundRequested': {
          const { paymentId, refundId, amount, fromCaptureInSuspense } = event.data;
          if (amount <= (fromCaptureInSuspense ?? 0n)) return undefined;
          const payment = open.get(paymentId) ?? { paymentId, capturable: false, refundIds: [] };
          if (!payment.refundIds.includes(refundId)) payment.refundIds.push(refundId);
          open.set(paymentId, payment);
          return payment.accountId === undefined ? paymentId : undefined;
        }
        case 'PaymentRefunded':
        case 'PaymentRefundFailed': {
          const payment = open.get(event.data.paymentId);
          if (payment === undefined) return undefined;
          payment.refundIds = payment.refundIds.filter((refundId) => refundId !== event.data.refundId);
          endIfDone(payment);
          return undefined;
        }
        default:
          return undefined;
      }
    },
    /** The payment's merchant account, read from its stream. */
    named(paymentId: string, accountId: string): void {
      const payment = open.get(paymentId);
      if (payment !== undefined && payment.accountId === undefined) payment.accountId = accountId;
    },
    /** The payments open on a merchant account not read yet. */
    unnamed: (): string[] => [...open.values()].filter((payment) => payment.accountId === undefined).map((payment) => payment.paymentId),
    /** The payments open on `accountId`. */
    on: (accountId: string): OpenPayment[] =>
      [...open.values()]
        .filter((payment) => payment.accountId === accountId)
        .map(({ paymentId, capturable }) => ({ paymentId, awaiting: capturable ? 'capture' : 'refund' })),
    list: (): FoldedPayment[] => [...open.values()].map((payment) => ({ ...payment, refundIds: [...payment.refundIds] })),
  };
};

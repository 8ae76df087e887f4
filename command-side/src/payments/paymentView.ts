import { formatMinorUnits, type GlobalPosition } from '@folio/shared';
import { allowedMoves, refundable, refundsAwaitingProvider, type ExistingPayment } from './paymentState.js';

/** A payment as the write API answers it: Folio's id is the key, the provider's reference an attribute. */
export const paymentView = (payment: ExistingPayment, position: GlobalPosition | undefined) => ({
  id: payment.paymentId,
  state: payment.state,
  allowedTransitions: [...allowedMoves[payment.state]],
  merchantAccountId: payment.merchantAccountId,
  amount: formatMinorUnits(payment.amount),
  currency: payment.currency,
  provider: payment.provider,
  providerRef: payment.providerRef ?? null,
  description: payment.description ?? null,
  customerRef: payment.customerRef ?? null,
  captured: formatMinorUnits(payment.captured),
  refunded: formatMinorUnits(payment.refunded),
  refundable: formatMinorUnits(refundable(payment)),
  refundsInFlight: Object.entries(payment.refundsInFlight).map(([refundId, refund]) => ({
    refundId,
    amount: formatMinorUnits(refund.amount),
  })),
  // Asked of the provider, its answer not recorded yet: each holds its amount and holds off a
  // settlement until the answer is recorded (retried with its key, or by refund recovery).
  refundsAwaitingProvider: refundsAwaitingProvider(payment).map(({ refundId, amount, since }) => ({
    refundId,
    amount: formatMinorUnits(amount),
    since,
  })),
  fee: payment.fee === undefined ? null : formatMinorUnits(payment.fee),
  net: payment.net === undefined ? null : formatMinorUnits(payment.net),
  failureReason: payment.failureReason ?? null,
  flaggedForReconciliation: payment.flaggedForReconciliation,
  createdAt: payment.createdAt,
  position: position === undefined ? null : position.toString(),
});

export type PaymentView = ReturnType<typeof paymentView>;

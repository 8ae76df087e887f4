import { formatMinorUnits, parseMinorUnits, sortableBigint, type PaymentCatalogEvent, type RecordedEvent } from '@folio/shared';

/** A refund of a payment, from its request to how it ended. */
export type PaymentRefundEntry = {
  refundId: string;
  amount: string;
  /** Where the money goes back from: the clearing account before settlement, the bank after. */
  from: 'clearing' | 'bank';
  state: 'requested' | 'refunded' | 'failed';
  /**
   * Requested of the provider by Folio, its answer not recorded yet: it holds its amount and holds
   * off the payment's settlement until the answer is recorded. Absent in documents of version 1.
   */
  awaitingProvider?: boolean;
  /** When it reached its current state. */
  at: string;
  requestedAt: string;
  failureReason: { type: string; detail: string } | null;
};

/**
 * A payment as support and merchants read it: its state and money, the provider's reference,
 * its refunds and journals, when it reached each state, and a summary of provider callbacks.
 * Amounts are minor-unit strings.
 */
export type PaymentDocument = {
  _id: string;
  id: string;
  /** Zero-padded id: payments are listed newest first by it. */
  sortableId: string;
  state: string;
  merchantAccountId: string;
  amount: string;
  currency: string;
  provider: string;
  providerRef: string | null;
  description: string | null;
  customerRef: string | null;
  captured: string;
  refunded: string;
  refundable: string;
  fee: string | null;
  net: string | null;
  failureReason: string | null;
  refunds: PaymentRefundEntry[];
  callbacks: { received: number; flaggedForReconciliation: boolean };
  /** When the payment entered each state it went through. */
  stateTimes: Record<string, string>;
  journals: { capture: string; settlement: string; fee: string };
  createdAt: string;
  lastPosition: string;
  sortableLastPosition: string;
};

const inFlight = (refunds: readonly PaymentRefundEntry[]): bigint =>
  refunds.filter(({ state }) => state === 'requested').reduce((sum, { amount }) => sum + parseMinorUnits(amount), 0n);

/** What may still be refunded: captured, less refunds done and under way (as the write side counts it). */
const withRefundable = (payment: PaymentDocument): PaymentDocument => ({
  ...payment,
  refundable: formatMinorUnits(parseMinorUnits(payment.captured) - parseMinorUnits(payment.refunded) - inFlight(payment.refunds)),
});

const endRefund = (
  refunds: readonly PaymentRefundEntry[],
  refundId: string,
  change: Pick<PaymentRefundEntry, 'state' | 'at' | 'failureReason'>,
): PaymentRefundEntry[] => refunds.map((refund) => (refund.refundId === refundId ? { ...refund, ...change } : refund));

/**
 * The payment after one of its events; `undefined` for a payment not created yet. Follows the
 * write side's fold (the payment decider's `evolve`), so both answer the same.
 */
export const evolvePayment = (
  payment: PaymentDocument | undefined,
  event: PaymentCatalogEvent,
  recorded: RecordedEvent,
): PaymentDocument | undefined => {
  const stamp = { lastPosition: recorded.position.toString(), sortableLastPosition: sortableBigint(recorded.position) };
  if (event.type === 'PaymentCreated') {
    const { data } = event;
    return {
      _id: data.paymentId,
      id: data.paymentId,
      sortableId: sortableBigint(BigInt(data.paymentId)),
      state: 'CREATED',
      merchantAccountId: data.merchantAccountId,
      amount: formatMinorUnits(data.amount),
      currency: data.currency,
      provider: data.provider,
      providerRef: null,
      description: data.description ?? null,
      customerRef: data.customerRef ?? null,
      captured: '0',
      refunded: '0',
      refundable: '0',
      fee: null,
      net: null,
      failureReason: null,
      refunds: [],
      callbacks: { received: 0, flaggedForReconciliation: false },
      stateTimes: { CREATED: data.createdAt },
      journals: { capture: data.captureJournalId, settlement: data.settlementJournalId, fee: data.feeJournalId },
      createdAt: data.createdAt,
      ...stamp,
    };
  }
  if (payment === undefined) return undefined;
  switch (event.type) {
    case 'PaymentSubmitted':
      return {
        ...payment,
        state: 'PENDING',
        providerRef: event.data.providerRef,
        stateTimes: { ...payment.stateTimes, PENDING: event.data.submittedAt },
        ...stamp,
      };
    case 'PaymentCaptured':
      return withRefundable({
        ...payment,
        state: 'PAID',
        captured: formatMinorUnits(event.data.amount),
        stateTimes: { ...payment.stateTimes, PAID: event.data.capturedAt },
        ...stamp,
      });
    case 'PaymentSettled':
      return {
        ...payment,
        state: 'SETTLED',
        fee: formatMinorUnits(event.data.fee),
        net: formatMinorUnits(event.data.net),
        stateTimes: { ...payment.stateTimes, SETTLED: event.data.settledAt },
        ...stamp,
      };
    case 'PaymentFailed':
      return {
        ...payment,
        state: 'FAILED',
        failureReason: event.data.reason,
        stateTimes: { ...payment.stateTimes, FAILED: event.data.failedAt },
        ...stamp,
      };
    case 'PaymentRefundRequested': {
      const { refundId, amount, from, requestedAt, awaitsProvider } = event.data;
      const refund: PaymentRefundEntry = {
        refundId,
        amount: formatMinorUnits(amount),
        from,
        state: 'requested',
        awaitingProvider: awaitsProvider === true,
        at: requestedAt,
        requestedAt,
        failureReason: null,
      };
      return withRefundable({ ...payment, refunds: [...payment.refunds, refund], ...stamp });
    }
    case 'PaymentRefundAccepted':
      return {
        ...payment,
        refunds: payment.refunds.map((refund) =>
          refund.refundId === event.data.refundId ? { ...refund, awaitingProvider: false } : refund,
        ),
        ...stamp,
      };
    case 'PaymentRefunded': {
      const { refundId, refundedTotal, fullyRefunded, refundedAt } = event.data;
      return withRefundable({
        ...payment,
        refunds: endRefund(payment.refunds, refundId, { state: 'refunded', at: refundedAt, failureReason: null }),
        refunded: formatMinorUnits(refundedTotal),
        ...(fullyRefunded ? { state: 'REFUNDED', stateTimes: { ...payment.stateTimes, REFUNDED: refundedAt } } : {}),
        ...stamp,
      });
    }
    case 'PaymentRefundFailed': {
      const { refundId, reason, failedAt } = event.data;
      return withRefundable({
        ...payment,
        refunds: endRefund(payment.refunds, refundId, { state: 'failed', at: failedAt, failureReason: reason }),
        ...stamp,
      });
    }
    case 'PaymentReferenceTaken':
      // The provider holds a charge under a reference another payment holds: for reconciliation.
      return { ...payment, callbacks: { ...payment.callbacks, flaggedForReconciliation: true }, ...stamp };
    case 'PaymentCallbackRecorded':
      return {
        ...payment,
        callbacks: {
          received: payment.callbacks.received + 1,
          flaggedForReconciliation: payment.callbacks.flaggedForReconciliation || event.data.flaggedForReconciliation,
        },
        ...stamp,
      };
    // Decisions whose journals follow (a capture or settlement started, where money goes): the
    // write side's view shows none of them until the move is recorded.
    default:
      return payment;
  }
};

import { formatMinorUnits, sortableBigint, type PaymentCatalogEvent, type RecordedEvent } from '@folio/shared';

/** A payout (money out through a provider) as support reads it; its journal's id is its own. */
export type PayoutDocument = {
  _id: string;
  id: string;
  sortableId: string;
  state: string;
  accountId: string;
  amount: string;
  currency: string;
  provider: string;
  providerRef: string | null;
  destination: string;
  requestedAt: string;
  deadline: string;
  failureReason: string | null;
  timedOut: boolean;
  callbacks: { received: number; flaggedForReconciliation: boolean };
  /** When the payout entered each state it went through. */
  stateTimes: Record<string, string>;
  lastPosition: string;
  sortableLastPosition: string;
};

/** The payout after one of its events, following the write side's fold. */
export const evolvePayout = (
  payout: PayoutDocument | undefined,
  event: PaymentCatalogEvent,
  recorded: RecordedEvent,
): PayoutDocument | undefined => {
  const stamp = { lastPosition: recorded.position.toString(), sortableLastPosition: sortableBigint(recorded.position) };
  if (event.type === 'PayoutRequested') {
    const { data } = event;
    return {
      _id: data.payoutId,
      id: data.payoutId,
      sortableId: sortableBigint(BigInt(data.payoutId)),
      state: 'PENDING',
      accountId: data.accountId,
      amount: formatMinorUnits(data.amount),
      currency: data.currency,
      provider: data.provider,
      providerRef: null,
      destination: data.destination,
      requestedAt: data.requestedAt,
      deadline: data.deadline,
      failureReason: null,
      timedOut: false,
      callbacks: { received: 0, flaggedForReconciliation: false },
      stateTimes: { PENDING: data.requestedAt },
      ...stamp,
    };
  }
  if (payout === undefined) return undefined;
  switch (event.type) {
    case 'PayoutSubmitted':
      return {
        ...payout,
        state: 'SUBMITTED',
        providerRef: event.data.providerRef,
        stateTimes: { ...payout.stateTimes, SUBMITTED: event.data.submittedAt },
        ...stamp,
      };
    case 'PayoutPaid':
      return { ...payout, state: 'PAID', stateTimes: { ...payout.stateTimes, PAID: event.data.paidAt }, ...stamp };
    case 'PayoutFailed':
      return {
        ...payout,
        state: 'FAILED',
        failureReason: event.data.reason,
        timedOut: event.data.timedOut,
        stateTimes: { ...payout.stateTimes, FAILED: event.data.failedAt },
        ...stamp,
      };
    case 'PayoutCallbackRecorded':
      return {
        ...payout,
        callbacks: {
          received: payout.callbacks.received + 1,
          flaggedForReconciliation: payout.callbacks.flaggedForReconciliation || event.data.flaggedForReconciliation,
        },
        ...stamp,
      };
    default:
      return payout;
  }
};

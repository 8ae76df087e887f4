import { formatMinorUnits, type GlobalPosition } from '@folio/shared';
import type { ExistingPayout } from './payoutState.js';

export const payoutView = (payout: ExistingPayout, position: GlobalPosition | undefined) => ({
  id: payout.payoutId,
  state: payout.state,
  accountId: payout.accountId,
  amount: formatMinorUnits(payout.amount),
  currency: payout.currency,
  provider: payout.provider,
  providerRef: payout.providerRef ?? null,
  destination: payout.destination,
  requestedAt: payout.requestedAt,
  deadline: payout.deadline,
  failureReason: payout.failureReason ?? null,
  timedOut: payout.timedOut,
  flaggedForReconciliation: payout.flaggedForReconciliation,
  position: position === undefined ? null : position.toString(),
});

export type PayoutView = ReturnType<typeof payoutView>;

import { FolioError, IllegalStateError, type PayoutStateName } from '@folio/shared';
import { reportedPaid, type ExistingPayout } from './payoutState.js';

export class PayoutNotFoundError extends FolioError {
  readonly type = 'payout-not-found';
  readonly status = 404;

  constructor(readonly payoutId: string) {
    super(`payout ${payoutId} does not exist`);
  }

  override problemExtensions() {
    return { payoutId: this.payoutId };
  }
}

/** The payout's journal ended failed (reversed): the account named in `type` refused its leg. */
export class PayoutJournalRefusedError extends FolioError {
  readonly status = 422;

  constructor(
    readonly type: string,
    detail: string,
  ) {
    super(detail);
  }
}

const allowed: Record<PayoutStateName, readonly string[]> = {
  PENDING: ['submit', 'pay', 'fail'],
  SUBMITTED: ['pay', 'fail'],
  PAID: [],
  FAILED: [],
};

export class IllegalPayoutTransitionError extends IllegalStateError {
  readonly payoutId: string;

  constructor(payout: ExistingPayout, move: string) {
    const paid = reportedPaid(payout);
    super(`payout ${payout.payoutId} is ${payout.state}${paid ? ', reported paid by the provider' : ''}: cannot ${move}`, {
      type: 'illegal-payout-transition',
      currentState: payout.state,
      // Once the provider reported it paid, a payout still open can only be paid.
      allowedTransitions: allowed[payout.state].filter((allowedMove) => !(paid && allowedMove === 'fail')),
    });
    this.payoutId = payout.payoutId;
  }
}

import { FolioError, IllegalStateError, type PayoutStateName } from '@folio/shared';

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

const allowed: Record<PayoutStateName, readonly string[]> = {
  PENDING: ['submit', 'pay', 'fail'],
  SUBMITTED: ['pay', 'fail'],
  PAID: [],
  FAILED: [],
};

export class IllegalPayoutTransitionError extends IllegalStateError {
  constructor(
    readonly payoutId: string,
    currentState: PayoutStateName,
    move: string,
  ) {
    super(`payout ${payoutId} is ${currentState}: cannot ${move}`, {
      type: 'illegal-payout-transition',
      currentState,
      allowedTransitions: allowed[currentState],
    });
  }
}

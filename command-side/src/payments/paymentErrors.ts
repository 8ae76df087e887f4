import { FolioError, formatMinorUnits, IllegalStateError, type PaymentStateName } from '@folio/shared';
import { allowedMoves } from './paymentState.js';

export class PaymentNotFoundError extends FolioError {
  readonly type = 'payment-not-found';
  readonly status = 404;

  constructor(readonly paymentId: string) {
    super(`payment ${paymentId} does not exist`);
  }

  override problemExtensions() {
    return { paymentId: this.paymentId };
  }
}

/** The payment's state does not allow the move; names the state and the moves it allows. */
export class IllegalPaymentTransitionError extends IllegalStateError {
  constructor(
    readonly paymentId: string,
    currentState: PaymentStateName,
    move: string,
    why?: string,
  ) {
    super(
      `payment ${paymentId} is ${currentState}: cannot ${move}${why === undefined ? '' : ` (${why})`}` +
        `; allowed: ${allowedMoves[currentState].join(', ') || 'none'}`,
      { type: 'illegal-payment-transition', currentState, allowedTransitions: allowedMoves[currentState] },
    );
  }

  override problemExtensions() {
    return { paymentId: this.paymentId, ...super.problemExtensions() };
  }
}

export class RefundExceedsCapturedError extends FolioError {
  readonly type = 'refund-exceeds-captured';
  readonly status = 422;

  constructor(
    readonly paymentId: string,
    readonly requested: bigint,
    readonly refundable: bigint,
  ) {
    super(
      `payment ${paymentId} can be refunded ${formatMinorUnits(refundable)} more (minor units), ` +
        `${formatMinorUnits(requested)} requested`,
    );
  }

  override problemExtensions() {
    return {
      paymentId: this.paymentId,
      requested: formatMinorUnits(this.requested),
      refundable: formatMinorUnits(this.refundable),
    };
  }
}

export class FeeExceedsSettlementError extends FolioError {
  readonly type = 'fee-exceeds-settlement';
  readonly status = 422;

  constructor(
    readonly paymentId: string,
    readonly fee: bigint,
    readonly gross: bigint,
  ) {
    super(`the fee ${formatMinorUnits(fee)} exceeds the ${formatMinorUnits(gross)} settled for payment ${paymentId}`);
  }

  override problemExtensions() {
    return { paymentId: this.paymentId, fee: formatMinorUnits(this.fee), gross: formatMinorUnits(this.gross) };
  }
}

export class PaymentAlreadyExistsError extends FolioError {
  readonly type = 'payment-already-exists';
  readonly status = 409;

  constructor(readonly paymentId: string) {
    super(`payment ${paymentId} already exists`);
  }
}

/** A provider reference already belongs to another payment or payout. */
export class ProviderReferenceTakenError extends FolioError {
  readonly type = 'provider-reference-taken';
  readonly status = 409;

  constructor(
    readonly provider: string,
    readonly providerRef: string,
  ) {
    super(`${provider} reference ${providerRef} already belongs to another payment or payout`);
  }

  override problemExtensions() {
    return { provider: this.provider, providerRef: this.providerRef };
  }
}

/** The provider holds no payment under the reference the caller gave for a payment. */
export class ProviderReferenceUnknownError extends FolioError {
  readonly type = 'provider-reference-unknown';
  readonly status = 422;

  constructor(
    readonly provider: string,
    readonly providerRef: string,
  ) {
    super(
      `${provider} holds no payment under the reference ${providerRef}: give the reference ${provider} answered ` +
        'for this payment, or submit without one and Folio asks the provider',
    );
  }

  override problemExtensions() {
    return { provider: this.provider, providerRef: this.providerRef };
  }
}

/**
 * The provider holds the reference the caller gave, but not as this payment: for another Folio
 * payment (whose amount and currency are not told), or with another amount or currency.
 */
export class ProviderReferenceMismatchError extends FolioError {
  readonly type = 'provider-reference-mismatch';
  readonly status = 422;

  constructor(
    readonly provider: string,
    readonly providerRef: string,
    readonly paymentId: string,
    /** What the provider holds that differs from the payment, in the detail's words. */
    differences: readonly string[],
  ) {
    super(
      `${provider} holds ${providerRef} for ${differences.join(' and ')}, not as payment ${paymentId}: ` +
        `give the reference ${provider} answered for this payment, or submit without one and Folio asks the provider`,
    );
  }

  override problemExtensions() {
    return { provider: this.provider, providerRef: this.providerRef, paymentId: this.paymentId };
  }
}

/** A journal of the payment ended failed: the account named in `type` refused its leg. */
export class PaymentJournalRefusedError extends FolioError {
  readonly status = 422;

  constructor(
    readonly type: string,
    detail: string,
  ) {
    super(detail);
  }
}

/**
 * The merchant's account was chosen for a capture's or refund's money (it took it when chosen) and
 * refuses the journal now (frozen, or spent, in between). The journal waits for the account:
 * another writer may be posting it, so booking the money to suspense instead could pay it twice.
 * A 5xx, so a retry with the same key answers once it is posted; every touch of the payment tries again.
 */
export class PaymentJournalWaitingError extends FolioError {
  readonly type = 'payment-journal-waiting';
  readonly status = 503;
  override readonly retryAfterSeconds = 1;

  constructor(
    readonly paymentId: string,
    readonly journalId: string,
    readonly refusal: string,
  ) {
    super(
      `payment ${paymentId}: journal ${journalId} goes to the merchant's account, which refuses it now (${refusal}); ` +
        'it is posted once the account takes it',
    );
  }

  override problemExtensions() {
    return { paymentId: this.paymentId, journalId: this.journalId };
  }
}

/** Payments are paid to merchant accounts only. */
export class NotAMerchantAccountError extends FolioError {
  readonly type = 'not-a-merchant-account';
  readonly status = 422;

  constructor(
    readonly accountId: string,
    readonly kind: string,
  ) {
    super(`account ${accountId} is a ${kind} account: payments are paid to merchant accounts`);
  }

  override problemExtensions() {
    return { accountId: this.accountId, kind: this.kind };
  }
}

import { FolioError, formatMinorUnits, MAX_MINOR_UNITS } from '@folio/shared';
import type { AccountStatus } from './accountState.js';

export class AccountNotFoundError extends FolioError {
  readonly type = 'account-not-found';
  readonly status = 404;

  constructor(readonly accountId: string) {
    super(`account ${accountId} does not exist`);
  }

  override problemExtensions() {
    return { accountId: this.accountId };
  }
}

export class AccountAlreadyExistsError extends FolioError {
  readonly type = 'account-already-exists';
  readonly status = 409;

  constructor(readonly accountId: string) {
    super(`account ${accountId} already exists with other attributes`);
  }

  override problemExtensions() {
    return { accountId: this.accountId };
  }
}

/** The account's status does not allow the operation; names the status and what it allows. */
export class AccountStateError extends FolioError {
  readonly status = 409;

  constructor(
    readonly type: 'account-frozen' | 'account-closed' | 'illegal-account-transition' | 'account-not-empty',
    readonly accountId: string,
    readonly currentState: AccountStatus,
    detail: string,
    readonly allowedTransitions: readonly string[],
  ) {
    super(detail);
  }

  override problemExtensions() {
    return { accountId: this.accountId, currentState: this.currentState, allowedTransitions: this.allowedTransitions };
  }
}

export class AccountCurrencyMismatchError extends FolioError {
  readonly type = 'currency-mismatch';
  readonly status = 422;

  constructor(
    readonly accountId: string,
    readonly accountCurrency: string,
    readonly requestedCurrency: string,
  ) {
    super(`account ${accountId} holds ${accountCurrency}, not ${requestedCurrency}`);
  }

  override problemExtensions() {
    return { accountId: this.accountId, accountCurrency: this.accountCurrency, requestedCurrency: this.requestedCurrency };
  }
}

export class InsufficientFundsError extends FolioError {
  readonly type = 'insufficient-funds';
  readonly status = 422;

  constructor(
    readonly accountId: string,
    readonly available: bigint,
    readonly requested: bigint,
    readonly currency: string,
  ) {
    super(
      `account ${accountId} has ${formatMinorUnits(available)} ${currency} available (minor units), ` +
        `${formatMinorUnits(requested)} requested`,
    );
  }

  override problemExtensions() {
    return {
      accountId: this.accountId,
      available: formatMinorUnits(this.available),
      requested: formatMinorUnits(this.requested),
      currency: this.currency,
    };
  }
}

/** A posting would take the account's balance beyond what the books can represent exactly. */
export class BalanceOutOfRangeError extends FolioError {
  readonly type = 'balance-out-of-range';
  readonly status = 422;

  constructor(readonly accountId: string) {
    super(`the posting would take account ${accountId} beyond ±${formatMinorUnits(MAX_MINOR_UNITS)} minor units`);
  }

  override problemExtensions() {
    return { accountId: this.accountId, bound: formatMinorUnits(MAX_MINOR_UNITS) };
  }
}

/** System accounts (bank, clearing, fees…) move only as part of Folio's own processes. */
export class SystemAccountNotAllowedError extends FolioError {
  readonly type = 'system-account-not-allowed';
  readonly status = 422;

  constructor(readonly accountId: string) {
    super(`account ${accountId} is a system account: it cannot be named in this request`);
  }

  override problemExtensions() {
    return { accountId: this.accountId };
  }
}

/** A held debit names a hold the account does not have open (released, posted, or never placed). */
export class HoldNotOpenError extends FolioError {
  readonly type = 'hold-not-open';
  readonly status = 409;

  constructor(
    readonly accountId: string,
    readonly holdId: string,
  ) {
    super(`account ${accountId} has no open hold ${holdId}`);
  }

  override problemExtensions() {
    return { accountId: this.accountId, holdId: this.holdId };
  }
}

/**
 * A close refused while money debited from the account, or on its way to it, is between two legs.
 * The refusal holds only until those movements end (moments, or once their retry or recovery
 * resumes them), so it says when to ask again: an answer with a retry hint is not remembered under
 * an Idempotency-Key, and the same key closes the account afterwards.
 */
export class AccountMoneyInTransitError extends FolioError {
  readonly type = 'account-money-in-transit';
  readonly status = 409;
  override readonly retryAfterSeconds = 1;

  constructor(
    readonly accountId: string,
    readonly movements: readonly string[],
  ) {
    super(
      `account ${accountId} cannot be closed while money is in transit from or to it (${movements.join(', ')}); ` +
        'try again once those movements have ended',
    );
  }

  override problemExtensions() {
    return { accountId: this.accountId, movements: this.movements };
  }
}

/**
 * A close refused while a payment's capture or refund journal is routed to the account and not
 * posted yet (it waits while the account refuses it: frozen, or spent). Closed, the account would
 * never take it, and the provider's money would stay in clearing. The refusal holds until those
 * journals post, which needs the account to take them (unfrozen, or funded): it carries no retry
 * hint.
 */
export class AccountPaymentJournalsWaitingError extends FolioError {
  readonly type = 'account-payment-journals-waiting';
  readonly status = 409;

  constructor(
    readonly accountId: string,
    readonly journals: readonly { paymentId: string; move: string; journalId: string }[],
  ) {
    super(
      `account ${accountId} cannot be closed while payment journals wait to post to it ` +
        `(${journals.map(({ paymentId, move, journalId }) => `payment ${paymentId} ${move} ${journalId}`).join(', ')}); ` +
        'let the account take them (unfreeze or fund it: the next touch of each payment posts them), then close it',
    );
  }

  override problemExtensions() {
    return { accountId: this.accountId, journals: this.journals.map(({ paymentId, move, journalId }) => ({ paymentId, move, journalId })) };
  }
}

/**
 * A close refused while payments to the account are open: created or submitted (the provider may
 * capture them any moment) or with a refund under way that the account pays. Closed, the account
 * would never take the capture (booked to suspense instead, for manual work) nor pay the refund.
 * Like the refusal for journals waiting, it holds until those payments move on, which is the
 * caller's (or the provider's) doing, not a moment's wait: it carries no retry hint.
 */
export class AccountPaymentsOpenError extends FolioError {
  readonly type = 'account-payments-open';
  readonly status = 409;

  constructor(
    readonly accountId: string,
    readonly payments: readonly { paymentId: string; awaiting: 'capture' | 'refund' }[],
  ) {
    const open = payments.length === 1 ? '1 payment to it is open' : `${payments.length} payments to it are open`;
    const awaited = { capture: 'its capture', refund: 'the end of a refund' };
    super(
      `account ${accountId} cannot be closed while ${open} ` +
        `(${payments.map(({ paymentId, awaiting }) => `payment ${paymentId} awaits ${awaited[awaiting]}`).join(', ')}); ` +
        'capture or fail each payment awaiting its capture, and let each refund end (its request retried with its Idempotency-Key ' +
        'until the provider answers), then close it',
    );
  }

  override problemExtensions() {
    return { accountId: this.accountId, payments: this.payments.map(({ paymentId, awaiting }) => ({ paymentId, awaiting })) };
  }
}

/** The movements in transit could not be known in time (the log is being read): the answer is not known yet. */
export class MovementsNotKnownYetError extends FolioError {
  readonly type = 'movements-not-known-yet';
  readonly status = 503;
  override readonly retryAfterSeconds = 1;

  constructor(readonly accountId: string) {
    super(`whether money is in transit from or to account ${accountId} is not known yet; try again`);
  }
}

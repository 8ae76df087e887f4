import { FolioError, formatMinorUnits, IllegalStateError, NotFoundError, UnprocessableError } from '@folio/shared';
import type { MovementFailure } from '../movements/movementProcess.js';

/** The reconciliation read model knows no discrepancy by this id: nothing explains acting on it. */
export class DiscrepancyNotFoundError extends NotFoundError {
  constructor(discrepancyId: string) {
    super('discrepancy', discrepancyId, { type: 'discrepancy-not-found' });
  }
}

/** The read model shows the discrepancy resolved or cleared: only an open one is worked on. */
export class DiscrepancyNotOpenError extends IllegalStateError {
  constructor(
    readonly discrepancyId: string,
    status: string,
    move: string,
  ) {
    super(`discrepancy ${discrepancyId} is ${status}, not open: cannot ${move}`, { type: 'discrepancy-not-open', currentState: status, allowedTransitions: [] });
  }
}

/** A correction would move money in another currency, or through another provider, than the discrepancy's. */
export class CorrectionMismatchError extends UnprocessableError {
  constructor(
    readonly discrepancyId: string,
    readonly field: 'currency' | 'provider',
    readonly discrepancyValue: string,
    readonly correctionValue: string,
  ) {
    super(`the correction's ${field} ${correctionValue} is not discrepancy ${discrepancyId}'s ${field} ${discrepancyValue}: a correction moves money in the discrepancy's own currency and through its provider`, {
      type: 'correction-mismatch',
    });
  }

  override problemExtensions(): Record<string, unknown> {
    return { field: `correction.${this.field}`, discrepancy: this.discrepancyValue, correction: this.correctionValue };
  }
}

/**
 * A correction would move more than the discrepancy leaves unexplained (nothing, for a class with
 * no money at issue): a mistyped amount would otherwise be booked between system accounts.
 */
export class CorrectionExceedsDiscrepancyError extends UnprocessableError {
  constructor(
    readonly discrepancyId: string,
    readonly code: string,
    readonly amountAtIssue: bigint,
    readonly currency: string | null,
    readonly correction: bigint,
  ) {
    const units = currency === null ? 'minor units' : `minor units of ${currency}`;
    super(
      amountAtIssue === 0n
        ? `discrepancy ${discrepancyId} (${code}) leaves no money unexplained: no correcting journal applies, resolve it with no_action`
        : `the correction of ${formatMinorUnits(correction)} exceeds the ${formatMinorUnits(amountAtIssue)} that discrepancy ${discrepancyId} (${code}) leaves unexplained (${units}): correct at most ${formatMinorUnits(amountAtIssue)}, or less to write off part of it`,
      { type: 'correction-exceeds-discrepancy' },
    );
  }

  override problemExtensions(): Record<string, unknown> {
    return { field: 'correction.amount', amountAtIssue: formatMinorUnits(this.amountAtIssue), currency: this.currency, correction: formatMinorUnits(this.correction) };
  }
}

export class DiscrepancyAlreadyResolvedError extends IllegalStateError {
  constructor(
    readonly discrepancyId: string,
    resolution: string,
    move: string,
  ) {
    super(`discrepancy ${discrepancyId} is resolved (${resolution}): cannot ${move}`, {
      type: 'discrepancy-already-resolved',
      currentState: 'RESOLVED',
      allowedTransitions: [],
    });
  }
}

/** Another request is resolving the discrepancy with its own correcting journal. */
export class DiscrepancyBeingResolvedError extends IllegalStateError {
  constructor(
    readonly discrepancyId: string,
    resolution: string,
    journalId: string,
    move: string,
  ) {
    super(`discrepancy ${discrepancyId} is being resolved (${resolution}, correcting journal ${journalId}): cannot ${move}`, {
      type: 'discrepancy-being-resolved',
      currentState: 'RESOLVING',
      allowedTransitions: ['RESOLVED'],
    });
  }
}

/** A resolution's correcting journal did not post (an account refused a leg): nothing was resolved. */
export class CorrectingJournalFailedError extends FolioError {
  readonly type = 'correcting-journal-failed';
  readonly status = 422;

  constructor(
    readonly discrepancyId: string,
    readonly journalId: string,
    readonly failure: MovementFailure,
  ) {
    super(`the correcting journal ${journalId} of discrepancy ${discrepancyId} failed (${failure.type}: ${failure.detail}): the discrepancy is not resolved`);
  }

  override problemExtensions(): Record<string, unknown> {
    return { journalId: this.journalId, failureReason: this.failure };
  }
}

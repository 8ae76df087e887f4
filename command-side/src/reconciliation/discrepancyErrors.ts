import { FolioError, IllegalStateError } from '@folio/shared';
import type { MovementFailure } from '../movements/movementProcess.js';

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

import { IllegalStateError } from '@folio/shared';

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

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

import type { CurrencyCode, DiscrepancyResolution, FolioError, PaymentProvider, ReconciliationEvent } from '@folio/shared';
import type { Decider, EventPayload } from '../commandHandling/decider.js';
import type { MovementFailure } from '../movements/movementProcess.js';
import { CorrectingJournalFailedError, DiscrepancyAlreadyResolvedError, DiscrepancyBeingResolvedError } from './discrepancyErrors.js';

export type MoneyResolution = Exclude<DiscrepancyResolution, 'no_action'>;

export interface Correction {
  amount: bigint;
  currency: CurrencyCode;
  provider: PaymentProvider;
}

/** The workflow of one discrepancy case, folded from its stream. */
export interface DiscrepancyCase {
  acknowledged: boolean;
  assignee?: string;
  /** A resolution that moves money, claimed before its journal: the only one the case can get, unless its journal fails. */
  resolving?: { resolution: MoneyResolution; journalId: string; correction: Correction; by: string; reason: string; startedAt: string };
  resolved?: { resolution: DiscrepancyResolution; journalId?: string; by: string };
  /** Correcting journals that did not post, by journal id: their claims were released. */
  failed: ReadonlyMap<string, MovementFailure>;
}

interface Why {
  discrepancyId: string;
  by: string;
  reason: string;
  at: string;
}

export type DiscrepancyCommand =
  | ({ type: 'acknowledge' } & Why)
  | ({ type: 'assign'; assignee: string } & Why)
  | ({ type: 'start-resolution'; resolution: MoneyResolution; journalId: string; correction: Correction } & Why)
  | ({ type: 'fail-resolution'; journalId: string; failure: MovementFailure } & Why)
  | ({ type: 'resolve'; resolution: DiscrepancyResolution; journalId?: string } & Why);

export type DiscrepancyEvent = EventPayload<ReconciliationEvent>;

export const discrepancyEventTypes: DiscrepancyEvent['type'][] = [
  'DiscrepancyAcknowledged',
  'DiscrepancyAssigned',
  'DiscrepancyResolutionStarted',
  'DiscrepancyResolutionFailed',
  'DiscrepancyResolved',
];

/**
 * Releases the claim of a journal that did not post; a claim it does not hold (released already,
 * another's) stays, and so does a resolution its journal recorded first: that outcome stands.
 */
const releaseClaim = (command: Extract<DiscrepancyCommand, { type: 'fail-resolution' }>, state: DiscrepancyCase): DiscrepancyEvent[] => {
  if (state.resolved !== undefined || state.resolving?.journalId !== command.journalId) return [];
  const { discrepancyId, journalId, failure, by, reason, at } = command;
  return [{ type: 'DiscrepancyResolutionFailed', data: { discrepancyId, journalId, failure, by, reason, failedAt: at } }];
};

/**
 * Why a request resolving the case (its correcting journal's id: `journalId`) is refused before any money
 * moves, if it is: its journal failed already (a retry whose answer was lost: the same answer), the
 * case is resolved (unless by this journal: a retry finishes it), or claimed by another journal.
 */
export const resolutionRefusal = (state: DiscrepancyCase, discrepancyId: string, journalId: string, attempt: { retry: boolean }): FolioError | undefined => {
  const failure = state.failed.get(journalId);
  if (failure !== undefined) return new CorrectingJournalFailedError(discrepancyId, journalId, failure);
  if (state.resolved !== undefined && (!attempt.retry || state.resolved.journalId !== journalId))
    return new DiscrepancyAlreadyResolvedError(discrepancyId, state.resolved.resolution, 'resolve');
  if (state.resolving !== undefined && state.resolving.journalId !== journalId)
    return new DiscrepancyBeingResolvedError(discrepancyId, state.resolving.resolution, state.resolving.journalId, 'resolve');
  return undefined;
};

/**
 * Acknowledge, assign, resolve: each a new event with who and why. A resolved case takes no
 * further step; acknowledging twice records nothing new. A resolution that moves money is
 * started (its journal claimed) before it is recorded, and once started only that one, by its
 * journal, can be recorded, unless its journal fails: that releases the claim.
 */
export const discrepancyDecider: Decider<DiscrepancyCase, DiscrepancyCommand, DiscrepancyEvent> = {
  initialState: () => ({ acknowledged: false, failed: new Map() }),
  evolve: (state, event) => {
    switch (event.type) {
      case 'DiscrepancyAcknowledged':
        return { ...state, acknowledged: true };
      case 'DiscrepancyAssigned':
        return { ...state, assignee: event.data.assignee };
      case 'DiscrepancyResolutionStarted': {
        const { resolution, journalId, correction, by, reason, startedAt } = event.data;
        return { ...state, resolving: { resolution, journalId, correction, by, reason, startedAt } };
      }
      case 'DiscrepancyResolutionFailed': {
        const { resolving: _released, ...rest } = state;
        return { ...rest, failed: new Map(state.failed).set(event.data.journalId, event.data.failure) };
      }
      case 'DiscrepancyResolved':
        return {
          ...state,
          resolved: { resolution: event.data.resolution, by: event.data.by, ...(event.data.journalId === undefined ? {} : { journalId: event.data.journalId }) },
        };
    }
  },
  decide: (command, state) => {
    if (command.type === 'fail-resolution') return releaseClaim(command, state);
    if (state.resolved !== undefined) throw new DiscrepancyAlreadyResolvedError(command.discrepancyId, state.resolved.resolution, command.type);
    const { discrepancyId, by, reason, at } = command;
    switch (command.type) {
      case 'acknowledge':
        return state.acknowledged ? [] : [{ type: 'DiscrepancyAcknowledged', data: { discrepancyId, by, reason, acknowledgedAt: at } }];
      case 'assign':
        return state.assignee === command.assignee
          ? []
          : [{ type: 'DiscrepancyAssigned', data: { discrepancyId, assignee: command.assignee, by, reason, assignedAt: at } }];
      case 'start-resolution':
        if (state.resolving !== undefined) {
          if (state.resolving.journalId === command.journalId) return [];
          throw new DiscrepancyBeingResolvedError(discrepancyId, state.resolving.resolution, state.resolving.journalId, 'start another resolution');
        }
        return [
          {
            type: 'DiscrepancyResolutionStarted',
            data: { discrepancyId, resolution: command.resolution, journalId: command.journalId, correction: command.correction, by, reason, startedAt: at },
          },
        ];
      case 'resolve':
        if (state.resolving !== undefined && state.resolving.journalId !== command.journalId)
          throw new DiscrepancyBeingResolvedError(discrepancyId, state.resolving.resolution, state.resolving.journalId, command.type);
        if (command.journalId !== undefined) {
          // A journal whose failure was recorded first keeps that outcome: its claim is released.
          const failure = state.failed.get(command.journalId);
          if (failure !== undefined) throw new CorrectingJournalFailedError(discrepancyId, command.journalId, failure);
        }
        return [
          {
            type: 'DiscrepancyResolved',
            data: {
              discrepancyId,
              resolution: command.resolution,
              ...(command.journalId === undefined ? {} : { journalId: command.journalId }),
              by,
              reason,
              resolvedAt: at,
            },
          },
        ];
    }
  },
};

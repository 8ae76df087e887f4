import type { CurrencyCode, DiscrepancyResolution, PaymentProvider, ReconciliationEvent } from '@folio/shared';
import type { Decider, EventPayload } from '../commandHandling/decider.js';
import { DiscrepancyAlreadyResolvedError, DiscrepancyBeingResolvedError } from './discrepancyErrors.js';

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
  /** A resolution that moves money, claimed before its journal: the only one the case can get. */
  resolving?: { resolution: MoneyResolution; journalId: string; correction: Correction; by: string; reason: string; startedAt: string };
  resolved?: { resolution: DiscrepancyResolution; journalId?: string; by: string };
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
  | ({ type: 'resolve'; resolution: DiscrepancyResolution; journalId?: string } & Why);

export type DiscrepancyEvent = EventPayload<ReconciliationEvent>;

export const discrepancyEventTypes: DiscrepancyEvent['type'][] = [
  'DiscrepancyAcknowledged',
  'DiscrepancyAssigned',
  'DiscrepancyResolutionStarted',
  'DiscrepancyResolved',
];

/**
 * Acknowledge, assign, resolve: each a new event with who and why. A resolved case takes no
 * further step; acknowledging twice records nothing new. A resolution that moves money is
 * started (its journal claimed) before it is recorded, and once started only that one, by its
 * journal, can be recorded.
 */
export const discrepancyDecider: Decider<DiscrepancyCase, DiscrepancyCommand, DiscrepancyEvent> = {
  initialState: () => ({ acknowledged: false }),
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
      case 'DiscrepancyResolved':
        return {
          ...state,
          resolved: { resolution: event.data.resolution, by: event.data.by, ...(event.data.journalId === undefined ? {} : { journalId: event.data.journalId }) },
        };
    }
  },
  decide: (command, state) => {
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

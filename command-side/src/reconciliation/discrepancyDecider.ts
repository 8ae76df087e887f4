import type { DiscrepancyResolution, ReconciliationEvent } from '@folio/shared';
import type { Decider, EventPayload } from '../commandHandling/decider.js';
import { DiscrepancyAlreadyResolvedError } from './discrepancyErrors.js';

/** The workflow of one discrepancy case, folded from its stream. */
export interface DiscrepancyCase {
  acknowledged: boolean;
  assignee?: string;
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
  | ({ type: 'resolve'; resolution: DiscrepancyResolution; journalId?: string } & Why);

export type DiscrepancyEvent = EventPayload<ReconciliationEvent>;

export const discrepancyEventTypes: DiscrepancyEvent['type'][] = ['DiscrepancyAcknowledged', 'DiscrepancyAssigned', 'DiscrepancyResolved'];

/**
 * Acknowledge, assign, resolve: each a new event with who and why. A resolved case takes no
 * further step; acknowledging twice records nothing new.
 */
export const discrepancyDecider: Decider<DiscrepancyCase, DiscrepancyCommand, DiscrepancyEvent> = {
  initialState: () => ({ acknowledged: false }),
  evolve: (state, event) => {
    switch (event.type) {
      case 'DiscrepancyAcknowledged':
        return { ...state, acknowledged: true };
      case 'DiscrepancyAssigned':
        return { ...state, assignee: event.data.assignee };
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
      case 'resolve':
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

import { formatMinorUnits, type Movement } from '@folio/shared';
import type { MovementOutcome } from '../movements/movementProcess.js';
import type { OpenJournal } from '../movements/openJournals.js';

/** A transfer as the write API answers it; amounts are minor-unit strings, positions decimal strings. */
const movementFields = (movement: Movement) => ({
  fromAccountId: movement.fromAccountId,
  toAccountId: movement.toAccountId,
  amount: formatMinorUnits(movement.amount),
  currency: movement.currency,
  ...(movement.reference === undefined ? {} : { reference: movement.reference }),
  ...(movement.description === undefined ? {} : { description: movement.description }),
  ...(movement.metadata === undefined ? {} : { metadata: movement.metadata }),
  requestedAt: movement.requestedAt,
});

export const transferView = (id: string, movement: Movement, outcome: MovementOutcome) => ({
  id,
  status: outcome.status,
  ...movementFields(movement),
  ...(outcome.status === 'completed' ? { completedAt: outcome.endedAt } : { failedAt: outcome.endedAt }),
  ...(outcome.failure === undefined ? {} : { failureReason: outcome.failure }),
  position: outcome.position.toString(),
});

/** A movement between its legs: its money is in transit. */
export const inTransitView = (journal: OpenJournal) => ({
  id: journal.id,
  status: 'in_transit' as const,
  ...movementFields(journal.movement),
  inTransit: formatMinorUnits(journal.inTransit),
  position: journal.firstLegPosition.toString(),
});

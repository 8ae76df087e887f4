import { formatMinorUnits, type Movement } from '@folio/shared';
import type { MovementOutcome } from '../movements/movementProcess.js';

/** A transfer as the write API answers it; amounts are minor-unit strings, positions decimal strings. */
export const transferView = (id: string, movement: Movement, outcome: MovementOutcome) => ({
  id,
  status: outcome.status,
  fromAccountId: movement.fromAccountId,
  toAccountId: movement.toAccountId,
  amount: formatMinorUnits(movement.amount),
  currency: movement.currency,
  ...(movement.reference === undefined ? {} : { reference: movement.reference }),
  ...(movement.description === undefined ? {} : { description: movement.description }),
  ...(movement.metadata === undefined ? {} : { metadata: movement.metadata }),
  requestedAt: movement.requestedAt,
  ...(outcome.status === 'completed' ? { completedAt: outcome.endedAt } : { failedAt: outcome.endedAt }),
  ...(outcome.failure === undefined ? {} : { failureReason: outcome.failure }),
  position: outcome.position.toString(),
});

import type { EventStore, SnowflakeGenerator } from '@folio/shared';
import type { Request, Response } from 'express';
import { correlationIdOf } from '@folio/shared';
import type { AccountCommandHandler } from '../accounts/accountCommandHandler.js';
import type { CommandContext } from '../commandHandling/decider.js';
import type { IdempotencyStore } from '../idempotency/index.js';
import type { MovementProcess } from '../movements/movementProcess.js';
import type { MovementRecovery } from '../movements/movementRecovery.js';
import type { MerchantJournalsWaiting } from '../payments/merchantJournalsWaiting.js';
import type { DiscrepancyLookup } from '../reconciliation/discrepancyLookup.js';

/** What the write API's routes work with. */
export interface WriteApiDependencies {
  eventStore: EventStore;
  accounts: AccountCommandHandler;
  movements: MovementProcess;
  recovery: MovementRecovery;
  /** Payment journals routed to merchants' accounts and not posted yet, and payments open on them: a close of such an account is refused. */
  paymentJournals: MerchantJournalsWaiting;
  idempotency: IdempotencyStore;
  ids: SnowflakeGenerator;
  clock: () => Date;
  /** Who is calling: idempotency keys are scoped by it and events record it as the actor. */
  callerOf: (request: Request) => string;
  /**
   * The discrepancies the reconciliation read model knows, which the exception workflow acts on.
   * Without it the write API knows none, and refuses the workflow on every id.
   */
  discrepancies?: DiscrepancyLookup;
}

export const commandContextOf = (
  deps: WriteApiDependencies,
  request: Request,
  response: Response,
  commandId: string,
): CommandContext => ({
  commandId,
  correlationId: correlationIdOf(response.locals),
  actor: deps.callerOf(request),
  now: deps.clock(),
});

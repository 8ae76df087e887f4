import {
  accountIdSchema,
  depositStream,
  isSystemAccountId,
  jsonBody,
  NotFoundError,
  amountSchema,
  correlationIdOf,
  currencySchema,
  formatMinorUnits,
  parseRequest,
  referenceSchema,
  systemAccountId,
  type Movement,
} from '@folio/shared';
import { Router } from 'express';
import { z } from 'zod';
import type { WriteApiDependencies } from '../http/writeApiDependencies.js';
import { idempotentHandler } from '../idempotency/index.js';
import { SystemAccountNotAllowedError } from '../accounts/accountErrors.js';
import { depositPlan } from '../movements/movement.js';
import type { MovementOutcome } from '../movements/movementProcess.js';
import type { OpenJournal } from '../movements/openJournals.js';

const depositSchema = z.strictObject({
  accountId: accountIdSchema,
  amount: amountSchema,
  currency: currencySchema,
  reference: referenceSchema,
});

const depositParamsSchema = z.strictObject({ id: accountIdSchema });

const movementFields = (movement: Movement) => ({
  accountId: movement.toAccountId,
  amount: formatMinorUnits(movement.amount),
  currency: movement.currency,
  reference: movement.reference ?? null,
  requestedAt: movement.requestedAt,
});

const depositView = (id: string, outcome: MovementOutcome) => ({
  id,
  status: outcome.status,
  ...movementFields(outcome.movement),
  ...(outcome.status === 'completed' ? { completedAt: outcome.endedAt } : { failedAt: outcome.endedAt }),
  ...(outcome.failure === undefined ? {} : { failureReason: outcome.failure }),
  position: outcome.position.toString(),
});

/** A deposit between its legs: the account is credited, the bank not debited yet. */
const inTransitView = (journal: OpenJournal) => ({
  id: journal.id,
  status: 'in_transit' as const,
  ...movementFields(journal.movement),
  inTransit: formatMinorUnits(journal.inTransit),
  position: journal.firstLegPosition.toString(),
});

/** `POST /v1/deposits`: money that arrived by bank transfer, paid from the bank system account. */
export const depositRoutes = (deps: WriteApiDependencies): Router => {
  const router = Router();
  router.post(
    '/v1/deposits',
    jsonBody(),
    idempotentHandler({
      store: deps.idempotency,
      required: true,
      callerOf: deps.callerOf,
      resourceIdFactory: deps.ids.nextId,
      parse: (request) => parseRequest(depositSchema, request.body, 'body'),
      handle: async (request, body, depositId, attempt) => {
        const headers = { Location: `/v1/deposits/${depositId}` };
        if (attempt.retry) {
          // An earlier run may have finished it: answer with what the log says it was.
          const ended = await deps.movements.read(depositStream(depositId));
          if (ended !== undefined) return { status: 201, body: depositView(depositId, ended.outcome), headers };
        }
        // Told by its id, not its stream: a system account not opened yet may be opened by any
        // request of its currency before this deposit's credit, and would then take it.
        if (isSystemAccountId(body.accountId)) throw new SystemAccountNotAllowedError(body.accountId);
        const movement: Movement = {
          fromAccountId: systemAccountId({ role: 'bank', currency: body.currency }),
          toAccountId: body.accountId,
          amount: body.amount,
          currency: body.currency,
          reference: body.reference,
          requestedAt: deps.clock().toISOString(),
        };
        const run = { correlationId: correlationIdOf(request.res!.locals), actor: deps.callerOf(request) };
        const outcome = await deps.movements.run(depositPlan(depositId, movement), run, attempt);
        // After a retry the movement is the one an earlier run recorded, with its request time.
        return { status: 201, body: depositView(depositId, outcome), headers };
      },
    }),
  );

  router.get('/v1/deposits/:id', async (request, response) => {
    const { id } = parseRequest(depositParamsSchema, request.params, 'params');
    const ended = await deps.movements.read(depositStream(id));
    if (ended !== undefined) {
      response.json(depositView(id, ended.outcome));
      return;
    }
    const open = deps.recovery.open().find((journal) => journal.kind === 'deposit' && journal.id === id);
    if (open === undefined) throw new NotFoundError('deposit', id);
    response.json(inTransitView(open));
  });

  return router;
};

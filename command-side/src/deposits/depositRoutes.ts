import {
  accountIdSchema,
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
import { depositPlan } from '../movements/movement.js';

const depositSchema = z.strictObject({
  accountId: accountIdSchema,
  amount: amountSchema,
  currency: currencySchema,
  reference: referenceSchema,
});

/** `POST /v1/deposits`: money that arrived by bank transfer, paid from the bank system account. */
export const depositRoutes = (deps: WriteApiDependencies): Router => {
  const router = Router();
  router.post(
    '/v1/deposits',
    idempotentHandler({
      store: deps.idempotency,
      required: true,
      callerOf: deps.callerOf,
      resourceIdFactory: deps.ids.nextId,
      validate: (request) => void parseRequest(depositSchema, request.body, 'body'),
      handle: async (request, depositId, attempt) => {
        const body = parseRequest(depositSchema, request.body, 'body');
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
        return {
          status: 201,
          body: {
            id: depositId,
            status: outcome.status,
            accountId: body.accountId,
            amount: formatMinorUnits(body.amount),
            currency: body.currency,
            reference: body.reference,
            requestedAt: movement.requestedAt,
            completedAt: outcome.endedAt,
            position: outcome.position.toString(),
          },
          headers: { Location: `/v1/deposits/${depositId}` },
        };
      },
    }),
  );
  return router;
};

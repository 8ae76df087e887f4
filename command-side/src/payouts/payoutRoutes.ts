import {
  accountIdSchema,
  amountSchema,
  correlationIdOf,
  currencySchema,
  jsonBody,
  parseRequest,
  providerSchema,
  referenceSchema,
} from '@folio/shared';
import { Router } from 'express';
import { z } from 'zod';
import type { WriteApiDependencies } from '../http/writeApiDependencies.js';
import { idempotentHandler } from '../idempotency/index.js';
import type { PayoutService } from './payoutService.js';

const payoutSchema = z.strictObject({
  accountId: accountIdSchema,
  amount: amountSchema,
  currency: currencySchema,
  provider: providerSchema,
  destination: referenceSchema,
});

const payoutParamsSchema = z.strictObject({ id: accountIdSchema });

/** `POST /v1/payouts` (an `Idempotency-Key` is required) and `GET /v1/payouts/{id}`. */
export const payoutRoutes = (deps: WriteApiDependencies, payouts: PayoutService): Router => {
  const router = Router();

  router.post(
    '/v1/payouts',
    jsonBody(),
    idempotentHandler({
      store: deps.idempotency,
      required: true,
      callerOf: deps.callerOf,
      resourceIdFactory: deps.ids.nextId,
      parse: (request) => parseRequest(payoutSchema, request.body, 'body'),
      handle: async (request, body, payoutId, attempt) => {
        const run = { correlationId: correlationIdOf(request.res!.locals), actor: deps.callerOf(request) };
        const view = await payouts.request(payoutId, body, run, attempt);
        return { status: 201, body: view, headers: { Location: `/v1/payouts/${payoutId}` } };
      },
    }),
  );

  router.get('/v1/payouts/:id', async (request, response) => {
    const { id } = parseRequest(payoutParamsSchema, request.params, 'params');
    response.json(await payouts.get(id));
  });

  return router;
};

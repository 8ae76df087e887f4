import { correlationIdOf, parseRequest, toProblem, type JsonValue } from '@folio/shared';
import { Router } from 'express';
import { z } from 'zod';
import type { WriteApiDependencies } from '../http/writeApiDependencies.js';
import { idempotentHandler } from '../idempotency/index.js';
import { MAX_BATCH_TRANSFERS, transferRequestSchema } from './transferRequest.js';
import type { TransferService } from './transferService.js';

const batchSchema = z.strictObject({
  transfers: z.array(z.unknown()).min(1).max(MAX_BATCH_TRANSFERS),
});

export type BatchItemResult = {
  index: number;
  /** The transfer's id, also when it failed: a 5xx item may still complete, and can be looked up. */
  id: string;
  status: number;
  body: JsonValue;
};

/** `POST /v1/transfers` and `POST /v1/transfers/batch`; an `Idempotency-Key` is required on both. */
export const transferRoutes = (deps: WriteApiDependencies, transfers: TransferService): Router => {
  const router = Router();

  router.post(
    '/v1/transfers',
    idempotentHandler({
      store: deps.idempotency,
      required: true,
      callerOf: deps.callerOf,
      resourceIdFactory: deps.ids.nextId,
      validate: (request) => void parseRequest(transferRequestSchema, request.body, 'body'),
      handle: async (request, transferId) => {
        const body = parseRequest(transferRequestSchema, request.body, 'body');
        const run = { correlationId: correlationIdOf(request.res!.locals), actor: deps.callerOf(request) };
        const view = await transfers.transfer(transferId, body, run);
        return { status: 201, body: view, headers: { Location: `/v1/transfers/${transferId}` } };
      },
    }),
  );

  router.post(
    '/v1/transfers/batch',
    idempotentHandler({
      store: deps.idempotency,
      required: true,
      callerOf: deps.callerOf,
      // The batch's id is the first of a block: item i is transfer `first + i`, the same on a retry.
      resourceIdFactory: () => deps.ids.reserve(MAX_BATCH_TRANSFERS).toString(),
      validate: (request) => void parseRequest(batchSchema, request.body, 'body'),
      handle: async (request, firstId) => {
        const { transfers: items } = parseRequest(batchSchema, request.body, 'body');
        const run = { correlationId: correlationIdOf(request.res!.locals), actor: deps.callerOf(request) };
        const instance = request.originalUrl.split('?', 1)[0]!;
        const results = await Promise.all(
          items.map(async (item, index): Promise<BatchItemResult> => {
            const transferId = (BigInt(firstId) + BigInt(index)).toString();
            try {
              const body = parseRequest(transferRequestSchema, item, 'body');
              return { index, id: transferId, status: 201, body: await transfers.transfer(transferId, body, run) };
            } catch (error) {
              const problem = toProblem(error, `${instance}#${index}`, { correlationId: run.correlationId });
              // A store failure on one item must not hide the outcome of the others.
              return { index, id: transferId, status: problem.status, body: problem as JsonValue };
            }
          }),
        );
        return { status: 200, body: { results } };
      },
    }),
  );

  return router;
};

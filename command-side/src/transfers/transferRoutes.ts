import {
  accountIdSchema,
  correlationIdOf,
  jsonBody,
  MAX_BATCH_BODY_BYTES,
  MAX_BATCH_TRANSFERS,
  NotFoundError,
  ValidationError,
  parseRequest,
  toProblem,
  transferStream,
  type JsonValue,
} from '@folio/shared';
import { Router } from 'express';
import { z } from 'zod';
import type { WriteApiDependencies } from '../http/writeApiDependencies.js';
import { idempotentHandler, isBusinessRejection } from '../idempotency/index.js';
import { BatchIncompleteError } from './batchIncompleteError.js';
import { transferRequestSchema } from './transferRequest.js';
import type { TransferService } from './transferService.js';
import { inTransitView, transferView } from './transferView.js';

const movementParamsSchema = z.strictObject({ id: accountIdSchema });

/** Issues quoted in an item's detail, as `parseRequest` quotes them; the problem lists them all. */
const ISSUES_IN_DETAIL = 3;

/**
 * An item's errors name their place in the batch (`body.transfers.3.amount`), in its detail as in
 * its list: the detail is written again from the placed issues, since the one `parseRequest` wrote
 * quotes the paths of a lone transfer.
 */
const parseBatchItem = (item: unknown, index: number) => {
  try {
    return parseRequest(transferRequestSchema, item, 'body');
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const issues = error.issues.map((issue) => ({ ...issue, path: issue.path.replace(/^body/, `body.transfers.${index}`) }));
    const quoted = issues.slice(0, ISSUES_IN_DETAIL).map(({ path, message }) => `${path}: ${message}`);
    const more = issues.length - quoted.length;
    throw new ValidationError(`invalid transfer ${index} of the batch: ${quoted.join('; ')}${more > 0 ? `; and ${more} more` : ''}`, issues);
  }
};

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
    jsonBody(),
    idempotentHandler({
      store: deps.idempotency,
      required: true,
      callerOf: deps.callerOf,
      resourceIdFactory: deps.ids.nextId,
      parse: (request) => parseRequest(transferRequestSchema, request.body, 'body'),
      handle: async (request, body, transferId, attempt) => {
        const run = { correlationId: correlationIdOf(request.res!.locals), actor: deps.callerOf(request) };
        const view = await transfers.transfer(transferId, body, run, attempt);
        return { status: 201, body: view, headers: { Location: `/v1/transfers/${transferId}` } };
      },
    }),
  );

  router.post(
    '/v1/transfers/batch',
    jsonBody({ limit: MAX_BATCH_BODY_BYTES }),
    idempotentHandler({
      store: deps.idempotency,
      required: true,
      callerOf: deps.callerOf,
      // The batch's id is the first of a block: item i is transfer `first + i`, the same on a retry.
      resourceIdFactory: () => deps.ids.reserve(MAX_BATCH_TRANSFERS).toString(),
      parse: (request) => parseRequest(batchSchema, request.body, 'body'),
      handle: async (request, { transfers: items }, firstId, attempt) => {
        const run = { correlationId: correlationIdOf(request.res!.locals), actor: deps.callerOf(request) };
        const instance = request.originalUrl.split('?', 1)[0]!;
        const incomplete: number[] = [];
        const results = await Promise.all(
          items.map(async (item, index): Promise<BatchItemResult> => {
            // Rejected in the 503 an earlier attempt answered (see BatchIncompleteError): final.
            const answered = attempt.finalParts[String(index)];
            if (answered !== undefined) return answered as BatchItemResult;
            const transferId = (BigInt(firstId) + BigInt(index)).toString();
            try {
              const body = parseBatchItem(item, index);
              return { index, id: transferId, status: 201, body: await transfers.transfer(transferId, body, run, attempt) };
            } catch (error) {
              if (!isBusinessRejection(error)) incomplete.push(index);
              const problem = toProblem(error, `${instance}#${index}`, { correlationId: run.correlationId });
              // A store failure on one item must not hide the outcome of the others.
              return { index, id: transferId, status: problem.status, body: problem as JsonValue };
            }
          }),
        );
        if (incomplete.length > 0) throw new BatchIncompleteError(results, incomplete.sort((a, b) => a - b));
        return { status: 200, body: { results } };
      },
    }),
  );

  router.get('/v1/transfers/:id', async (request, response) => {
    const { id } = parseRequest(movementParamsSchema, request.params, 'params');
    const ended = await deps.movements.read(transferStream(id));
    if (ended !== undefined) {
      response.json(transferView(id, ended.movement, ended.outcome));
      return;
    }
    const open = deps.recovery.open().find((journal) => journal.kind === 'transfer' && journal.id === id);
    if (open === undefined) throw new NotFoundError('transfer', id);
    response.json(inTransitView(open));
  });

  return router;
};

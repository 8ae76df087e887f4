import {
  accountIdSchema,
  amountSchema,
  correlationIdOf,
  currencySchema,
  descriptionSchema,
  jsonBody,
  NotFoundError,
  nonNegativeMinorUnitsSchema,
  parseRequest,
  providerSchema,
  referenceSchema,
} from '@folio/shared';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { WriteApiDependencies } from '../http/writeApiDependencies.js';
import { idempotentHandler } from '../idempotency/index.js';
import type { MovementAttempt } from '../movements/movementProcess.js';
import type { ProviderReferences } from '../providers/providerReferences.js';
import { PAYMENT_ID_BLOCK, type PaymentService } from './paymentService.js';

const createPaymentSchema = z.strictObject({
  merchantAccountId: accountIdSchema,
  amount: amountSchema,
  currency: currencySchema,
  provider: providerSchema,
  description: descriptionSchema.optional(),
  customerRef: referenceSchema.optional(),
});

const paymentParamsSchema = z.strictObject({ id: accountIdSchema });
const submitSchema = z.strictObject({ providerRef: referenceSchema.optional() });
const emptySchema = z.strictObject({});
const settleSchema = z.strictObject({ fee: nonNegativeMinorUnitsSchema });
const failSchema = z.strictObject({ reason: referenceSchema });
const refundSchema = z.strictObject({ amount: amountSchema });
const searchSchema = z.strictObject({ provider: providerSchema, providerRef: referenceSchema });

/**
 * Payments: create, move through the lifecycle, refund, read one, find one by the provider's
 * reference. Every POST takes an `Idempotency-Key` (required where money moves).
 */
export const paymentRoutes = (deps: WriteApiDependencies, payments: PaymentService, references: ProviderReferences): Router => {
  const router = Router();
  const runOf = (request: Request) => ({ correlationId: correlationIdOf(request.res!.locals), actor: deps.callerOf(request) });

  router.post(
    '/v1/payments',
    jsonBody(),
    idempotentHandler({
      store: deps.idempotency,
      required: false,
      callerOf: deps.callerOf,
      // The payment's id is the first of a block; the others are its capture and settlement journals.
      resourceIdFactory: () => deps.ids.reserve(PAYMENT_ID_BLOCK).toString(),
      parse: (request) => parseRequest(createPaymentSchema, request.body, 'body'),
      handle: async (request, body, paymentId) => {
        const view = await payments.create(paymentId, body, runOf(request));
        return { status: 201, body: view, headers: { Location: `/v1/payments/${paymentId}` } };
      },
    }),
  );

  const action = <Input>(
    name: string,
    options: { required: boolean; newId?: boolean },
    parse: (body: unknown) => Input,
    run: (paymentId: string, input: Input, request: Request, resourceId: string, attempt: MovementAttempt) => Promise<unknown>,
  ) =>
    router.post(
      `/v1/payments/:id/${name}`,
      jsonBody(),
      idempotentHandler({
        store: deps.idempotency,
        required: options.required,
        callerOf: deps.callerOf,
        resourceIdFactory: deps.ids.nextId,
        parse: (request) => ({
          id: parseRequest(paymentParamsSchema, request.params, 'params').id,
          input: parse(request.body),
        }),
        handle: async (request, { id, input }, resourceId, attempt) => ({
          status: options.newId ? 201 : 200,
          body: (await run(id, input, request, resourceId, attempt)) as never,
        }),
      }),
    );

  action(
    'submit',
    { required: false },
    (body) => parseRequest(submitSchema, body, 'body'),
    (id, input, request, _resourceId, attempt) => payments.submit(id, input.providerRef, runOf(request), attempt),
  );
  action(
    'capture',
    { required: true },
    (body) => parseRequest(emptySchema, body, 'body'),
    (id, _input, request, _resourceId, attempt) => payments.capture(id, runOf(request), attempt),
  );
  action(
    'settle',
    { required: true },
    (body) => parseRequest(settleSchema, body, 'body'),
    (id, input, request, _resourceId, attempt) => payments.settle(id, input.fee, runOf(request), attempt),
  );
  action(
    'fail',
    { required: false },
    (body) => parseRequest(failSchema, body, 'body'),
    (id, input, request, _resourceId, attempt) => payments.fail(id, input.reason, runOf(request), attempt),
  );
  action(
    'refunds',
    { required: true, newId: true },
    (body) => parseRequest(refundSchema, body, 'body'),
    async (id, input, request, refundId, attempt) => ({
      refundId,
      payment: await payments.refund(id, refundId, input.amount, runOf(request), attempt),
    }),
  );

  router.get('/v1/payments/:id', async (request, response) => {
    const { id } = parseRequest(paymentParamsSchema, request.params, 'params');
    response.json(await payments.get(id, runOf(request)));
  });

  router.get('/v1/payments', async (request, response) => {
    const { provider, providerRef } = parseRequest(searchSchema, request.query, 'query');
    const owner = await references.lookup(provider, providerRef);
    if (owner?.resource !== 'payment') throw new NotFoundError('payment with reference', `${provider}:${providerRef}`);
    response.json({ items: [await payments.get(owner.resourceId, runOf(request))] });
  });

  return router;
};

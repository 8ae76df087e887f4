import {
  accountIdSchema,
  accountStream,
  descriptionSchema,
  jsonBody,
  referenceSchema,
  nonNegativeMinorUnitsSchema,
  parseRequest,
  currencySchema,
} from '@folio/shared';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { commandContextOf, type WriteApiDependencies } from '../http/writeApiDependencies.js';
import { idempotentHandler } from '../idempotency/index.js';
import { closeAccount } from './accountClosing.js';
import { MAX_OVERDRAFT_LIMIT, overdraftLimitProblem, type AccountCommand } from './accountDecider.js';
import { AccountNotFoundError } from './accountErrors.js';
import { accountETag, accountView } from './accountView.js';

const openAccountSchema = z.strictObject({
  ownerId: referenceSchema,
  currency: currencySchema,
  kind: z.enum(['customer', 'merchant']),
  // Checked here too, so a limit beyond the cap is a 400 that claims no idempotency key.
  overdraftLimit: nonNegativeMinorUnitsSchema
    .refine((limit) => limit <= MAX_OVERDRAFT_LIMIT, { error: overdraftLimitProblem })
    .optional(),
});

const accountParamsSchema = z.strictObject({ id: accountIdSchema });
const freezeSchema = z.strictObject({ reason: descriptionSchema.optional() });
const emptySchema = z.strictObject({});

type LifecycleAction = 'freeze' | 'unfreeze' | 'close';

const lifecycleCommand = (action: LifecycleAction, accountId: string, body: unknown): AccountCommand => {
  switch (action) {
    case 'freeze': {
      const { reason } = parseRequest(freezeSchema, body, 'body');
      return { type: 'FreezeAccount', accountId, ...(reason ? { reason } : {}) };
    }
    case 'unfreeze':
      parseRequest(emptySchema, body, 'body');
      return { type: 'UnfreezeAccount', accountId };
    case 'close':
      parseRequest(emptySchema, body, 'body');
      return { type: 'CloseAccount', accountId };
  }
};

/** Accounts: open, freeze, unfreeze, close, and read one (folded from its stream). */
export const accountRoutes = (deps: WriteApiDependencies): Router => {
  const router = Router();
  const { accounts } = deps;

  router.post(
    '/v1/accounts',
    jsonBody(),
    idempotentHandler({
      store: deps.idempotency,
      required: false,
      callerOf: deps.callerOf,
      resourceIdFactory: deps.ids.nextId,
      parse: (request) => parseRequest(openAccountSchema, request.body, 'body'),
      handle: async (request, body, accountId) => {
        const result = await accounts.handle(
          accountStream(accountId),
          {
            type: 'OpenAccount',
            accountId,
            ownerId: body.ownerId,
            currency: body.currency,
            kind: body.kind,
            overdraftLimit: body.overdraftLimit ?? 0n,
          },
          commandContextOf(deps, request, request.res!, `open-${accountId}`),
        );
        if (!result.state.exists) throw new AccountNotFoundError(accountId);
        return {
          status: 201,
          body: accountView(result.state, result.revision, result.position),
          headers: { Location: `/v1/accounts/${accountId}`, ETag: accountETag(result.revision) },
        };
      },
    }),
  );

  for (const action of ['freeze', 'unfreeze', 'close'] as const) {
    router.post(
      `/v1/accounts/:id/${action}`,
      jsonBody(),
      idempotentHandler({
        store: deps.idempotency,
        required: false,
        callerOf: deps.callerOf,
        resourceIdFactory: deps.ids.nextId,
        parse: (request: Request) => {
          const { id } = parseRequest(accountParamsSchema, request.params, 'params');
          return { id, command: lifecycleCommand(action, id, request.body) };
        },
        handle: async (request, { id, command }, commandId) => {
          const context = commandContextOf(deps, request, request.res!, `${action}-${commandId}`);
          const result =
            command.type === 'CloseAccount'
              ? await closeAccount(deps, id, context)
              : await accounts.handle(accountStream(id), command, context);
          if (!result.state.exists) throw new AccountNotFoundError(id);
          return {
            status: 200,
            body: accountView(result.state, result.revision, result.position),
            headers: { ETag: accountETag(result.revision) },
          };
        },
      }),
    );
  }

  router.get('/v1/accounts/:id', async (request, response) => {
    const { id } = parseRequest(accountParamsSchema, request.params, 'params');
    const { state, revision, position } = await accounts.load(accountStream(id), { fresh: true });
    if (!state.exists) throw new AccountNotFoundError(id);
    response.set('ETag', accountETag(revision)).json(accountView(state, revision, position));
  });

  return router;
};

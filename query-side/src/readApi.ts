import {
  accountIdSchema,
  NotFoundError,
  currencyCodes,
  currencyExponent,
  currencySchema,
  journalKinds,
  nonNegativeMinorUnitsSchema,
  parseRequest,
  paymentStates,
  providerSchema,
  referenceSchema,
  snowflakeIdSchema,
  type DocumentStore,
  type GlobalPosition,
  type SearchIndex,
  holderRoles,
  principalOf,
  type CredentialDirectory,
} from '@folio/shared';
import {
  balancesProjection,
  createServedReadModels,
  paymentsProjection,
  projectionDefinitions,
  reconciliationProjection,
  slowestPosition,
  transactionHistoryProjection,
  type ProjectionDefinition,
  type ServedReadModels,
} from '@folio/projections';
import { Router, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { getBalance, getBalancePoints, loadAccount } from './accountReads.js';
import {
  findPayments,
  loadPayment,
  loadPayout,
  paymentActivityView,
  paymentView,
  payoutActivityView,
  payoutView,
} from './paymentReads.js';
import { cursorSchema, instantSchema, limitSchema, positionSchema } from './readParameters.js';
import {
  DEFAULT_READ_WAIT_MS,
  formatReadPosition,
  READ_POSITION_HEADER,
  ReadModelBehindError,
  waitForPositionWithFollowers,
  type LogFollower,
  type WaitLog,
  type ReadModelProgress,
} from './readYourWrites.js';
import { mountReconciliationReads, type ReadRoute } from './reconciliation/reconciliationRoutes.js';
import { getTransactionDetail } from './transactionDetail.js';
import { createTransactionFinder, TRANSACTION_SORTS, type VisibleAccounts } from './transactionSearch.js';

export interface ReadApiOptions {
  documents: DocumentStore;
  searchIndex: SearchIndex;
  /** The projectors' progress, on the read models' current versions; an older version is read until they catch up. */
  projections: ReadModelProgress;
  /** For the projections' lag behind the head of the log, and what a read waiting for a position waits for. */
  eventStore: WaitLog;
  clock?: () => Date;
  /** How long a read carrying `?position=` waits for the read models (`FOLIO_READ_WAIT_MS`). */
  readWaitMs?: number;
  /** The accounts the caller may see, when it may not see them all (a customer's or merchant's own). */
  visibleAccounts?: AccountVisibility;
}

/** Which accounts a caller may see, as this process has learnt them from the log. */
export interface AccountVisibility {
  /** `undefined` for a caller who sees every account. */
  of(response: Response): VisibleAccounts | undefined;
  /** How far the lists follow the log: a read with `?position=` by a caller who sees only its own waits for them too. */
  follower: LogFollower;
}

/** What a `read-model-behind` answer calls the accounts of each holder that this process knows. */
const HOLDER_ACCOUNTS = 'holder-accounts';

/** A holder's key sees the accounts of its kind opened for its holder; staff keys see everything. */
export const visibleAccountsOf = (directory: Pick<CredentialDirectory, 'accountsOf' | 'follows' | 'progress' | 'waitFor'>): AccountVisibility => ({
  of: (response) => {
    const principal = principalOf(response);
    if (principal === undefined || !holderRoles.has(principal.role) || principal.ownerId === undefined) return undefined;
    return { owner: `${principal.role}\n${principal.ownerId}`, accounts: directory.accountsOf(principal.ownerId, principal.role) };
  },
  follower: {
    status: () => ({ name: HOLDER_ACCOUNTS, ...directory.progress(), lastEventAt: undefined, filter: directory.follows }),
    waitFor: (target, timeoutMs) => directory.waitFor(target, timeoutMs),
  },
});

const MAX_PAGE = 100;
const DEFAULT_PAGE = 25;
const MAX_POINTS = 1000;
const DEFAULT_POINTS = 500;
/** The search index refuses longer text. */
const MAX_SEARCH_TEXT = 1000;

/** Every read accepts the position of a write it must see. */
const position = positionSchema.optional();

const accountParams = z.strictObject({ id: accountIdSchema });
const paymentParams = z.strictObject({ id: snowflakeIdSchema });
const transactionParams = z.strictObject({ id: snowflakeIdSchema });
const noParams = z.strictObject({});
const onlyPosition = z.strictObject({ position });

const searchQuery = z
  .strictObject({
    q: z.string().max(MAX_SEARCH_TEXT, `at most ${MAX_SEARCH_TEXT} characters`).optional(),
    account: accountIdSchema.optional(),
    type: z.enum(journalKinds).optional(),
    payment: snowflakeIdSchema.optional(),
    status: z.enum(['in_transit', 'completed', 'failed']).optional(),
    currency: currencySchema.optional(),
    minAmount: nonNegativeMinorUnitsSchema.optional(),
    maxAmount: nonNegativeMinorUnitsSchema.optional(),
    from: instantSchema(false).optional(),
    to: instantSchema(true).optional(),
    sort: z.enum(TRANSACTION_SORTS).optional(),
    cursor: cursorSchema.optional(),
    limit: limitSchema(MAX_PAGE).optional(),
    position,
  })
  .superRefine((query, ctx) => {
    if (query.minAmount !== undefined && query.maxAmount !== undefined && query.minAmount > query.maxAmount) {
      ctx.addIssue({ code: 'custom', path: ['maxAmount'], message: `must not be below minAmount (${query.minAmount})` });
    }
    if (query.from !== undefined && query.to !== undefined && query.from > query.to) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: `must not be before from (${query.from})` });
    }
  });

const paymentsQuery = z.strictObject({
  merchant: accountIdSchema.optional(),
  provider: providerSchema.optional(),
  providerRef: referenceSchema.optional(),
  state: z.enum(paymentStates).optional(),
  cursor: cursorSchema.optional(),
  limit: limitSchema(MAX_PAGE).optional(),
  position,
});

const historyQuery = z.strictObject({ cursor: cursorSchema.optional(), limit: limitSchema(MAX_PAGE).optional(), position });

const pointsQuery = z
  .strictObject({ from: instantSchema(false).optional(), to: instantSchema(true).optional(), limit: limitSchema(MAX_POINTS).optional(), position })
  .superRefine((query, ctx) => {
    if (query.from !== undefined && query.to !== undefined && query.from > query.to) {
      ctx.addIssue({ code: 'custom', path: ['to'], message: `must not be before from (${query.from})` });
    }
  });

/**
 * Validates a request, waits for `?position=` if given, and answers JSON. Every response carries
 * `Folio-Read-Position` of the read model versions read, stamped before they are read, so it is a
 * lower bound of what the answer shows. A route names the read models it reads: it waits for
 * those only, and its header is theirs. A route that shows a holder its own accounts only names
 * their `visibility`: a holder's read waits for its accounts too.
 */
const createReader =
  ({ readModels, readWaitMs, log }: { readModels: ServedReadModels; readWaitMs: number; log?: WaitLog }) =>
  (readsFrom: readonly ProjectionDefinition[] = projectionDefinitions, visibility?: AccountVisibility) => {
    const names = readsFrom.map(({ name }) => name);
    const stampReadPosition = (response: Response) =>
      response.set(READ_POSITION_HEADER, formatReadPosition(slowestPosition(readModels.status(names))));
    return <P extends z.ZodType, Q extends z.ZodType<{ position?: GlobalPosition | undefined }>>(
        paramsSchema: P,
        querySchema: Q,
        answer: (params: z.output<P>, query: z.output<Q>, response: Response) => Promise<unknown>,
      ): RequestHandler =>
      async (request, response) => {
        await readModels.check();
        stampReadPosition(response);
        try {
          const params = parseRequest(paramsSchema, request.params, 'params');
          const query = parseRequest(querySchema, request.query, 'query');
          if (query.position !== undefined) {
            const followers = visibility === undefined || visibility.of(response) === undefined ? [] : [visibility.follower];
            await waitForPositionWithFollowers(readModels, query.position, readWaitMs, { ...(log === undefined ? {} : { log }), names, followers });
          }
          stampReadPosition(response);
          response.json(await answer(params, query, response));
        } catch (error) {
          if (error instanceof ReadModelBehindError) stampReadPosition(response);
          throw error;
        }
      };
  };

/** `GET /v1/payments` from the payments read model. */
const listPayments = (documents: DocumentStore, readModels: ServedReadModels, read: ReadRoute): RequestHandler =>
  read(noParams, paymentsQuery, async (_params, query) =>
    findPayments(documents, (await readModels.serving(paymentsProjection)).collections, {
      filters: {
        ...(query.merchant === undefined ? {} : { merchantAccountId: query.merchant }),
        ...(query.provider === undefined ? {} : { provider: query.provider }),
        ...(query.providerRef === undefined ? {} : { providerRef: query.providerRef }),
        ...(query.state === undefined ? {} : { state: query.state }),
      },
      limit: query.limit ?? DEFAULT_PAGE,
      ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
    }),
  );

/**
 * `GET /v1/payments` alone. The write API answers the same path for a lookup by provider reference
 * only (from the streams), so a process serving both mounts this before the write routes.
 */
export const createPaymentListApi = (options: Pick<ReadApiOptions, 'documents' | 'projections' | 'readWaitMs' | 'eventStore'>): Router => {
  const { documents, projections, eventStore } = options;
  const readModels = createServedReadModels({ documents, projections });
  const read = createReader({ readModels, readWaitMs: options.readWaitMs ?? DEFAULT_READ_WAIT_MS, log: eventStore })([paymentsProjection]);
  const router = Router();
  router.get('/v1/payments', listPayments(documents, readModels, read));
  return router;
};

/**
 * The read API: search and history over the transaction history read model, balances and
 * balance points from the balances read model, payments and payouts from the payments read
 * model, and the projections' progress. It reads read models only. Every response carries
 * `Folio-Read-Position` (`-1` before the read models reflect any event), and every endpoint
 * takes `?position=` for read-your-writes.
 */
export const createReadApi = (options: ReadApiOptions): Router => {
  const { documents, searchIndex, projections, eventStore } = options;
  const clock = options.clock ?? (() => new Date());
  const readWaitMs = options.readWaitMs ?? DEFAULT_READ_WAIT_MS;
  const readModels = createServedReadModels({ documents, projections, searchIndex });
  const collectionsOf = async (definition: ProjectionDefinition) => (await readModels.serving(definition)).collections;
  const payment = async (id: string) => loadPayment(documents, await collectionsOf(paymentsProjection), id);
  const payout = async (id: string) => loadPayout(documents, await collectionsOf(paymentsProjection), id);
  const findTransactions = createTransactionFinder({ documents, searchIndex, readModels, readWaitMs });
  const reader = createReader({ readModels, readWaitMs, log: eventStore });
  const read = reader();
  // Every read of the history shows a holder its own accounts only.
  const readHistory = reader([transactionHistoryProjection], options.visibleAccounts);
  const readPayments = reader([paymentsProjection]);
  const readBalances = reader([balancesProjection]);

  const router = Router();
  mountReconciliationReads(router, documents, readModels, reader([reconciliationProjection]));

  router.get(
    '/v1/transactions',
    readHistory(noParams, searchQuery, async (_params, query, response) => {
      // A holder's search runs within its own accounts.
      const visible = options.visibleAccounts?.of(response);
      return findTransactions({
        ...(visible === undefined ? {} : { visible }),
        filters: {
          ...(query.q === undefined ? {} : { text: query.q }),
          ...(query.account === undefined ? {} : { account: query.account }),
          ...(query.type === undefined ? {} : { type: query.type }),
          ...(query.status === undefined ? {} : { status: query.status }),
          ...(query.currency === undefined ? {} : { currency: query.currency }),
          ...(query.payment === undefined ? {} : { payment: query.payment }),
          ...(query.minAmount === undefined ? {} : { minAmount: query.minAmount }),
          ...(query.maxAmount === undefined ? {} : { maxAmount: query.maxAmount }),
          ...(query.from === undefined ? {} : { from: query.from }),
          ...(query.to === undefined ? {} : { to: query.to }),
        },
        sort: query.sort ?? '-requestedAt',
        limit: query.limit ?? DEFAULT_PAGE,
        ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
        refresh: query.position !== undefined,
      });
    }),
  );

  router.get('/v1/payments', listPayments(documents, readModels, readPayments));

  router.get(
    '/v1/payments/:id',
    readPayments(paymentParams, onlyPosition, async ({ id }) => paymentView(await payment(id))),
  );

  router.get(
    '/v1/payments/:id/activity',
    readPayments(paymentParams, onlyPosition, async ({ id }) => paymentActivityView(await payment(id))),
  );

  router.get(
    '/v1/payouts/:id',
    readPayments(paymentParams, onlyPosition, async ({ id }) => payoutView(await payout(id))),
  );

  router.get(
    '/v1/payouts/:id/activity',
    readPayments(paymentParams, onlyPosition, async ({ id }) => payoutActivityView(await payout(id))),
  );

  router.get(
    '/v1/transactions/:id',
    readHistory(transactionParams, onlyPosition, async ({ id }, _query, response) => {
      const detail = await getTransactionDetail(documents, await collectionsOf(transactionHistoryProjection), id);
      const visible = options.visibleAccounts?.of(response);
      if (visible !== undefined && !visible.accounts.includes(detail.fromAccountId) && !visible.accounts.includes(detail.toAccountId)) {
        throw new NotFoundError('transaction', id, { type: 'transaction-not-found' });
      }
      return detail;
    }),
  );

  // What formats amounts: the minor unit exponent of every currency Folio accepts.
  const currencies = { items: currencyCodes.map((code) => ({ code, exponent: currencyExponent(code) })) };
  // They read no read model, so a read with `?position=` waits for none.
  router.get(
    '/v1/currencies',
    reader([])(noParams, onlyPosition, async () => currencies),
  );

  router.get(
    '/v1/accounts/:id/history',
    reader([balancesProjection, transactionHistoryProjection])(accountParams, historyQuery, async ({ id }, query) => {
      // The search checks the cursor before the account is looked up, so a bad one is refused whether it exists or not.
      const page = await findTransactions({
        filters: { account: id },
        sort: '-requestedAt',
        limit: query.limit ?? DEFAULT_PAGE,
        ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
        refresh: query.position !== undefined,
      });
      await loadAccount(documents, await collectionsOf(balancesProjection), id);
      return page;
    }),
  );

  router.get(
    '/v1/accounts/:id/balance',
    readBalances(accountParams, onlyPosition, async ({ id }) => getBalance(documents, await readModels.serving(balancesProjection), id)),
  );

  router.get(
    '/v1/accounts/:id/balance-points',
    readBalances(accountParams, pointsQuery, async ({ id }, query) =>
      getBalancePoints(documents, await collectionsOf(balancesProjection), {
        accountId: id,
        ...(query.from === undefined ? {} : { from: query.from }),
        ...(query.to === undefined ? {} : { to: query.to }),
        limit: query.limit ?? DEFAULT_POINTS,
      }),
    ),
  );

  router.get(
    '/v1/projections',
    read(noParams, onlyPosition, async () => {
      // Statuses before the head, so no projector can appear ahead of it.
      const statuses = projections.status();
      const head = await eventStore.headPosition();
      const now = clock().getTime();
      return {
        headPosition: head?.toString() ?? null,
        projections: statuses.map(({ name, position: at, caughtUp, lastEventAt }) => ({
          name,
          position: at?.toString() ?? null,
          caughtUp,
          lag: head === undefined ? '0' : (head - (at ?? 0n)).toString(),
          lastEventAt: lastEventAt?.toISOString() ?? null,
          // The log's clock and ours may disagree by a little.
          secondsSinceLastEvent: lastEventAt === undefined ? null : Math.max(0, now - lastEventAt.getTime()) / 1000,
        })),
      };
    }),
  );

  return router;
};

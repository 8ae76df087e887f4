import {
  accountAsOf,
  accountAtPointToJson,
  accountIdSchema,
  actorOf,
  closePeriod,
  createExport,
  jsonBody,
  listPeriods,
  parseRequest,
  periodIdSchema,
  principalOf,
  readCheckpoints,
  restatementsOf,
  toBundle,
  trialBalanceAt,
  trialBalanceToJson,
  verifyEventStore,
  type AuditSigner,
  type EventStore,
  type PeriodClose,
  type PointInTime,
  type RestatementReport,
} from '@folio/shared';
import { Router, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { instantSchema, limitSchema, positionSchema } from '../readParameters.js';

/**
 * The auditor's API, under `/v1/audit/`: the books at a point in time folded from the event store
 * (never from a read model), verification of the chains and checkpoints, signed exports, and
 * period close with restatements. Every route sits under one prefix so that access can be
 * limited to the auditor role in one place.
 */
export interface AuditApiOptions {
  eventStore: EventStore;
  /** Signs exports; the same key as the checkpoints. */
  signer: AuditSigner;
  clock?: () => Date;
}

const MAX_ENTRIES = 1000;
const DEFAULT_ENTRIES = 50;

const millis = (instant: string | undefined) => (instant === undefined ? undefined : Date.parse(instant));

/** A date alone means its last millisecond: "as of 2026-05-01" includes that day. */
const recordedPoint = {
  position: positionSchema.optional(),
  asOf: instantSchema(true).optional(),
};

const balanceQuery = z.strictObject({
  ...recordedPoint,
  effectiveAt: instantSchema(true).optional(),
  entries: z.union([z.literal('0').transform(() => 0), limitSchema(MAX_ENTRIES)]).optional(),
});
const trialBalanceQuery = z.strictObject(recordedPoint);
const verifyQuery = z.strictObject({ upTo: positionSchema.optional() });
const exportQuery = z.strictObject({ position: positionSchema.optional() });
const accountParams = z.strictObject({ id: accountIdSchema });
const periodParams = z.strictObject({ id: periodIdSchema });
const noQuery = z.strictObject({});
const closeBody = z.strictObject({
  periodId: periodIdSchema,
  effectiveUntil: instantSchema(true),
  position: positionSchema.optional(),
  // Still accepted from older clients, never recorded: the close names the authenticated caller.
  actor: z.string().min(1).max(200).optional(),
});

/** Who a record names as its author, as every event does: the key that authenticated the request. */
const callerOf = (response: Response): string => {
  const principal = principalOf(response);
  return principal === undefined ? 'anonymous' : actorOf(principal);
};

const pointOf = (query: { position?: bigint | undefined; asOf?: string | undefined; effectiveAt?: string | undefined }): PointInTime => ({
  ...(query.position === undefined ? {} : { position: query.position }),
  ...(query.asOf === undefined ? {} : { asOf: millis(query.asOf)! }),
  ...(query.effectiveAt === undefined ? {} : { effectiveAt: millis(query.effectiveAt)! }),
});

const periodToJson = (period: PeriodClose) => ({
  periodId: period.periodId,
  effectiveUntil: period.effectiveUntil,
  closedAtPosition: period.closedAtPosition.toString(),
  balances: period.balances.map((entry) => ({ ...entry, balance: entry.balance.toString() })),
});

const restatementsToJson = (report: RestatementReport) => ({
  period: periodToJson(report.period),
  restated: report.restated,
  accounts: report.accounts.map((entry) => ({
    ...entry,
    original: entry.original.toString(),
    restated: entry.restated.toString(),
    difference: (entry.restated - entry.original).toString(),
  })),
  latePostings: report.latePostings.map((posting) => ({ ...posting, position: posting.position.toString(), amount: posting.amount.toString() })),
});

export const createAuditApi = ({ eventStore, signer, clock = () => new Date() }: AuditApiOptions): Router => {
  const router = Router();

  const answer =
    <P extends z.ZodType, Q extends z.ZodType>(
      paramsSchema: P,
      querySchema: Q,
      respond: (params: z.output<P>, query: z.output<Q>) => Promise<unknown>,
    ): RequestHandler =>
    async (request, response) => {
      const params = parseRequest(paramsSchema, request.params, 'params');
      const query = parseRequest(querySchema, request.query, 'query');
      response.json(await respond(params, query));
    };

  router.get(
    '/v1/audit/accounts/:id/balance',
    answer(accountParams, balanceQuery, async ({ id }, query) => {
      const point = pointOf(query);
      const result = await accountAsOf(eventStore, id, point, { entries: query.entries ?? DEFAULT_ENTRIES });
      return {
        point: {
          position: query.position?.toString() ?? null,
          asOf: query.asOf ?? null,
          effectiveAt: query.effectiveAt ?? null,
        },
        ...accountAtPointToJson(result),
      };
    }),
  );

  router.get(
    '/v1/audit/trial-balance',
    answer(noQuery, trialBalanceQuery, async (_params, query) => ({
      point: { position: query.position?.toString() ?? null, asOf: query.asOf ?? null },
      ...trialBalanceToJson(await trialBalanceAt(eventStore, pointOf(query))),
    })),
  );

  router.get(
    '/v1/audit/verify',
    answer(noQuery, verifyQuery, async (_params, query) =>
      verifyEventStore(eventStore, { trustedKeyId: signer.keyId, ...(query.upTo === undefined ? {} : { upTo: query.upTo }) }),
    ),
  );

  router.get(
    '/v1/audit/checkpoints',
    answer(noQuery, noQuery, async () => ({
      keyId: signer.keyId,
      publicKey: signer.publicKeyPem,
      items: (await readCheckpoints(eventStore)).map(({ checkpoint }) => ({
        payload: checkpoint.payload,
        signature: checkpoint.signature,
      })),
    })),
  );

  router.get('/v1/audit/export', async (request, response) => {
    const query = parseRequest(exportQuery, request.query, 'query');
    const files = await createExport(eventStore, signer, { ...(query.position === undefined ? {} : { position: query.position }), now: clock() });
    response.type('application/json').send(toBundle(files));
  });

  router.get('/v1/audit/periods', answer(noQuery, noQuery, async () => ({ items: (await listPeriods(eventStore)).map(periodToJson) })));

  router.post(
    '/v1/audit/periods',
    jsonBody(),
    async (request, response) => {
      const body = parseRequest(closeBody, request.body ?? {}, 'body');
      const closed = await closePeriod(eventStore, {
        periodId: body.periodId,
        effectiveUntil: new Date(body.effectiveUntil),
        ...(body.position === undefined ? {} : { position: body.position }),
        actor: callerOf(response),
        now: clock(),
      });
      response.status(201).json(periodToJson(closed));
    },
  );

  router.get(
    '/v1/audit/periods/:id/restatements',
    answer(periodParams, noQuery, async ({ id }) => restatementsToJson(await restatementsOf(eventStore, id))),
  );

  return router;
};

import {
  amountSchema,
  correlationIdOf,
  currencySchema,
  discrepancyIdSchema,
  discrepancyResolutions,
  formatMinorUnits,
  jsonBody,
  journalStream,
  parseRequest,
  providerSchema,
  reconciliationStream,
  type Movement,
} from '@folio/shared';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { commandContextOf, type WriteApiDependencies } from '../http/writeApiDependencies.js';
import { idempotentHandler } from '../idempotency/index.js';
import { ensureClaimLeaseHeld } from '../idempotency/claimLease.js';
import { providerJournalPlan } from '../movements/movement.js';
import { isRefusal, type MovementAttempt, type MovementFailure } from '../movements/movementProcess.js';
import { correctionRoute } from './correctingJournal.js';
import { resolutionRefusal, type Correction, type DiscrepancyCase, type DiscrepancyCommand, type MoneyResolution } from './discrepancyDecider.js';
import { createDiscrepancyCommandHandler } from './discrepancyCommandHandler.js';
import { CorrectingJournalFailedError } from './discrepancyErrors.js';
import { admissionRefusal } from './workflowAdmission.js';

const paramsSchema = z.strictObject({ id: discrepancyIdSchema });
const reason = z.string().trim().min(1, 'say why: a reason is required').max(2000);

const acknowledgeSchema = z.strictObject({ reason });
const assignSchema = z.strictObject({ assignee: z.string().trim().min(1).max(200), reason });
const resolveSchema = z
  .strictObject({
    resolution: z.enum(discrepancyResolutions),
    reason,
    /** The correcting journal's money, required unless the resolution is `no_action`. */
    correction: z.strictObject({ amount: amountSchema, currency: currencySchema, provider: providerSchema }).optional(),
  })
  .superRefine((body, ctx) => {
    if (body.resolution === 'no_action' && body.correction !== undefined)
      ctx.addIssue({ code: 'custom', path: ['correction'], message: 'no_action moves no money: leave correction out' });
    if (body.resolution !== 'no_action' && body.correction === undefined)
      ctx.addIssue({ code: 'custom', path: ['correction'], message: `a ${body.resolution} needs the amount, currency and provider of its correcting journal` });
  });

const parseWith =
  <S extends z.ZodType>(schema: S) =>
  (request: Request): { id: string; body: z.output<S> } => ({
    id: parseRequest(paramsSchema, request.params, 'params').id,
    body: parseRequest(schema, request.body, 'body') as z.output<S>,
  });

/**
 * How long a claimed resolution may stay unfinished before another request finishes it. Sooner,
 * its claimant may still be posting the journal from another process, where nothing in this one
 * would keep the two from posting it twice; so until then other requests are refused (409).
 */
const CLAIM_ABANDONED_AFTER_MS = 30_000;

/** A resolution that moves money, as claimed: its correcting journal and who asked for it why. */
type Claim = { resolution: MoneyResolution; journalId: string; correction: Correction; by: string; reason: string };

/**
 * Whether an earlier attempt of this resolution (its correcting journal) reached the case's stream:
 * it was admitted then, and its retry finishes it as it began, whatever the read model shows since.
 */
const begunBy = (state: DiscrepancyCase, journalId: string): boolean =>
  state.resolving?.journalId === journalId || state.resolved?.journalId === journalId || state.failed.has(journalId);

/**
 * The exception workflow: `POST /v1/reconciliation/discrepancies/{id}/acknowledge|assign|resolve`,
 * each with a required reason, recorded with the caller on the discrepancy's own stream, on a
 * discrepancy the reconciliation read model shows open. A resolution other than `no_action` first
 * posts its correcting journal, in the discrepancy's currency and through its provider, between
 * system accounts.
 */
export const reconciliationRoutes = (deps: WriteApiDependencies): Router => {
  const router = Router();
  const cases = createDiscrepancyCommandHandler(deps.eventStore);

  /** Refuses a step the read model's view of the discrepancy does not explain, before the step records or moves anything. */
  const admit = async (id: string, move: string, correction?: Correction): Promise<void> => {
    const known = deps.discrepancies === undefined ? undefined : await deps.discrepancies(id);
    const refusal = admissionRefusal(id, known, move, correction);
    if (refusal !== undefined) throw refusal;
  };

  const recordedBefore = async (id: string, commandId: string): Promise<boolean> =>
    (await cases.load(reconciliationStream(id), { fresh: true })).recentCommands.has(commandId);

  const record = async (request: Request, commandId: string, command: DiscrepancyCommand) => {
    const result = await cases.handle(reconciliationStream(command.discrepancyId), command, commandContextOf(deps, request, request.res!, commandId));
    return {
      status: 200,
      body: {
        id: command.discrepancyId,
        acknowledged: result.state.acknowledged,
        assignee: result.state.assignee ?? null,
        resolution: result.state.resolved?.resolution ?? null,
        journalId: result.state.resolved?.journalId ?? null,
        position: result.position?.toString() ?? null,
      },
    };
  };

  const step = <S extends z.ZodType>(action: string, schema: S, command: (id: string, body: z.output<S>, by: string) => DiscrepancyCommand) =>
    router.post(
      `/v1/reconciliation/discrepancies/:id/${action}`,
      jsonBody(),
      idempotentHandler<{ id: string; body: z.output<S> }>({
        store: deps.idempotency,
        required: true,
        callerOf: deps.callerOf,
        resourceIdFactory: deps.ids.nextId,
        parse: parseWith(schema),
        handle: async (request, { id, body }, commandId) => {
          // Recorded by an earlier attempt whose answer was lost: recorded again, it replays, whatever the read model shows since.
          if (!(await recordedBefore(id, `${action}-${commandId}`))) await admit(id, action);
          return record(request, `${action}-${commandId}`, command(id, body, deps.callerOf(request)));
        },
      }),
    );

  const at = () => deps.clock().toISOString();
  step('acknowledge', acknowledgeSchema, (id, body, by) => ({ type: 'acknowledge', discrepancyId: id, by, reason: body.reason, at: at() }));
  step('assign', assignSchema, (id, body, by) => ({ type: 'assign', discrepancyId: id, assignee: body.assignee, by, reason: body.reason, at: at() }));

  /** The correcting journal of a claimed resolution, posted between system accounts. */
  const postCorrection = async (request: Request, id: string, claim: Claim, attempt: MovementAttempt) => {
    const { amount, currency, provider } = claim.correction;
    const route = correctionRoute(claim.resolution, provider, currency);
    const movement: Movement = {
      fromAccountId: route.from,
      toAccountId: route.to,
      amount,
      currency,
      reference: `reconciliation ${id} ${claim.resolution}`,
      description: claim.reason,
      metadata: { discrepancyId: id, provider, resolution: claim.resolution },
      requestedAt: at(),
    };
    const run = { correlationId: correlationIdOf(request.res!.locals), actor: claim.by };
    return deps.movements.run(providerJournalPlan('correction', claim.journalId, movement), run, attempt);
  };

  /** Why a claimed correction did not post, or undefined once its journal completed. */
  const correctionFailure = async (request: Request, id: string, claim: Claim, attempt: MovementAttempt): Promise<MovementFailure | undefined> => {
    try {
      const outcome = await postCorrection(request, id, claim, attempt);
      if (outcome.status === 'completed') return undefined;
      return outcome.failure ?? { type: 'refused', detail: 'the correcting journal was refused' };
    } catch (error) {
      // A refused first leg wrote nothing. Anything else (the store down) may have posted it: the
      // claim then stays, for a retry or the takeover to finish.
      if (!isRefusal(error)) throw error;
      return { type: error.type, detail: error.message };
    }
  };

  /**
   * Posts a claimed resolution's journal, then records the resolution if the journal completed;
   * otherwise releases the claim, so that another resolution can be tried, and throws why.
   */
  const finishClaim = async (request: Request, id: string, claim: Claim, attempt: MovementAttempt) => {
    const failure = await correctionFailure(request, id, claim, attempt);
    const { resolution, journalId, by, reason } = claim;
    if (failure === undefined) return record(request, `resolve-${journalId}`, { type: 'resolve', discrepancyId: id, resolution, journalId, by, reason, at: at() });
    await record(request, `fail-resolution-${journalId}`, { type: 'fail-resolution', discrepancyId: id, journalId, failure, by, reason, at: at() });
    throw new CorrectingJournalFailedError(id, journalId, failure);
  };

  /** A resolution another request claimed and left unfinished (cut short), finished as claimed. */
  const finishAbandoned = async (request: Request, id: string, claim: Claim) => {
    try {
      await finishClaim(request, id, claim, { retry: true });
    } catch (error) {
      // Its journal did not post and its claim is released: the request taking over goes on.
      if (!(error instanceof CorrectingJournalFailedError)) throw error;
    }
  };

  router.post(
    '/v1/reconciliation/discrepancies/:id/resolve',
    jsonBody(),
    idempotentHandler<{ id: string; body: z.output<typeof resolveSchema> }>({
      store: deps.idempotency,
      required: true,
      callerOf: deps.callerOf,
      resourceIdFactory: deps.ids.nextId,
      parse: parseWith(resolveSchema),
      handle: async (request, { id, body }, journalId, attempt) => {
        const by = deps.callerOf(request);
        const resolveWithoutMoney = () =>
          record(request, `resolve-${journalId}`, { type: 'resolve', discrepancyId: id, resolution: body.resolution, by, reason: body.reason, at: at() });
        // A resolution moving no money that an earlier attempt recorded: recorded again, it replays,
        // whatever the read model and the case show since.
        if (body.resolution === 'no_action' && (await recordedBefore(id, `resolve-${journalId}`))) return resolveWithoutMoney();
        const caseOf = async () => (await cases.load(reconciliationStream(id), { fresh: true })).state;
        let state = await caseOf();
        if (!begunBy(state, journalId)) await admit(id, 'resolve', body.correction);
        const unfinished = state.resolving;
        const abandoned = unfinished !== undefined && deps.clock().getTime() - Date.parse(unfinished.startedAt) >= CLAIM_ABANDONED_AFTER_MS;
        if (state.resolved === undefined && abandoned && unfinished.journalId !== journalId) {
          await finishAbandoned(request, id, unfinished);
          state = await caseOf();
        }
        const refusal = resolutionRefusal(state, id, journalId, attempt);
        if (refusal !== undefined) throw refusal;
        if (body.resolution === 'no_action' || body.correction === undefined) return resolveWithoutMoney();

        const claim = { resolution: body.resolution, journalId, correction: body.correction, by, reason: body.reason };
        // Claimed first, with the stream's expected revision: of requests resolving at once,
        // one claims the discrepancy and posts its journal, the others are refused before any money moves.
        // A claim is new work, started only within the lease of the request's own: a claim left by a
        // run past it would be finished by a later resolution under another key.
        if (!begunBy(state, journalId)) ensureClaimLeaseHeld(attempt.claimValidUntil, deps.clock);
        if (state.resolved === undefined)
          await cases.handle(
            reconciliationStream(id),
            { type: 'start-resolution', discrepancyId: id, ...claim, at: at() },
            commandContextOf(deps, request, request.res!, `start-resolution-${journalId}`),
          );
        const answer = await finishClaim(request, id, claim, attempt);
        const { amount, currency } = body.correction;
        return { ...answer, body: { ...answer.body, correction: { journal: journalStream('correction', journalId), amount: formatMinorUnits(amount), currency } } };
      },
    }),
  );
  return router;
};

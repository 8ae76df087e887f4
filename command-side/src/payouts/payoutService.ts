import {
  accountStream,
  journalStream,
  payoutStream,
  systemAccountId,
  WrongExpectedRevisionError,
  type CurrencyCode,
  type EventStore,
  type PaymentProvider,
  type SnowflakeGenerator,
} from '@folio/shared';
import { AccountCurrencyMismatchError, AccountNotFoundError, SystemAccountNotAllowedError } from '../accounts/accountErrors.js';
import type { AccountCommandHandler } from '../accounts/accountCommandHandler.js';
import type { CommandContext } from '../commandHandling/decider.js';
import { createKeyedLock } from '../concurrency/keyedLock.js';
import { ensureClaimLeaseHeld } from '../idempotency/claimLease.js';
import { providerJournalPlan } from '../movements/movement.js';
import type { MovementAttempt, MovementProcess, RunContext } from '../movements/movementProcess.js';
import { ProviderRefusedError, ProviderUnavailableError } from '../providers/providerErrors.js';
import type { ProviderReferences } from '../providers/providerReferences.js';
import type { ProviderRegistry } from '../providers/providerRegistry.js';
import type { PayoutCommandHandler } from './payoutCommandHandler.js';
import { classifyPayoutCallback, REFUSED_BY_PROVIDER, type PayoutCommand } from './payoutDecider.js';
import { IllegalPayoutTransitionError, PayoutJournalRefusedError, PayoutNotFoundError } from './payoutErrors.js';
import { holdPlacementCommandId, openHoldReleaseCommandId } from './payoutHoldCommands.js';
import { isOpen, type ExistingPayout, type PayoutCallback } from './payoutState.js';
import { payoutView, type PayoutView } from './payoutView.js';
import type { OpenPayout } from './payoutDeadlineRecovery.js';

export interface PayoutRequest {
  accountId: string;
  amount: bigint;
  currency: CurrencyCode;
  provider: PaymentProvider;
  destination: string;
}

export interface PayoutServiceDependencies {
  eventStore: EventStore;
  payouts: PayoutCommandHandler;
  accounts: AccountCommandHandler;
  movements: MovementProcess;
  references: ProviderReferences;
  providers: ProviderRegistry;
  ids: SnowflakeGenerator;
  clock: () => Date;
  /** Without the provider's answer by then, the hold is released and the payout fails. */
  timeoutMs: number;
  onError: (error: unknown) => void;
}

const TIMEOUT_ACTOR = 'folio:payout-timeout';
const RECOVERY_ACTOR = 'folio:payout-recovery';

/** Node's timers wait at most 2^31-1 ms (about 24.8 days): a longer delay fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A deadline run that failed is retried after this, doubling on each failure up to the maximum. */
const EXPIRY_RETRY_BASE_MS = 1_000;
const EXPIRY_RETRY_MAX_MS = 300_000;

/** Each round a callback is judged again follows another writer's progress on the payout: a few settle it. */
const MAX_JUDGING_ROUNDS = 5;

/** Why a payout whose hold was placed but which was never requested fails, its hold released. */
const ABANDONED = 'the payout was interrupted before the provider was asked';

/** The purpose of a payout's hold; the hold's id is the payout's. */
export const PAYOUT_HOLD = 'payout';

/**
 * Payouts in two phases. The amount is held on the account first: the hold is where the balance
 * is checked, under the account stream's optimistic concurrency, so two payouts racing on one
 * account can never hold more than it has. Then the provider is asked; its answer (a callback)
 * posts the hold as the payout journal (account → bank) or releases it, and so does the deadline
 * passing without an answer. Meanwhile the held amount counts against the available balance.
 * The answer is recorded before its money moves: one whose posting was interrupted is completed
 * on the next callback, at the deadline or at a restart, and never overruled by the deadline.
 */
export const createPayoutService = (deps: PayoutServiceDependencies) => {
  const { payouts, accounts, movements, references, providers, clock } = deps;
  const locked = createKeyedLock();
  const timers = new Map<string, NodeJS.Timeout>();
  let stopped = false;
  const now = () => clock().toISOString();
  const contextOf = (run: RunContext, commandId: string): CommandContext => ({
    commandId,
    correlationId: run.correlationId,
    actor: run.actor,
    now: clock(),
  });
  const handle = (payoutId: string, command: PayoutCommand, run: RunContext, commandId: string) =>
    payouts.handle(payoutStream(payoutId), command, contextOf(run, commandId));
  const cause = (callbackEventId: string | undefined) => (callbackEventId === undefined ? {} : { callbackEventId });

  const load = async (payoutId: string, fresh = false) => {
    const { state, revision, position } = await payouts.load(payoutStream(payoutId), { fresh });
    if (!state.exists) throw new PayoutNotFoundError(payoutId);
    return { payout: state, revision, position };
  };

  const find = async (payoutId: string): Promise<ExistingPayout | undefined> => {
    const { state } = await payouts.load(payoutStream(payoutId));
    return state.exists ? state : undefined;
  };

  type HoldOf = Pick<ExistingPayout, 'accountId' | 'payoutId'>;

  const holdsOpen = async ({ accountId, payoutId }: HoldOf): Promise<boolean> => {
    const { state: account } = await accounts.load(accountStream(accountId), { fresh: true });
    return account.exists && account.holds[payoutId] !== undefined;
  };

  /** Releases the payout's hold open on its account, under its placement's release; nothing happens once it is gone. */
  const releaseHold = async (hold: HoldOf, reason: string, run: RunContext) => {
    if (!(await holdsOpen(hold))) return;
    const { accountId, payoutId } = hold;
    const commandId = await openHoldReleaseCommandId(deps.eventStore, accountId, payoutId);
    if (commandId === undefined) return;
    await accounts.handle(
      accountStream(accountId),
      { type: 'ReleaseHold', accountId, holdId: payoutId, reason },
      contextOf(run, commandId),
    );
  };

  /**
   * Releases the hold of a payout whose request is not recorded (the provider was never asked).
   * Another process may be requesting it still: the payout's stream decides which of the two comes
   * first, its request or its abandonment, so a hold is never released under a recorded request.
   */
  const abandon = async (hold: HoldOf, run: RunContext) => {
    const { accountId, payoutId } = hold;
    const abandoned = await payouts.handle(
      payoutStream(payoutId),
      { type: 'AbandonPayout', payoutId, accountId, reason: ABANDONED, at: now() },
      contextOf(run, `abandon-${payoutId}`),
    );
    if (!abandoned.state.exists) await releaseHold(hold, ABANDONED, run);
  };

  /**
   * Fails the payout, then releases its hold: recorded before its money moves, so an interruption
   * between the two leaves a FAILED payout still holding, which repair releases, never an open
   * payout with nothing held. Its deadline stays armed until the hold is released: no answer or
   * retry may come to release it otherwise (a payout the provider refused). A payout the provider
   * reported paid is refused here, hold kept.
   */
  const release = async (
    payout: ExistingPayout,
    reason: string,
    timedOut: boolean,
    run: RunContext,
    callbackEventId?: string,
  ) => {
    await recordFailure(payout, reason, timedOut, run, callbackEventId);
    // Released for the failure recorded (the provider's answer's, if it came first), as any other
    // release of this hold is: one release command, whoever runs it.
    const { payout: failed } = await load(payout.payoutId);
    await releaseHold(payout, failed.failureReason ?? reason, run);
    clearTimer(payout.payoutId);
  };

  const recordFailure = async (
    payout: ExistingPayout,
    reason: string,
    timedOut: boolean,
    run: RunContext,
    callbackEventId?: string,
  ) => {
    const failed: PayoutCommand = { type: 'MarkPayoutFailed', reason, timedOut, at: now(), ...cause(callbackEventId) };
    await handle(payout.payoutId, failed, run, `failed-${payout.payoutId}`);
  };

  /** `retry`: an earlier run may have posted part of the journal, so the log is consulted first. */
  const post = async (payout: ExistingPayout, run: RunContext, retry: boolean, callbackEventId?: string) => {
    const plan = providerJournalPlan('payout', payout.payoutId, {
      fromAccountId: payout.accountId,
      toAccountId: systemAccountId({ role: 'bank', currency: payout.currency }),
      amount: payout.amount,
      currency: payout.currency,
      reference: `payout ${payout.payoutId}`,
      metadata: { payoutId: payout.payoutId, provider: payout.provider, destination: payout.destination },
      requestedAt: payout.requestedAt,
    });
    const outcome = await movements.run(plan, run, { retry });
    // A reversed journal moved no money: the payout is not paid on the books.
    if (outcome.status === 'failed') {
      throw new PayoutJournalRefusedError(
        outcome.failure?.type ?? 'refused',
        outcome.failure?.detail ?? `the payout journal of ${payout.payoutId} was refused`,
      );
    }
    const paid: PayoutCommand = { type: 'MarkPayoutPaid', at: now(), ...cause(callbackEventId) };
    await handle(payout.payoutId, paid, run, `paid-${payout.payoutId}`);
    clearTimer(payout.payoutId);
  };

  /** Moves the money the provider's answer says: posts the hold when paid, releases it when failed. */
  const effect = (payout: ExistingPayout, answer: PayoutCallback, run: RunContext, retry: boolean) =>
    answer.callbackType === 'payout.paid'
      ? post(payout, run, retry, answer.eventId)
      : release(payout, answer.reason ?? REFUSED_BY_PROVIDER, false, run, answer.eventId);

  /**
   * The payout, with what an interrupted run left of it completed from the log first: a posted
   * journal means it was paid, an answer recorded without its money moved is effected, and a
   * failed payout still holding is released. An open payout whose hold is gone with no answer and
   * no journal (a release interrupted before failures were recorded first) can no longer be paid:
   * it fails, so a late `payout.paid` is flagged instead of posting a hold that is not there.
   */
  const repaired = async (payoutId: string, run: RunContext): Promise<ExistingPayout> => {
    const { payout } = await load(payoutId, true);
    if (payout.state === 'FAILED') await releaseHold(payout, payout.failureReason ?? 'the payout failed', run);
    if (!isOpen(payout)) return payout;
    const journal = await movements.read(journalStream('payout', payoutId));
    if (journal?.outcome.status === 'completed') await post(payout, run, true, payout.answer?.eventId);
    else if (payout.answer !== undefined) await effect(payout, payout.answer, run, true);
    else if (journal === undefined && !(await holdsOpen(payout))) {
      // Its hold is gone already, released under this payout's release command: nothing to release.
      await recordFailure(payout, 'its hold was released before the payout ended', false, run);
      clearTimer(payoutId);
    } else return payout;
    return (await load(payoutId)).payout;
  };

  const clearTimer = (payoutId: string) => {
    clearTimeout(timers.get(payoutId));
    timers.delete(payoutId);
  };

  /** Failed runs of a deadline in a row, by payout: the next one waits longer. */
  const expiryFailures = new Map<string, number>();

  /**
   * What the deadline does, its callers holding the payout's lock: what an interrupted run left is
   * completed first (the provider's answer decides), and a payout still open fails as timed out,
   * its hold released. Throws while it cannot be done.
   */
  const endAtDeadline = async (payoutId: string) => {
    const run = { correlationId: `payout-${payoutId}`, actor: TIMEOUT_ACTOR };
    const payout = await repaired(payoutId, run);
    if (isOpen(payout)) await release(payout, 'no answer from the provider before the deadline', true, run);
  };

  /** A deadline whose run failed (the store unreachable) is run again, or the payout would stay open. */
  const expire = (payoutId: string) =>
    locked(payoutId, async () => {
      timers.delete(payoutId);
      await endAtDeadline(payoutId);
      expiryFailures.delete(payoutId);
    }).catch((error: unknown) => {
      deps.onError(error);
      const failures = (expiryFailures.get(payoutId) ?? 0) + 1;
      expiryFailures.set(payoutId, failures);
      const wait = Math.min(EXPIRY_RETRY_MAX_MS, EXPIRY_RETRY_BASE_MS * 2 ** (failures - 1));
      schedule(payoutId, new Date(clock().getTime() + wait).toISOString());
    });

  /** Arms the payout's deadline; one further away than a timer can wait is re-armed on the way. */
  const schedule = (payoutId: string, deadline: string) => {
    if (stopped) return;
    clearTimer(payoutId);
    const wait = Math.max(0, Date.parse(deadline) - clock().getTime());
    const timer =
      wait > MAX_TIMER_MS
        ? setTimeout(() => schedule(payoutId, deadline), MAX_TIMER_MS)
        : setTimeout(() => void expire(payoutId), wait);
    timer.unref();
    timers.set(payoutId, timer);
  };

  /** Holds the amount (the balance check: refused here, nothing is written) and records the request. */
  const place = async (payoutId: string, request: PayoutRequest, run: RunContext, retry: boolean) => {
    // Abandoned already (retried after a restart released its hold), it fails without holding.
    const { state } = await payouts.load(payoutStream(payoutId), { fresh: retry });
    if (state.exists || state.abandoned === undefined) {
      await accounts.handle(
        accountStream(request.accountId),
        {
          type: 'PlaceHold',
          accountId: request.accountId,
          holdId: payoutId,
          amount: request.amount,
          currency: request.currency,
          purpose: PAYOUT_HOLD,
        },
        // Retried before the payout was requested, the hold is either still open (placing it again
        // changes nothing) or was released by a restart abandoning the payout meanwhile: then it is
        // placed again and released, under this placement's release, once the request finds the
        // payout abandoned, so the command is decided on the account's holds, not replayed by its id.
        contextOf(run, holdPlacementCommandId(payoutId, retry ? deps.ids.nextId() : undefined)),
      );
    }
    const deadline = new Date(clock().getTime() + deps.timeoutMs).toISOString();
    await handle(payoutId, { type: 'RequestPayout', payoutId, ...request, at: now(), deadline }, run, `request-${payoutId}`);
    const { payout } = await load(payoutId);
    if (isOpen(payout)) schedule(payoutId, deadline);
    // Abandoned by a starting process that took it for interrupted: recorded failed, so the
    // provider is not asked, and its hold released, if that process has not released it yet.
    else await releaseHold(payout, payout.failureReason ?? ABANDONED, run);
    return payout;
  };

  /**
   * Asks the provider, which knows the payout by its id (asked again, it answers the same). Only
   * its refusal releases the hold: a provider that could not be reached (a timeout, a lost
   * connection) may have taken the payout, and once it took it, a failure to record that leaves
   * the payout open too, holding, for a retry, the provider's answer or the deadline.
   */
  const submit = async (payout: ExistingPayout, run: RunContext) => {
    const { payoutId, amount, currency, destination } = payout;
    let providerRef: string;
    try {
      ({ providerRef } = await providers.adapterFor(payout.provider).submitPayout({ payoutId, amount, currency, destination }));
    } catch (error) {
      if (error instanceof ProviderRefusedError) {
        return release(payout, `the provider did not take the payout: ${error.message}`, false, run);
      }
      throw new ProviderUnavailableError(payout.provider, error instanceof Error ? error.message : String(error));
    }
    await references.claim(payout.provider, providerRef, { resource: 'payout', resourceId: payoutId }, run);
    try {
      await handle(payoutId, { type: 'SubmitPayout', providerRef, at: now() }, run, `submit-${payoutId}`);
    } catch (error) {
      // Ended meanwhile by another instance (the provider's answer, naming the payout by its id,
      // overtook this one, or a deadline passed there): the request answers the payout as it ended.
      if (!(error instanceof IllegalPayoutTransitionError) || isOpen((await load(payoutId, true)).payout)) throw error;
    }
  };

  /**
   * The payout as a request answers it, at the position of the request's last event: a failed
   * payout's hold is released after its failure is recorded, on the account's stream, and a
   * reader given the position must see it released.
   */
  const requestAnswer = async (payoutId: string): Promise<PayoutView> => {
    const { payout, position } = await load(payoutId);
    if (payout.state !== 'FAILED') return payoutView(payout, position);
    const { position: released } = await accounts.load(accountStream(payout.accountId), { fresh: true });
    return payoutView(payout, released !== undefined && (position === undefined || released > position) ? released : position);
  };

  /** A payout the provider may not have been asked about yet, and may still be asked about. */
  const awaitsSubmission = (payout: ExistingPayout) =>
    payout.state === 'PENDING' && Date.parse(payout.deadline) > clock().getTime();

  return {
    /**
     * `retry`: an earlier attempt may have requested the payout. It is then answered from the
     * payout's state: its hold is not placed again, and a payout that ended is not sent again.
     * A payout not requested yet is placed only within the lease of the request's claim.
     */
    async request(payoutId: string, request: PayoutRequest, run: RunContext, attempt: MovementAttempt): Promise<PayoutView> {
      const { state: account } = await accounts.load(accountStream(request.accountId));
      if (!account.exists) throw new AccountNotFoundError(request.accountId);
      if (account.kind === 'system') throw new SystemAccountNotAllowedError(request.accountId);
      if (account.currency !== request.currency) {
        throw new AccountCurrencyMismatchError(account.accountId, account.currency, request.currency);
      }
      // An unconfigured provider is refused before anything is written.
      providers.adapterFor(request.provider);
      return locked(payoutId, async () => {
        const requested = attempt.retry && (await find(payoutId)) !== undefined;
        if (!requested) ensureClaimLeaseHeld(attempt.claimValidUntil, clock);
        const payout = requested ? await repaired(payoutId, run) : await place(payoutId, request, run, attempt.retry);
        if (payout.state === 'PENDING' && (!requested || awaitsSubmission(payout))) await submit(payout, run);
        return requestAnswer(payoutId);
      });
    },

    /**
     * Records a provider callback about the payout; the first answer posts or releases the hold.
     * An earlier answer whose money did not move (its posting failed) is effected first. The
     * outcome answered is the one recorded, and only a callback recorded as the answer moves money.
     */
    receiveCallback: (payoutId: string, callback: PayoutCallback, run: RunContext) =>
      locked(payoutId, async () => {
        const commandId = `callback-${callback.eventId}-${deps.ids.nextId()}`;
        for (let round = 1; ; round++) {
          await repaired(payoutId, run);
          const { payout, revision } = await load(payoutId);
          const classification = classifyPayoutCallback(payout, callback);
          try {
            // Recorded only on the payout it was judged on: another instance's answer or deadline
            // recorded meanwhile makes it judged again, so the money moves as the record says.
            await payouts.handle(
              payoutStream(payoutId),
              { type: 'ReceivePayoutCallback', callback, at: now() },
              contextOf(run, commandId),
              { expectedRevision: revision },
            );
          } catch (error) {
            if (error instanceof WrongExpectedRevisionError && round < MAX_JUDGING_ROUNDS) continue;
            throw error;
          }
          if (classification.outcome === 'applied') await effect(payout, callback, run, false);
          return classification;
        }
      }),

    get: async (payoutId: string): Promise<PayoutView> => {
      const { payout, position } = await load(payoutId, true);
      return payoutView(payout, position);
    },

    /** The payout with this id, if there is one (for callbacks that name Folio's id). */
    find,

    /**
     * Ends a payout past its deadline as its deadline does, whichever process took it (its timer
     * may have gone with that process): the deadline's commands are the same, whoever runs them,
     * so the payout fails and its hold is released once. Throws while it cannot be done.
     */
    endPastDeadline: (payoutId: string): Promise<void> => locked(payoutId, () => endAtDeadline(payoutId)),

    /**
     * Releases the hold of a payout whose request a run that placed it failed to record (the store
     * unreachable, the run interrupted), unless the payout was requested meanwhile, as a restart
     * does. Throws while it cannot be done.
     */
    abandonUnrequested: (hold: HoldOf): Promise<void> =>
      locked(hold.payoutId, () => abandon(hold, { correlationId: `payout-${hold.payoutId}`, actor: RECOVERY_ACTOR })),

    /**
     * After a restart, over the payouts open as deadline recovery folded them up to the head of
     * the log: effects the answers a crash kept from moving their money, re-arms the deadlines of
     * the payouts still waiting for the provider, and releases the holds of payouts a crash
     * interrupted before they were requested (the provider was never asked) or after they were
     * recorded failed. What cannot be done now is reported; deadline recovery tries it again.
     */
    async resume(open: readonly OpenPayout[]): Promise<void> {
      const run = { correlationId: 'payout-recovery', actor: RECOVERY_ACTOR };
      for (const { payoutId, deadline, failed, answered, accountId } of open) {
        if (accountId !== undefined) {
          await locked(payoutId, () => abandon({ accountId, payoutId }, run)).catch(deps.onError);
          continue;
        }
        if (!failed) schedule(payoutId, deadline);
        // Left to the deadline if it fails now.
        if (failed || answered) await locked(payoutId, () => repaired(payoutId, run)).catch(deps.onError);
      }
    },

    stop(): void {
      stopped = true;
      for (const payoutId of [...timers.keys()]) clearTimer(payoutId);
    },
  };
};

export type PayoutService = ReturnType<typeof createPayoutService>;

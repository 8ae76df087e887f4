import {
  accountStream,
  payoutStream,
  systemAccountId,
  type CurrencyCode,
  type EventStore,
  type PaymentProvider,
  type SnowflakeGenerator,
} from '@folio/shared';
import { AccountCurrencyMismatchError, AccountNotFoundError, SystemAccountNotAllowedError } from '../accounts/accountErrors.js';
import type { AccountCommandHandler } from '../accounts/accountCommandHandler.js';
import type { CommandContext } from '../commandHandling/decider.js';
import { createKeyedLock } from '../concurrency/keyedLock.js';
import { providerJournalPlan } from '../movements/movement.js';
import type { MovementProcess, RunContext } from '../movements/movementProcess.js';
import type { ProviderReferences } from '../providers/providerReferences.js';
import type { ProviderRegistry } from '../providers/providerRegistry.js';
import type { PayoutCommandHandler } from './payoutCommandHandler.js';
import { classifyPayoutCallback, type PayoutCommand } from './payoutDecider.js';
import { PayoutNotFoundError } from './payoutErrors.js';
import { isOpen, type ExistingPayout, type PayoutCallback } from './payoutState.js';
import { payoutView, type PayoutView } from './payoutView.js';

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

/** The purpose of a payout's hold; the hold's id is the payout's. */
export const PAYOUT_HOLD = 'payout';

/**
 * Payouts in two phases. The amount is held on the account first: the hold is where the balance
 * is checked, under the account stream's optimistic concurrency, so two payouts racing on one
 * account can never hold more than it has. Then the provider is asked; its answer (a callback)
 * posts the hold as the payout journal (account → bank) or releases it, and so does the deadline
 * passing without an answer. Meanwhile the held amount counts against the available balance.
 */
export const createPayoutService = (deps: PayoutServiceDependencies) => {
  const { payouts, accounts, movements, references, providers, clock } = deps;
  const locked = createKeyedLock();
  const timers = new Map<string, NodeJS.Timeout>();
  const now = () => clock().toISOString();
  const contextOf = (run: RunContext, commandId: string): CommandContext => ({
    commandId,
    correlationId: run.correlationId,
    actor: run.actor,
    now: clock(),
  });
  const handle = (payoutId: string, command: PayoutCommand, run: RunContext, commandId: string) =>
    payouts.handle(payoutStream(payoutId), command, contextOf(run, commandId));

  const load = async (payoutId: string, fresh = false) => {
    const { state, position } = await payouts.load(payoutStream(payoutId), { fresh });
    if (!state.exists) throw new PayoutNotFoundError(payoutId);
    return { payout: state, position };
  };

  const release = async (
    payout: ExistingPayout,
    reason: string,
    timedOut: boolean,
    run: RunContext,
    callbackEventId?: string,
  ) => {
    await accounts.handle(
      accountStream(payout.accountId),
      { type: 'ReleaseHold', accountId: payout.accountId, holdId: payout.payoutId, reason },
      contextOf(run, `release-${payout.payoutId}`),
    );
    await handle(
      payout.payoutId,
      { type: 'MarkPayoutFailed', reason, timedOut, at: now(), ...(callbackEventId === undefined ? {} : { callbackEventId }) },
      run,
      `failed-${payout.payoutId}`,
    );
    clearTimer(payout.payoutId);
  };

  const post = async (payout: ExistingPayout, run: RunContext, callbackEventId?: string) => {
    const plan = providerJournalPlan('payout', payout.payoutId, {
      fromAccountId: payout.accountId,
      toAccountId: systemAccountId({ role: 'bank', currency: payout.currency }),
      amount: payout.amount,
      currency: payout.currency,
      reference: `payout ${payout.payoutId}`,
      metadata: { payoutId: payout.payoutId, provider: payout.provider, destination: payout.destination },
      requestedAt: payout.requestedAt,
    });
    await movements.run(plan, run, { retry: false });
    await handle(
      payout.payoutId,
      { type: 'MarkPayoutPaid', at: now(), ...(callbackEventId === undefined ? {} : { callbackEventId }) },
      run,
      `paid-${payout.payoutId}`,
    );
    clearTimer(payout.payoutId);
  };

  const clearTimer = (payoutId: string) => {
    clearTimeout(timers.get(payoutId));
    timers.delete(payoutId);
  };

  const expire = (payoutId: string) =>
    locked(payoutId, async () => {
      timers.delete(payoutId);
      const { payout } = await load(payoutId, true);
      if (!isOpen(payout)) return;
      const run = { correlationId: `payout-${payoutId}`, actor: TIMEOUT_ACTOR };
      await release(payout, 'no answer from the provider before the deadline', true, run);
    }).catch(deps.onError);

  const schedule = (payoutId: string, deadline: string) => {
    clearTimer(payoutId);
    const timer = setTimeout(() => void expire(payoutId), Math.max(0, Date.parse(deadline) - clock().getTime()));
    timer.unref();
    timers.set(payoutId, timer);
  };

  return {
    async request(payoutId: string, request: PayoutRequest, run: RunContext): Promise<PayoutView> {
      const { state: account } = await accounts.load(accountStream(request.accountId));
      if (!account.exists) throw new AccountNotFoundError(request.accountId);
      if (account.kind === 'system') throw new SystemAccountNotAllowedError(request.accountId);
      if (account.currency !== request.currency) {
        throw new AccountCurrencyMismatchError(account.accountId, account.currency, request.currency);
      }
      const adapter = providers.adapterFor(request.provider);
      return locked(payoutId, async () => {
        // The balance check: refused here, nothing is written.
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
          contextOf(run, `hold-${payoutId}`),
        );
        const deadline = new Date(clock().getTime() + deps.timeoutMs).toISOString();
        await handle(payoutId, { type: 'RequestPayout', payoutId, ...request, at: now(), deadline }, run, `request-${payoutId}`);
        schedule(payoutId, deadline);
        let { payout } = await load(payoutId);
        try {
          const { providerRef } = await adapter.submitPayout({
            payoutId,
            amount: request.amount,
            currency: request.currency,
            destination: request.destination,
          });
          await references.claim(request.provider, providerRef, { resource: 'payout', resourceId: payoutId }, run);
          await handle(payoutId, { type: 'SubmitPayout', providerRef, at: now() }, run, `submit-${payoutId}`);
        } catch (error) {
          ({ payout } = await load(payoutId));
          const reason = `the provider did not take the payout: ${error instanceof Error ? error.message : String(error)}`;
          if (isOpen(payout)) await release(payout, reason, false, run);
        }
        const loaded = await load(payoutId);
        return payoutView(loaded.payout, loaded.position);
      });
    },

    /** Records a provider callback about the payout; the first answer posts or releases the hold. */
    receiveCallback: (payoutId: string, callback: PayoutCallback, run: RunContext) =>
      locked(payoutId, async () => {
        const { payout } = await load(payoutId);
        const classification = classifyPayoutCallback(payout, callback);
        await handle(
          payoutId,
          { type: 'ReceivePayoutCallback', callback, at: now() },
          run,
          `callback-${callback.eventId}-${deps.ids.nextId()}`,
        );
        if (classification.outcome === 'applied') {
          if (callback.callbackType === 'payout.paid') await post(payout, run, callback.eventId);
          else await release(payout, callback.reason ?? 'refused by the provider', false, run, callback.eventId);
        }
        return classification;
      }),

    get: async (payoutId: string): Promise<PayoutView> => {
      const { payout, position } = await load(payoutId, true);
      return payoutView(payout, position);
    },

    /** The payout with this id, if there is one (for callbacks that name Folio's id). */
    find: async (payoutId: string): Promise<ExistingPayout | undefined> => {
      const { state } = await payouts.load(payoutStream(payoutId));
      return state.exists ? state : undefined;
    },

    /**
     * After a restart: re-arms the deadlines of the payouts still waiting for the provider, and
     * releases the holds of payouts a crash interrupted before they were requested (the provider
     * was never asked).
     */
    async start(): Promise<void> {
      const waiting = new Map<string, string>();
      const requested = new Set<string>();
      const holds = new Map<string, string>();
      const filter = { eventTypePrefixes: ['Payout', 'AccountFundsHeld', 'AccountHoldReleased'] };
      for await (const recorded of deps.eventStore.readAll({ filter })) {
        const data = recorded.data as {
          payoutId?: string;
          deadline?: string;
          holdId?: string;
          accountId?: string;
          purpose?: string;
        };
        switch (recorded.type) {
          case 'PayoutRequested':
            waiting.set(data.payoutId!, data.deadline!);
            requested.add(data.payoutId!);
            break;
          case 'PayoutPaid':
          case 'PayoutFailed':
            waiting.delete(data.payoutId!);
            break;
          case 'AccountFundsHeld':
            if (data.purpose === PAYOUT_HOLD) holds.set(data.holdId!, data.accountId!);
            break;
          case 'AccountHoldReleased':
            holds.delete(data.holdId!);
            break;
        }
      }
      for (const [payoutId, deadline] of waiting) schedule(payoutId, deadline);
      const run = { correlationId: 'payout-recovery', actor: RECOVERY_ACTOR };
      for (const [holdId, accountId] of holds) {
        if (requested.has(holdId)) continue;
        await accounts.handle(
          accountStream(accountId),
          { type: 'ReleaseHold', accountId, holdId, reason: 'the payout was interrupted before the provider was asked' },
          contextOf(run, `release-${holdId}`),
        );
      }
    },

    stop(): void {
      for (const payoutId of [...timers.keys()]) clearTimer(payoutId);
    },
  };
};

export type PayoutService = ReturnType<typeof createPayoutService>;

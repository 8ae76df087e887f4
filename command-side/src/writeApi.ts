import { randomBytes, randomUUID } from 'node:crypto';
import {
  createSnowflakeGenerator,
  holdSoleWriterLock,
  toProblem,
  type EventStore,
  type FolioError,
  type JsonValue,
  type PaymentProvider,
  hasSoleWriter,
} from '@folio/shared';
import { Router, type Request } from 'express';
import { createAccountCommandHandler } from './accounts/accountCommandHandler.js';
import { accountRoutes } from './accounts/accountRoutes.js';
import { depositRoutes } from './deposits/depositRoutes.js';
import type { WriteApiDependencies } from './http/writeApiDependencies.js';
import { createIdempotencyStore, DEFAULT_RETENTION_MS } from './idempotency/index.js';
import { createMovementProcess } from './movements/movementProcess.js';
import {
  createMovementRecovery,
  DEFAULT_RECOVERY_CHECKPOINT_SCHEDULE,
  type RecoveryCheckpointSchedule,
  type StuckMovement,
} from './movements/movementRecovery.js';
import { createSystemAccounts } from './movements/systemAccountOpener.js';
import { operationsRoutes } from './operations/operationsRoutes.js';
import { completeWithRepair, createCallbackRecovery, type CallbackRecoveryOptions } from './payments/callbackRecovery.js';
import { createPaymentCommandHandler } from './payments/paymentCommandHandler.js';
import { paymentRoutes } from './payments/paymentRoutes.js';
import { createMerchantJournalsWaiting } from './payments/merchantJournalsWaiting.js';
import { createPaymentService } from './payments/paymentService.js';
import { createRefundRecovery, type RefundRecoveryOptions } from './payments/refundRecovery.js';
import { createPayoutCommandHandler } from './payouts/payoutCommandHandler.js';
import { payoutRoutes } from './payouts/payoutRoutes.js';
import {
  createPayoutDeadlineRecovery,
  PAYOUT_DEADLINE_GRACE_MS,
  type PayoutDeadlineRecoveryOptions,
} from './payouts/payoutDeadlineRecovery.js';
import { createPayoutService } from './payouts/payoutService.js';
import { createCallbackReceiver } from './providers/callbackReceiver.js';
import { callbackRoutes } from './providers/callbackRoutes.js';
import { createProviderReferences } from './providers/providerReferences.js';
import { createProviderRegistry, type ConfiguredProvider } from './providers/providerRegistry.js';
import { createSandboxProvider, type SandboxFaults, type SandboxProvider } from './providers/sandboxProvider.js';
import { sandboxRoutes } from './providers/sandboxRoutes.js';
import type { DiscrepancyLookup } from './reconciliation/discrepancyLookup.js';
import { reconciliationRoutes } from './reconciliation/reconciliationRoutes.js';
import { statementRoutes } from './statements/statementRoutes.js';
import { createTransferService } from './transfers/transferService.js';
import { transferRoutes } from './transfers/transferRoutes.js';

export interface WriteApiOptions {
  eventStore: EventStore;
  /** Distinguishes the processes minting ids (0–1023). */
  nodeId: number;
  clock?: () => Date;
  idempotencyRetentionMs?: number;
  /** The largest append the event store accepts, in bytes (EventStoreDB's `MaxAppendSize`); none on the embedded store. */
  eventStoreMaxAppendBytes?: number;
  /** A movement open longer than this is reported as stuck. */
  stuckAfterMs?: number;
  callerOf?: (request: Request) => string;
  /** When movement recovery checkpoints the open journals (defaults in `movementRecovery.ts`). */
  recoveryCheckpoint?: Partial<RecoveryCheckpointSchedule>;
  onStuck?: (movements: StuckMovement[]) => void;
  onError?: (error: unknown) => void;
  onWarning?: (message: string, error: unknown) => void;
  /** Adapters of real providers. */
  providers?: ConfiguredProvider[];
  /** Providers the in-process sandbox stands in for (default `sandbox`), delivering its callbacks in-process. */
  sandboxProviders?: PaymentProvider[];
  sandboxFaults?: Partial<SandboxFaults>;
  /** Randomness of the sandbox's faults (seeded in tests). */
  sandboxRandom?: () => number;
  /** Callback signing secrets; a sandbox without one gets a fresh random secret. */
  providerSecrets?: Partial<Record<PaymentProvider, string>>;
  callbackToleranceSeconds?: number;
  payoutTimeoutMs?: number;
  /** A payout still open this long after its deadline is ended by any process (default 60 s). */
  payoutDeadlineGraceMs?: number;
  /** A refund asked of the provider whose answer is not recorded this long after is asked again (default 60 s). */
  refundRetryMs?: number;
  /** How refund recovery's periodic check is scheduled (a timer by default; tests run passes themselves). */
  refundRecoveryChecks?: RefundRecoveryOptions['every'];
  /** A provider callback recorded as applied whose change has not followed this long after is completed (default 60 s). */
  callbackRetryMs?: number;
  /** How callback recovery's periodic check is scheduled (a timer by default; tests run passes themselves). */
  callbackRecoveryChecks?: CallbackRecoveryOptions['every'];
  /** How payout deadline recovery's periodic check is scheduled (a timer by default; tests run passes themselves). */
  payoutDeadlineRecoveryChecks?: PayoutDeadlineRecoveryOptions['every'];
  /** The discrepancies the reconciliation read model knows; without it the exception workflow refuses every id. */
  discrepancies?: DiscrepancyLookup;
  /**
   * On the embedded store: a lock file beside the log, held from `start` to `stop`, so a second
   * process running the write API on the same log refuses to start (see `holdSoleWriterLock`).
   */
  soleWriterLock?: string;
}

/**
 * Callers are not authenticated yet, so they all share one scope for idempotency keys and are
 * recorded as this actor.
 */
const anonymousCaller = (): string => 'anonymous';

const logLine = (fields: Record<string, unknown>) => console.log(JSON.stringify(fields));

/** The write side: its routes, and the recovery of movements interrupted by a crash. */
export const createWriteApi = (options: WriteApiOptions) => {
  const { eventStore } = options;
  const clock = options.clock ?? (() => new Date());
  const onError = options.onError ?? ((error: unknown) => logLine({ level: 'error', msg: 'write side error', error: String(error) }));
  const onWarning = options.onWarning ?? ((msg: string, error: unknown) => logLine({ level: 'warn', msg, error: String(error) }));
  const accounts = createAccountCommandHandler(eventStore);
  const movements = createMovementProcess({
    eventStore,
    accounts,
    systemAccounts: createSystemAccounts(accounts, clock),
    clock,
    newEventId: randomUUID,
  });
  const recovery = createMovementRecovery({
    eventStore,
    process: movements,
    clock,
    stuckAfterMs: options.stuckAfterMs ?? 30_000,
    checkEveryMs: Math.min(options.stuckAfterMs ?? 30_000, 10_000),
    onStuck:
      options.onStuck ??
      ((stuck) => logLine({ level: 'warn', msg: 'movements stuck', count: stuck.length, ids: stuck.map((m) => `${m.kind}-${m.id}`) })),
    onError,
    onWarning,
    ...(options.recoveryCheckpoint === undefined ? {} : { checkpoint: options.recoveryCheckpoint }),
  });
  const idempotency = createIdempotencyStore({
    eventStore,
    clock,
    retentionMs: options.idempotencyRetentionMs ?? DEFAULT_RETENTION_MS,
    // Answers larger than one append of the store are recorded in parts.
    ...(options.eventStoreMaxAppendBytes === undefined ? {} : { maxAppendBytes: options.eventStoreMaxAppendBytes }),
    // Claims of an earlier run are from a crash when this process is the only writer.
    soleWriter: hasSoleWriter(eventStore),
    // A remembered rejection answers exactly as the live one did.
    toProblem: (error: FolioError) => {
      const { instance: _instance, ...problem } = toProblem(error, '');
      return { status: problem.status, body: problem as JsonValue, headers: { 'Content-Type': 'application/problem+json' } };
    },
  });
  const paymentJournals = createMerchantJournalsWaiting({
    eventStore,
    clock,
    checkpointEveryMs: options.recoveryCheckpoint?.everyMs ?? DEFAULT_RECOVERY_CHECKPOINT_SCHEDULE.everyMs,
    onError,
    onWarning,
  });
  const deps: WriteApiDependencies = {
    eventStore,
    accounts,
    movements,
    recovery,
    paymentJournals,
    idempotency,
    ids: createSnowflakeGenerator({ nodeId: options.nodeId, clock: () => clock().getTime() }),
    clock,
    callerOf: options.callerOf ?? anonymousCaller,
    discrepancies: options.discrepancies,
  };

  const sandboxes = new Map<PaymentProvider, SandboxProvider>();
  const sandboxSecrets = new Map<PaymentProvider, string>();
  for (const provider of options.sandboxProviders ?? ['sandbox']) {
    const secret = options.providerSecrets?.[provider] ?? randomBytes(32).toString('hex');
    sandboxSecrets.set(provider, secret);
    sandboxes.set(
      provider,
      createSandboxProvider({
        provider,
        secret,
        clock,
        ...(options.sandboxFaults === undefined ? {} : { faults: options.sandboxFaults }),
        ...(options.sandboxRandom === undefined ? {} : { random: options.sandboxRandom }),
      }),
    );
  }
  const providerRegistry = createProviderRegistry([
    ...(options.providers ?? []),
    ...[...sandboxes].map(([provider, sandbox]) => ({ adapter: sandbox.adapter, secret: sandboxSecrets.get(provider)! })),
  ]);
  const references = createProviderReferences(eventStore, clock);
  const paymentService = createPaymentService({
    payments: createPaymentCommandHandler(eventStore),
    accounts,
    movements,
    references,
    providers: providerRegistry,
    ids: deps.ids,
    clock,
  });
  const refundRetryMs = options.refundRetryMs ?? 60_000;
  const refundRecovery = createRefundRecovery({
    eventStore,
    recover: ({ paymentId, refundId }) => paymentService.recoverRefund(paymentId, refundId),
    clock,
    retryAfterMs: refundRetryMs,
    checkEveryMs: Math.min(refundRetryMs, 10_000),
    ...(options.refundRecoveryChecks === undefined ? {} : { every: options.refundRecoveryChecks }),
    checkpointEveryMs: options.recoveryCheckpoint?.everyMs ?? DEFAULT_RECOVERY_CHECKPOINT_SCHEDULE.everyMs,
    onError,
    onWarning,
  });
  const callbackRetryMs = options.callbackRetryMs ?? 60_000;
  const callbackRecovery = createCallbackRecovery({
    eventStore,
    complete: completeWithRepair(paymentService),
    clock,
    retryAfterMs: callbackRetryMs,
    checkEveryMs: Math.min(callbackRetryMs, 10_000),
    ...(options.callbackRecoveryChecks === undefined ? {} : { every: options.callbackRecoveryChecks }),
    checkpointEveryMs: options.recoveryCheckpoint?.everyMs ?? DEFAULT_RECOVERY_CHECKPOINT_SCHEDULE.everyMs,
    onError,
    onWarning,
  });
  const payoutService = createPayoutService({
    eventStore,
    payouts: createPayoutCommandHandler(eventStore),
    accounts,
    movements,
    references,
    providers: providerRegistry,
    ids: deps.ids,
    clock,
    timeoutMs: options.payoutTimeoutMs ?? 600_000,
    onError,
  });
  const payoutDeadlineGraceMs = options.payoutDeadlineGraceMs ?? PAYOUT_DEADLINE_GRACE_MS;
  const payoutDeadlineRecovery = createPayoutDeadlineRecovery({
    eventStore,
    end: ({ payoutId }) => payoutService.endPastDeadline(payoutId),
    abandon: (hold) => payoutService.abandonUnrequested(hold),
    clock,
    retryAfterMs: payoutDeadlineGraceMs,
    resume: (open) => payoutService.resume(open),
    checkEveryMs: Math.min(payoutDeadlineGraceMs, 10_000),
    ...(options.payoutDeadlineRecoveryChecks === undefined ? {} : { every: options.payoutDeadlineRecoveryChecks }),
    checkpointEveryMs: options.recoveryCheckpoint?.everyMs ?? DEFAULT_RECOVERY_CHECKPOINT_SCHEDULE.everyMs,
    onError,
    onWarning,
  });
  const callbacks = createCallbackReceiver({
    eventStore,
    providers: providerRegistry,
    references,
    payments: paymentService,
    payouts: payoutService,
    clock,
    toleranceSeconds: options.callbackToleranceSeconds ?? 300,
  });
  for (const [provider, sandbox] of sandboxes) {
    sandbox.setDelivery(async (rawBody, signature) => {
      await callbacks.receive(provider, Buffer.from(rawBody), signature, `sandbox-${provider}`);
    });
  }

  const router = Router();
  router.use(accountRoutes(deps));
  router.use(transferRoutes(deps, createTransferService({ accounts, movements, clock })));
  router.use(depositRoutes(deps));
  router.use(paymentRoutes(deps, paymentService, references));
  router.use(payoutRoutes(deps, payoutService));
  router.use(callbackRoutes(callbacks));
  router.use(sandboxRoutes((provider) => sandboxes.get(provider as PaymentProvider)));
  router.use(operationsRoutes(deps));
  router.use(statementRoutes(deps));
  router.use(reconciliationRoutes(deps));

  let lock: { release(): void } | undefined;
  return {
    router,
    /** Follows the log and resumes interrupted movements and callbacks; resolves once they are resumed. */
    start: async () => {
      if (options.soleWriterLock !== undefined) lock ??= holdSoleWriterLock(options.soleWriterLock);
      await recovery.start();
      // After the movements: a capture whose journal was under way is completed from its legs.
      await callbackRecovery.start();
      await payoutDeadlineRecovery.start();
      refundRecovery.start();
      paymentJournals.start();
    },
    stop: async () => {
      payoutService.stop();
      await payoutDeadlineRecovery.stop();
      await refundRecovery.stop();
      await callbackRecovery.stop();
      await paymentJournals.stop();
      await recovery.stop();
      lock?.release();
      lock = undefined;
    },
    /** Every movement between its legs, now. */
    inTransit: () => recovery.open(),
    /** Movements open longer than the stuck threshold, now. */
    stuckMovements: () => recovery.stuck(),
    /** Asks the provider again about every refund whose answer is overdue now (what the periodic check runs). */
    recoverRefunds: () => refundRecovery.recoverDue(),
    /** Refunds asked of the provider whose answer is not recorded, as far as this process has followed the log. */
    refundsAwaitingProvider: () => refundRecovery.awaiting(),
    /** Their number, those overdue and the oldest one's age, as refund recovery last counted them (for the metrics). */
    refundsAwaitingProviderStatus: () => refundRecovery.status(),
    /** Completes every provider callback whose change is overdue now (what the periodic check runs). */
    recoverCallbacks: () => callbackRecovery.recoverDue(),
    /** Provider callbacks recorded as applied whose change has not followed, as far as this process has followed the log. */
    callbacksAwaitingEffect: () => callbackRecovery.awaiting(),
    /** Ends every payout past its deadline and due now, whichever process took it (what the periodic check runs). */
    recoverPayoutDeadlines: () => payoutDeadlineRecovery.recoverDue(),
    /** Payouts open as far as this process has followed the log, each with when it is late (for the metrics). */
    openPayouts: () => payoutDeadlineRecovery.open(),
    /** The in-process sandbox standing in for `provider`, if any. */
    sandbox: (provider: PaymentProvider): SandboxProvider | undefined => sandboxes.get(provider),
  };
};

export type WriteApi = ReturnType<typeof createWriteApi>;

import {
  bigintString,
  defineEvent,
  hasSoleWriter,
  paymentCallbackTypes,
  paymentCatalog,
  snowflakeIdSchema,
  type EventStore,
  type PaymentCallbackType,
  type PaymentStateName,
  type RecordedEvent,
} from '@folio/shared';
import { z } from 'zod';
import type { RunContext } from '../movements/movementProcess.js';
import { createCheckpointedLogFold, snapshotCheckpoints } from '../recovery/checkpointedLogFold.js';
import { awaitsEffect } from './paymentDecider.js';
import type { PaymentService } from './paymentService.js';

/** A provider callback recorded as applied on its payment's stream whose change has not followed there. */
export interface CallbackAwaitingEffect {
  paymentId: string;
  /** The provider's event id. */
  eventId: string;
  callbackType: PaymentCallbackType;
  /** When it was recorded as applied (the record's business time). */
  recordedAt: string;
}

/**
 * Where the callbacks awaiting their change are checkpointed, so that a start folds only the log
 * after the latest checkpoint. No ledger, audit chain or projection reads it (none of their
 * stream-name prefixes matches it, nor does its event type), as `refund-recovery-checkpoints`.
 */
export const CALLBACK_RECOVERY_CHECKPOINT_STREAM = 'callback-recovery-checkpoints';

export const callbacksAwaitingEffectCheckpointed = defineEvent({
  type: 'CallbacksAwaitingEffectCheckpointed',
  version: 1,
  schema: z.object({
    /** The log up to here is folded into `callbacks`: a start follows it after this position. */
    position: bigintString,
    callbacks: z.array(
      z.object({
        paymentId: snowflakeIdSchema,
        eventId: z.string().min(1),
        callbackType: z.enum(paymentCallbackTypes),
        recordedAt: z.iso.datetime(),
      }),
    ),
  }),
});

/**
 * The events that record a callback and those that end its wait: the moves out of the states it
 * awaits in, and a refund started by it. By type alone (see `refundRecovery.ts`).
 */
const FOLDED = {
  eventTypePrefixes: ['PaymentCallbackRecorded', 'PaymentCaptured', 'PaymentFailed', 'PaymentSettled', 'PaymentRefundRequested', 'PaymentRefunded'],
};

/**
 * The states a payment is in while a callback of each type recorded as applied still awaits its
 * change, as `awaitsEffect` says: once the payment left them, the change followed or never will.
 * The fold keeps no payment's state, so it cannot ask `awaitsEffect` itself; a completion asks it
 * of the payment as its stream has it (`completeWithRepair`).
 */
const AWAITED_IN: Record<PaymentCallbackType, readonly PaymentStateName[]> = {
  'payment.captured': ['PENDING'],
  'payment.failed': ['CREATED', 'PENDING'],
  'payment.settled': ['PAID'],
  'payment.refunded': ['PAID', 'SETTLED'],
};

/**
 * Folds payment events into the callbacks recorded as applied whose change has not followed: one
 * opens when `PaymentCallbackRecorded` says `applied`, and ends when a later record of it says
 * otherwise (refused), when the payment moves to a state it does not await in (captured, failed,
 * settled, fully refunded), or, for a refund, when the refund it started is requested. `apply`
 * tells whether the event opened or ended one.
 */
export const createCallbacksAwaitingEffect = (seed: readonly CallbackAwaitingEffect[] = []) => {
  /** By payment, then by the provider's event id. */
  const awaiting = new Map<string, Map<string, CallbackAwaitingEffect>>();
  const open = (callback: CallbackAwaitingEffect): void => {
    const ofPayment = awaiting.get(callback.paymentId) ?? new Map<string, CallbackAwaitingEffect>();
    ofPayment.set(callback.eventId, callback);
    awaiting.set(callback.paymentId, ofPayment);
  };
  const end = (paymentId: string, ends: (callback: CallbackAwaitingEffect) => boolean): boolean => {
    const ofPayment = awaiting.get(paymentId);
    if (ofPayment === undefined) return false;
    let ended = false;
    for (const callback of ofPayment.values()) {
      if (!ends(callback)) continue;
      ofPayment.delete(callback.eventId);
      ended = true;
    }
    if (ofPayment.size === 0) awaiting.delete(paymentId);
    return ended;
  };
  const movedTo = (paymentId: string, state: PaymentStateName): boolean =>
    end(paymentId, (callback) => !AWAITED_IN[callback.callbackType].includes(state));
  for (const callback of seed) open(callback);
  return {
    apply(recorded: RecordedEvent): boolean {
      const event = paymentCatalog.decode(recorded);
      switch (event.type) {
        case 'PaymentCallbackRecorded': {
          const { paymentId, eventId, callbackType, outcome, receivedAt } = event.data;
          // A duplicate says nothing new about the first delivery.
          if (outcome === 'duplicate') return false;
          if (outcome === 'applied') {
            open({ paymentId, eventId, callbackType, recordedAt: receivedAt });
            return true;
          }
          return end(paymentId, (callback) => callback.eventId === eventId);
        }
        case 'PaymentCaptured':
          return movedTo(event.data.paymentId, 'PAID');
        case 'PaymentFailed':
          return movedTo(event.data.paymentId, 'FAILED');
        case 'PaymentSettled':
          return movedTo(event.data.paymentId, 'SETTLED');
        case 'PaymentRefunded':
          return event.data.fullyRefunded && movedTo(event.data.paymentId, 'REFUNDED');
        case 'PaymentRefundRequested': {
          const { paymentId, callbackEventId } = event.data;
          return callbackEventId !== undefined && end(paymentId, (callback) => callback.eventId === callbackEventId);
        }
        default:
          return false;
      }
    },
    /** Ends one a completion found took effect, with no event of the fold's saying so. */
    end: (callback: CallbackAwaitingEffect): boolean => end(callback.paymentId, (other) => other.eventId === callback.eventId),
    list: (): CallbackAwaitingEffect[] => [...awaiting.values()].flatMap((ofPayment) => [...ofPayment.values()]),
  };
};

/** Who writes the checkpoints, and starts the runs (what a run completes is the repair's doing, recorded as a read's). */
export const CALLBACK_RECOVERY_ACTOR = 'folio:callback-recovery';

/**
 * Completes a callback through the payments' own repair: a read of the payment completes, under
 * its lock and the system's name, every callback recorded as applied whose change never followed,
 * each decided at the payment's stream revision, so a completion racing another (a request, a
 * read, another process's recovery) books its change once. Resolves whether the callback's change
 * has followed; not while its journal waits for the merchant's account to take it.
 */
export const completeWithRepair =
  (payments: Pick<PaymentService, 'get' | 'find'>) =>
  async ({ paymentId, eventId }: CallbackAwaitingEffect): Promise<boolean> => {
    const run: RunContext = { correlationId: `callback-recovery-${eventId}`, actor: CALLBACK_RECOVERY_ACTOR };
    await payments.get(paymentId, run);
    const payment = await payments.find(paymentId);
    return !(payment?.applied.some((callback) => callback.eventId === eventId && awaitsEffect(payment, callback)) ?? false);
  };

export interface CallbackRecoveryOptions {
  eventStore: EventStore;
  /**
   * Completes the callback's change: resolves whether it has followed now (false while its journal
   * waits for the merchant's account), throws while it cannot be completed (see `completeWithRepair`).
   */
  complete: (callback: CallbackAwaitingEffect) => Promise<boolean>;
  clock: () => Date;
  /** A callback whose change has not followed this long after it was recorded is completed. */
  retryAfterMs: number;
  /** How often due callbacks are looked for. */
  checkEveryMs: number;
  /** Runs `check` every `everyMs` until the returned function is called (a timer by default). */
  every?: (check: () => void, everyMs: number) => () => void;
  /** Once the fold moves on, a checkpoint is written when this long has passed since the last one (or the start). */
  checkpointEveryMs: number;
  onError: (error: unknown) => void;
  onWarning: (message: string, error: unknown) => void;
}

/** A completion still failing is tried again later each time, up to this long after the last attempt. */
const MAX_BACKOFF_MS = 3_600_000;

/** How long a pass waits for the fold to reach the head of the log before working on what it has. */
const CATCH_UP_WAIT_MS = 5_000;

const everyInterval = (check: () => void, everyMs: number) => {
  const timer = setInterval(check, everyMs);
  timer.unref();
  return () => clearInterval(timer);
};

const keyOf = ({ paymentId, eventId }: CallbackAwaitingEffect) => `${paymentId} ${eventId}`;

/**
 * Finds provider callbacks recorded as applied whose change never followed (a process stopped, or
 * the store failed, between the record and the capture, failure, settlement or refund it calls
 * for) and completes them, so that money the provider confirmed is booked without waiting for a
 * touch of the payment or for the provider to send the callback again on its own schedule.
 *
 * It follows the log as refund recovery does, from its latest checkpoint. Once caught up, before
 * `start` resolves (so before the write API serves), it completes what the log holds: every one
 * for a sole writer, whose earlier run can only have been interrupted; with several writers, those
 * due, as a callback recorded lately is most likely being applied by another process. Then a
 * callback is due `retryAfterMs` after it was recorded; a completion that fails waits twice as long
 * each time before the next, one whose journal waits for the merchant's account is tried at the
 * next check. Several processes may complete the same callback: the repair decides each step at
 * the payment's stream revision, so its change is booked once.
 */
export const createCallbackRecovery = (options: CallbackRecoveryOptions) => {
  const { eventStore, clock } = options;
  const soleWriter = hasSoleWriter(eventStore);
  let awaiting = createCallbacksAwaitingEffect();
  let cancelChecks: (() => void) | undefined;
  /** Resolved on stop: a pass waiting for the fold goes on with what it has. */
  let endWaits!: () => void;
  const waitsEnded = new Promise<void>((resolve) => {
    endWaits = resolve;
  });
  let started!: () => void;
  const ready = new Promise<void>((resolve) => {
    started = resolve;
  });
  /** Failed completions in a row and when the next one is due, by callback. */
  const attempts = new Map<string, { failures: number; nextAt: number }>();
  /** Callbacks found waiting for the merchant's account, warned of once. */
  const waiting = new Set<string>();
  const running = new Set<string>();
  /** The pass running now: a check while one runs joins it. */
  let pass: Promise<void> | undefined;

  const dueAt = (callback: CallbackAwaitingEffect) =>
    attempts.get(keyOf(callback))?.nextAt ?? Date.parse(callback.recordedAt) + options.retryAfterMs;

  const recoverOne = async (callback: CallbackAwaitingEffect) => {
    const key = keyOf(callback);
    const { paymentId, eventId, callbackType, recordedAt } = callback;
    const what = `callback ${eventId} (${callbackType}) on payment ${paymentId}, recorded as applied at ${recordedAt}`;
    running.add(key);
    try {
      const followed = await options.complete(callback);
      attempts.delete(key);
      if (followed) {
        awaiting.end(callback);
        waiting.delete(key);
      } else if (!waiting.has(key)) {
        waiting.add(key);
        options.onWarning(`${what}, waits for the merchant's account to take its journal: completed once it does`, undefined);
      }
    } catch (error) {
      options.onWarning(`${what}, has not taken effect: completed again later`, error);
      const failures = (attempts.get(key)?.failures ?? 0) + 1;
      const wait = Math.max(options.retryAfterMs, Math.min(MAX_BACKOFF_MS, options.retryAfterMs * 2 ** failures));
      attempts.set(key, { failures, nextAt: clock().getTime() + wait });
    } finally {
      running.delete(key);
    }
  };

  /** Completes the callbacks `chosen` picks, one at a time (the store under strain is not stormed). */
  const passOver = async (chosen: (callback: CallbackAwaitingEffect) => boolean, catchUp: boolean): Promise<void> => {
    if (catchUp) await Promise.race([log.waitForHead(CATCH_UP_WAIT_MS), waitsEnded]);
    const open = awaiting.list();
    const openKeys = new Set(open.map(keyOf));
    for (const key of attempts.keys()) if (!openKeys.has(key)) attempts.delete(key);
    for (const key of waiting) if (!openKeys.has(key)) waiting.delete(key);
    for (const callback of open) {
      if (log.stopped()) return;
      if (running.has(keyOf(callback)) || !chosen(callback)) continue;
      await recoverOne(callback);
    }
  };

  const isDue = (callback: CallbackAwaitingEffect) => clock().getTime() >= dueAt(callback);

  const recover = (chosen: (callback: CallbackAwaitingEffect) => boolean, catchUp: boolean): Promise<void> =>
    (pass ??= passOver(chosen, catchUp)
      .catch(options.onError)
      .finally(() => {
        pass = undefined;
      }));

  const log = createCheckpointedLogFold({
    eventStore,
    ...snapshotCheckpoints({
      streamName: CALLBACK_RECOVERY_CHECKPOINT_STREAM,
      name: 'callback recovery checkpoint',
      definition: callbacksAwaitingEffectCheckpointed,
      actor: CALLBACK_RECOVERY_ACTOR,
      correlationId: 'callback-recovery',
      everyMs: options.checkpointEveryMs,
      clock,
      // The callbacks as they are at the position: the snapshot is taken between two messages, so the two agree.
      snapshot: (position) => ({ position, callbacks: awaiting.list() }),
    }),
    filter: FOLDED,
    seed: (latest) => {
      awaiting = createCallbacksAwaitingEffect(latest.callbacks);
      return latest.position;
    },
    apply: (recorded) => {
      try {
        awaiting.apply(recorded);
      } catch (error) {
        options.onError(error);
      }
    },
    followsScans: true,
    caughtUp: async () => {
      // A pass asked for meanwhile ends first; then this one, at the head as it was: the fold waits
      // for it, so it must not wait for the fold.
      while (pass !== undefined) await pass;
      await recover(soleWriter ? () => true : isDue, false);
      if (!log.stopped()) cancelChecks = (options.every ?? everyInterval)(() => void recover(isDue, true), options.checkEveryMs);
      started();
    },
    onError: options.onError,
    onWarning: options.onWarning,
  });

  return {
    /** Starts following the log; resolves once what it held is completed, then looks for due callbacks periodically. */
    start(): Promise<void> {
      log.start();
      return ready;
    },
    /** One pass over the callbacks due now (the periodic check runs the same); resolves when it ends. */
    recoverDue: (): Promise<void> => recover(isDue, true),
    /** The callbacks awaiting their change, as far as the log is folded. */
    awaiting: (): CallbackAwaitingEffect[] => awaiting.list(),
    async stop(): Promise<void> {
      cancelChecks?.();
      // With the last checkpoint: a checkpoint written meanwhile or at stop holds the callbacks as folded.
      await log.stop();
      // A pass waiting for the fold goes on with what it has, and stops before the next callback.
      endWaits();
      await pass;
    },
  };
};

export type CallbackRecovery = ReturnType<typeof createCallbackRecovery>;

import {
  bigintString,
  defineEvent,
  hasSoleWriter,
  paymentCallbackTypes,
  paymentCatalog,
  snowflakeIdSchema,
  type PaymentCallbackType,
  type PaymentStateName,
  type RecordedEvent,
} from '@folio/shared';
import { z } from 'zod';
import type { RunContext } from '../movements/movementProcess.js';
import { createDueWorkRecovery, type DueWorkRecoveryOptions } from '../recovery/dueWorkRecovery.js';
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
  // Refunded in full by a refund that held it back, a payment never settled: the settlement is refused then.
  'payment.settled': ['PAID', 'REFUNDED'],
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
 * has followed; not while its journal waits for the merchant's account to take it, nor while a
 * move under way on the payment holds it back (a refund reserved holds off a settlement).
 */
export const completeWithRepair =
  (payments: Pick<PaymentService, 'get' | 'find'>) =>
  async ({ paymentId, eventId }: CallbackAwaitingEffect): Promise<boolean> => {
    const run: RunContext = { correlationId: `callback-recovery-${eventId}`, actor: CALLBACK_RECOVERY_ACTOR };
    await payments.get(paymentId, run);
    const payment = await payments.find(paymentId);
    return !(payment?.applied.some((callback) => callback.eventId === eventId && awaitsEffect(payment, callback)) ?? false);
  };

export interface CallbackRecoveryOptions extends DueWorkRecoveryOptions {
  /**
   * Completes the callback's change: resolves whether it has followed now (false while its journal
   * waits for the merchant's account, or a move under way holds it back), throws while it cannot be
   * completed (see `completeWithRepair`).
   */
  complete: (callback: CallbackAwaitingEffect) => Promise<boolean>;
  /** A callback whose change has not followed this long after it was recorded is completed. */
  retryAfterMs: number;
}

const keyOf = ({ paymentId, eventId }: CallbackAwaitingEffect) => `${paymentId} ${eventId}`;

const what = ({ paymentId, eventId, callbackType, recordedAt }: CallbackAwaitingEffect) =>
  `callback ${eventId} (${callbackType}) on payment ${paymentId}, recorded as applied at ${recordedAt}`;

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
  let awaiting = createCallbacksAwaitingEffect();
  /** Callbacks found waiting for the merchant's account, warned of once. */
  const waiting = new Set<string>();

  const recovery = createDueWorkRecovery(options, {
    checkpoints: {
      streamName: CALLBACK_RECOVERY_CHECKPOINT_STREAM,
      name: 'callback recovery checkpoint',
      definition: callbacksAwaitingEffectCheckpointed,
      actor: CALLBACK_RECOVERY_ACTOR,
      correlationId: 'callback-recovery',
      // The callbacks as they are at the position: the snapshot is taken between two messages, so the two agree.
      snapshot: (position) => ({ position, callbacks: awaiting.list() }),
    },
    filter: FOLDED,
    seed: (latest) => {
      awaiting = createCallbacksAwaitingEffect(latest.callbacks);
      return latest.position;
    },
    apply: (recorded) => {
      awaiting.apply(recorded);
    },
    open: () => awaiting.list(),
    keyOf,
    openedAt: (callback) => callback.recordedAt,
    work: (callback) => options.complete(callback),
    worked: (callback, followed) => {
      const key = keyOf(callback);
      if (followed) {
        awaiting.end(callback);
        waiting.delete(key);
      } else if (!waiting.has(key)) {
        waiting.add(key);
        const why = "waits for the merchant's account to take its journal, or for a move under way on the payment to end";
        options.onWarning(`${what(callback)}, ${why}: completed once it does`, undefined);
      }
    },
    failed: (callback) => `${what(callback)}, has not taken effect: completed again later`,
    pruned: (openKeys) => {
      for (const key of waiting) if (!openKeys.has(key)) waiting.delete(key);
    },
    atStart: hasSoleWriter(options.eventStore) ? 'all' : 'due',
  });

  return {
    /** Starts following the log; resolves once what it held is completed, then looks for due callbacks periodically. */
    start: (): Promise<void> => recovery.start(),
    /** One pass over the callbacks due now (the periodic check runs the same); resolves when it ends. */
    recoverDue: (): Promise<void> => recovery.recoverDue(),
    /** The callbacks awaiting their change, as far as the log is folded. */
    awaiting: (): CallbackAwaitingEffect[] => awaiting.list(),
    /** With the last checkpoint, holding the callbacks as folded; a pass under way stops before the next callback. */
    stop: (): Promise<void> => recovery.stop(),
  };
};

export type CallbackRecovery = ReturnType<typeof createCallbackRecovery>;

import { bigintString, defineEvent, ledgerCatalog, paymentCatalog, snowflakeIdSchema, type RecordedEvent } from '@folio/shared';
import { z } from 'zod';
import { createDueWorkRecovery, type DueWorkRecoveryOptions } from '../recovery/dueWorkRecovery.js';
import { PAYOUT_HOLD } from './payoutService.js';

/**
 * A payout requested whose deadline may still have to end it: it is not paid, or its failure's
 * hold is not released yet. Or one whose hold is placed without its request recorded yet.
 */
export interface OpenPayout {
  payoutId: string;
  /** When its deadline passes (as its request recorded it); without its request, when its hold was placed. */
  deadline: string;
  /** Recorded failed (its hold may still be held). */
  failed: boolean;
  /** Its hold released (its failure may not be recorded yet). */
  released: boolean;
  /** An answer of the provider's was applied to it, whose money may not have moved yet (a restart effects it). */
  answered: boolean;
  /** Only while its request is not recorded: the account its hold is placed on. */
  accountId?: string;
}

/**
 * Where the open payouts are checkpointed, so that a start folds only the log after the latest
 * checkpoint. No ledger, audit chain or projection reads it (none of their stream-name prefixes
 * matches it, nor does its event type: not `payout-`, not `Payout`), as `refund-recovery-checkpoints`.
 */
export const PAYOUT_DEADLINE_RECOVERY_CHECKPOINT_STREAM = 'deadline-recovery-checkpoints';

export const openPayoutsCheckpointed = defineEvent({
  type: 'OpenPayoutsCheckpointed',
  // 2: a restart resumes payouts from it, so it keeps their applied answers (`answered`) and
  //    holds placed without a request (`accountId`). A version 1 checkpoint may lack either: it is
  //    refused, and the log's payout events are folded from the start once instead.
  version: 2,
  upcasters: {
    1: () => {
      throw new Error('written before open payouts kept their applied answers and their holds placed without a request');
    },
  },
  schema: z.object({
    /** The log up to here is folded into `payouts`: a start follows it after this position. */
    position: bigintString,
    payouts: z.array(
      z.object({
        payoutId: snowflakeIdSchema,
        deadline: z.iso.datetime(),
        failed: z.boolean(),
        released: z.boolean(),
        answered: z.boolean(),
        accountId: snowflakeIdSchema.optional(),
      }),
    ),
  }),
});

/**
 * The events that open and end a payout's wait: its hold's placement, its request, the provider's
 * answers, its end, and its hold's release. By type alone (see `refundRecovery.ts`).
 */
const FOLDED = {
  eventTypePrefixes: ['AccountFundsHeld', 'PayoutRequested', 'PayoutCallbackRecorded', 'PayoutPaid', 'PayoutFailed', 'AccountHoldReleased'],
};

/**
 * Folds payout and account events into the open payouts: one opens with `PayoutRequested`, and
 * ends with `PayoutPaid` (its hold posted) or once it is both recorded failed and its hold
 * released, in either order, as its deadline would finish both. A payout's hold placed before its
 * request opens it too, until its request is recorded or the hold is released.
 */
export const createOpenPayouts = (seed: readonly OpenPayout[] = []) => {
  const open = new Map(seed.map((payout) => [payout.payoutId, { ...payout }]));
  const settle = (payout: OpenPayout): void => {
    if (payout.failed && payout.released) open.delete(payout.payoutId);
  };
  return {
    apply(recorded: RecordedEvent): void {
      if (recorded.type === 'AccountFundsHeld') {
        const event = ledgerCatalog.decode(recorded);
        if (event.type !== 'AccountFundsHeld' || event.data.purpose !== PAYOUT_HOLD) return;
        const { holdId: payoutId, accountId } = event.data;
        // Placed again by a retry of a payout already requested, it is that payout's hold.
        if (open.has(payoutId)) return;
        open.set(payoutId, { payoutId, deadline: recorded.created.toISOString(), failed: false, released: false, answered: false, accountId });
        return;
      }
      if (recorded.type === 'AccountHoldReleased') {
        const event = ledgerCatalog.decode(recorded);
        if (event.type !== 'AccountHoldReleased') return;
        const payout = open.get(event.data.holdId);
        if (payout === undefined) return;
        // Released before its payout was requested (abandoned), nothing is left to end.
        if (payout.accountId !== undefined) {
          open.delete(payout.payoutId);
          return;
        }
        // A hold posted is the payout's journal: `PayoutPaid` follows it, or the deadline records it.
        if (event.data.outcome !== 'released') return;
        payout.released = true;
        settle(payout);
        return;
      }
      const event = paymentCatalog.decode(recorded);
      switch (event.type) {
        case 'PayoutRequested': {
          const { payoutId, deadline } = event.data;
          open.set(payoutId, { payoutId, deadline, failed: false, released: false, answered: false });
          return;
        }
        case 'PayoutCallbackRecorded': {
          const payout = open.get(event.data.payoutId);
          if (payout !== undefined && event.data.outcome === 'applied') payout.answered = true;
          return;
        }
        case 'PayoutPaid':
          open.delete(event.data.payoutId);
          return;
        case 'PayoutFailed': {
          const payout = open.get(event.data.payoutId);
          if (payout === undefined) return;
          payout.failed = true;
          settle(payout);
          return;
        }
        default:
          return;
      }
    },
    /**
     * Ends one its deadline's run ended, whatever the fold has seen of it yet; a hold found
     * requested when it was to be abandoned stays open as the request the fold has seen since.
     */
    end: (payout: OpenPayout): void => {
      if (open.get(payout.payoutId)?.accountId === payout.accountId) open.delete(payout.payoutId);
    },
    list: (): OpenPayout[] => [...open.values()].map((payout) => ({ ...payout })),
  };
};

/** Who writes the checkpoints (the deadline's commands run under the payout timeout's name). */
export const PAYOUT_DEADLINE_RECOVERY_ACTOR = 'folio:payout-deadline-recovery';

/**
 * Another process's timer ends a payout at its deadline; this long after it, any process does
 * (by default; `FOLIO_PAYOUT_DEADLINE_GRACE_SECONDS`).
 */
export const PAYOUT_DEADLINE_GRACE_MS = 60_000;

export interface PayoutDeadlineRecoveryOptions extends DueWorkRecoveryOptions {
  /**
   * Ends the payout as its deadline does (`PayoutService.endPastDeadline`): resolves once it is
   * ended, paid or failed with its hold released, throws while it cannot be.
   */
  end: (payout: OpenPayout) => Promise<void>;
  /**
   * Releases the hold of a payout whose request is not recorded, unless it is recorded meanwhile
   * (`PayoutService.abandonUnrequested`): resolves once done, throws while it cannot be.
   */
  abandon: (hold: { payoutId: string; accountId: string }) => Promise<void>;
  /** A payout still open this long after its deadline is ended here. */
  retryAfterMs: number;
  /**
   * Once the log is folded up to its head at start, with the payouts open then
   * (`PayoutService.resume`): what a restart does for them before the periodic checks begin.
   */
  resume: (open: readonly OpenPayout[]) => Promise<void>;
}

/**
 * Ends payouts past their deadline whichever process took them. The deadline's timer lives only in
 * the process that took the request (or that restarted since), so a process stopped for good (an
 * instance scaled in) would leave its unanswered payouts holding their amounts, money the account
 * holder cannot use, until some process restarts.
 *
 * It follows the log as refund recovery does, from its latest checkpoint, keeping the payouts open
 * whichever process requested them. A payout is due `retryAfterMs` after its deadline, once the
 * timer of the process that took it had its turn; ended, failing, it waits twice as long each time
 * before the next attempt. Several processes may end the same payout at once, and with its own
 * timer: the deadline's commands have fixed ids and the same content whoever runs them (its
 * failure, its hold's release), so it fails and its hold is released once, and the provider's
 * answer recorded first decides, never the deadline.
 *
 * A payout's hold placed by a run that failed to record its request (the store unreachable) would
 * hold its amount until a restart abandons it: it is due `retryAfterMs` after its placement, and
 * abandoned as a restart does, on the payout's stream first, so a request recorded first keeps it.
 */
export const createPayoutDeadlineRecovery = (options: PayoutDeadlineRecoveryOptions) => {
  let open = createOpenPayouts();

  const recovery = createDueWorkRecovery(options, {
    checkpoints: {
      streamName: PAYOUT_DEADLINE_RECOVERY_CHECKPOINT_STREAM,
      name: 'payout deadline recovery checkpoint',
      definition: openPayoutsCheckpointed,
      actor: PAYOUT_DEADLINE_RECOVERY_ACTOR,
      correlationId: 'payout-deadline-recovery',
      // The payouts as they are at the position: the snapshot is taken between two messages, so the two agree.
      snapshot: (position) => ({ position, payouts: open.list() }),
    },
    filter: FOLDED,
    seed: (latest) => {
      open = createOpenPayouts(latest.payouts);
      return latest.position;
    },
    apply: (recorded) => open.apply(recorded),
    open: () => open.list(),
    atStart: (payouts) => options.resume(payouts),
    keyOf: (payout) => payout.payoutId,
    // Due `retryAfterMs` after the deadline, not after the request.
    openedAt: (payout) => payout.deadline,
    work: (payout) =>
      payout.accountId === undefined ? options.end(payout) : options.abandon({ payoutId: payout.payoutId, accountId: payout.accountId }),
    // Ended, paid or released, even where no event the fold sees says so (a hold released before
    // the payout was requested, as an abandoned payout's is).
    worked: (payout) => open.end(payout),
    failed: ({ payoutId, deadline, accountId }) =>
      accountId === undefined
        ? `payout ${payoutId}, past its deadline at ${deadline}, is not ended yet: ended again later`
        : `the hold of payout ${payoutId}, placed at ${deadline} without its request recorded, is not released yet: released again later`,
  });

  return {
    /**
     * Starts following the log from the latest checkpoint; resolves once it has reached the head
     * and `resume` has run over the payouts open then. Then looks for payouts past their deadline.
     */
    start: (): Promise<void> => recovery.start(),
    /**
     * The payouts open now, as far as the log is folded, each with when it is late (for the metrics):
     * its deadline; for a hold without its request, when it is due for release (before that, it is
     * most often a request still being recorded).
     */
    open: (): { payoutId: string; deadline: string }[] =>
      open.list().map(({ payoutId, deadline, accountId }) => ({
        payoutId,
        deadline: accountId === undefined ? deadline : new Date(Date.parse(deadline) + options.retryAfterMs).toISOString(),
      })),
    /** One pass over the payouts due now (the periodic check runs the same); resolves when it ends. */
    recoverDue: (): Promise<void> => recovery.recoverDue(),
    /** With the last checkpoint, holding the open payouts as folded; a pass under way stops before the next payout. */
    stop: (): Promise<void> => recovery.stop(),
  };
};

export type PayoutDeadlineRecovery = ReturnType<typeof createPayoutDeadlineRecovery>;

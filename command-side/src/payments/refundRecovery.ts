import {
  bigintString,
  defineEvent,
  paymentCatalog,
  positiveAmountSchema,
  snowflakeIdSchema,
  type RecordedEvent,
  type RefundsAwaitingProviderStatus,
} from '@folio/shared';
import { z } from 'zod';
import { createDueWorkRecovery, type DueWorkRecoveryOptions } from '../recovery/dueWorkRecovery.js';
import { readPaymentCreation } from './paymentCreation.js';

/** A refund reserved on its payment's stream for a request to the provider whose answer is not recorded. */
export interface AwaitingRefund {
  paymentId: string;
  refundId: string;
  amount: bigint;
  /** When it was reserved (the reservation's business time). */
  requestedAt: string;
}

/**
 * Where the refunds awaiting the provider are checkpointed, so that a start folds only the log
 * after the latest checkpoint. No ledger, audit chain or projection reads it (none of their
 * stream-name prefixes matches it), as `movement-recovery-checkpoints`.
 */
export const REFUND_RECOVERY_CHECKPOINT_STREAM = 'refund-recovery-checkpoints';

export const refundsAwaitingProviderCheckpointed = defineEvent({
  type: 'RefundsAwaitingProviderCheckpointed',
  version: 1,
  schema: z.object({
    /** The log up to here is folded into `refunds`: a start follows it after this position. */
    position: bigintString,
    refunds: z.array(
      z.object({
        paymentId: snowflakeIdSchema,
        refundId: snowflakeIdSchema,
        amount: positiveAmountSchema,
        requestedAt: z.iso.datetime(),
      }),
    ),
  }),
});

/**
 * The events that open and end a reservation: a payment's refund events, which no other stream
 * holds. By type alone, which EventStoreDB filters on the server (given a stream prefix too, it
 * would send every payment event and leave the types to the client).
 */
const FOLDED = { eventTypePrefixes: ['PaymentRefund'] };

/**
 * Folds payment events into the refunds awaiting the provider: a reservation opens with
 * `PaymentRefundRequested` (`awaitsProvider`) and ends with the provider's answer recorded
 * (`PaymentRefundAccepted`) or the refund ending (`PaymentRefunded`, `PaymentRefundFailed`).
 * `apply` tells whether the event opened or ended one.
 */
export const createAwaitingRefunds = (seed: readonly AwaitingRefund[] = []) => {
  const awaiting = new Map(seed.map((refund) => [refund.refundId, refund]));
  return {
    apply(recorded: RecordedEvent): boolean {
      const event = paymentCatalog.decode(recorded);
      switch (event.type) {
        case 'PaymentRefundRequested': {
          if (event.data.awaitsProvider !== true) return false;
          const { paymentId, refundId, amount, requestedAt } = event.data;
          awaiting.set(refundId, { paymentId, refundId, amount, requestedAt });
          return true;
        }
        case 'PaymentRefundAccepted':
        case 'PaymentRefunded':
        case 'PaymentRefundFailed':
          return awaiting.delete(event.data.refundId);
        default:
          return false;
      }
    },
    list: (): AwaitingRefund[] => [...awaiting.values()],
  };
};

export interface RefundRecoveryOptions extends DueWorkRecoveryOptions {
  /**
   * Asks the provider again about one reservation, under its refund id, and records the answer:
   * resolves once it is recorded (or was, meanwhile), throws while the provider cannot be reached.
   */
  recover: (refund: AwaitingRefund) => Promise<void>;
  /** A reservation unanswered this long after it was made is asked again. */
  retryAfterMs: number;
}

/** Who asks the provider again, in the events it causes. */
export const REFUND_RECOVERY_ACTOR = 'folio:refund-recovery';

/** What the refunds awaiting the provider are counted under: their payment's provider and currency. */
type PaymentLabels = Pick<RefundsAwaitingProviderStatus, 'provider' | 'currency'>;

/**
 * Finds refunds whose provider answer was lost (a timeout, a dropped connection, a process stopped
 * between the reservation and the answer) and asks the provider again, so that a client that never
 * retries does not leave the reservation holding its amount and the payment's settlement forever.
 *
 * It follows the log as movement recovery does: from its latest checkpoint (the reservations open
 * then, and the position they reflect), keeping the set of open reservations current, whichever
 * process made them. A reservation is due `retryAfterMs` after it was made; asked again and still
 * unanswered (the provider unreachable), it waits twice as long each time before the next attempt.
 * With several write-side processes, each may ask about the same reservation: the refund id is the
 * provider's idempotency key, so the provider answers each the same, and the payment's stream and
 * the refund's journals (fixed ids) book it once.
 */
export const createRefundRecovery = (options: RefundRecoveryOptions) => {
  const { eventStore, clock } = options;
  let awaiting = createAwaitingRefunds();
  /**
   * The provider and currency of each payment with a reservation open, which its reservations are
   * counted under. The refund events do not carry them: the payment's first event does, read once
   * per payment while one of its reservations is open.
   */
  const payments = new Map<string, PaymentLabels>();
  const reading = new Set<string>();
  const readPayment = (paymentId: string): void => {
    reading.add(paymentId);
    void readPaymentCreation(eventStore, paymentId)
      .then(
        ({ provider, currency }) => {
          payments.set(paymentId, { provider, currency });
          count();
        },
        // Read again at the next count: the fold's next reservation or the next pass.
        (error: unknown) => options.onWarning(`refunds awaiting the provider on payment ${paymentId} not counted yet`, error),
      )
      .finally(() => reading.delete(paymentId));
  };
  /**
   * Counted again when the fold opens or ends a reservation, when a payment's provider and currency
   * are read, and at every pass (which also ages them), never on a request: a scrape reads it as it
   * is. A reservation is counted once its payment's provider and currency are known.
   */
  let status: RefundsAwaitingProviderStatus[] = [];
  const count = (): void => {
    const now = clock().getTime();
    const open = awaiting.list();
    const openPayments = new Set(open.map((refund) => refund.paymentId));
    for (const paymentId of payments.keys()) if (!openPayments.has(paymentId)) payments.delete(paymentId);
    const counted = new Map<string, PaymentLabels & { awaiting: number; overdue: number; oldest: number }>();
    for (const refund of open) {
      const labels = payments.get(refund.paymentId);
      if (labels === undefined) {
        if (!reading.has(refund.paymentId)) readPayment(refund.paymentId);
        continue;
      }
      const key = `${labels.provider} ${labels.currency}`;
      // Not before now: another instance's clock may run ahead of this one's.
      const group = counted.get(key) ?? { ...labels, awaiting: 0, overdue: 0, oldest: now };
      const requestedAt = Date.parse(refund.requestedAt);
      group.awaiting += 1;
      if (now - requestedAt >= options.retryAfterMs) group.overdue += 1;
      group.oldest = Math.min(group.oldest, requestedAt);
      counted.set(key, group);
    }
    status = [...counted.values()].map(({ oldest, ...group }) => ({ ...group, oldestAgeSeconds: (now - oldest) / 1_000 }));
  };

  const recovery = createDueWorkRecovery(options, {
    checkpoints: {
      streamName: REFUND_RECOVERY_CHECKPOINT_STREAM,
      name: 'refund recovery checkpoint',
      definition: refundsAwaitingProviderCheckpointed,
      actor: REFUND_RECOVERY_ACTOR,
      correlationId: 'refund-recovery',
      // The reservations as they are at the position: the snapshot is taken between two messages, so the two agree.
      snapshot: (position) => ({ position, refunds: awaiting.list() }),
    },
    filter: FOLDED,
    seed: (latest) => {
      awaiting = createAwaitingRefunds(latest.refunds);
      count();
      return latest.position;
    },
    apply: (recorded) => {
      if (awaiting.apply(recorded)) count();
    },
    open: () => awaiting.list(),
    keyOf: (refund) => refund.refundId,
    openedAt: (refund) => refund.requestedAt,
    work: (refund) => options.recover(refund),
    failed: ({ paymentId, refundId, amount, requestedAt }) =>
      `refund ${refundId} of ${amount} on payment ${paymentId}, reserved at ${requestedAt}, still awaits the provider: asked again later`,
    passing: count,
  });

  return {
    /** Starts following the log and looking for due reservations; returns at once. */
    start(): void {
      void recovery.start();
    },
    /** One pass over the reservations due now (the periodic check runs the same); resolves when it ends. */
    recoverDue: (): Promise<void> => recovery.recoverDue(),
    /** The reservations awaiting the provider, as far as the log is folded. */
    awaiting: (): AwaitingRefund[] => awaiting.list(),
    /** How many reservations await each provider, per currency, and since when, as last counted. */
    status: (): RefundsAwaitingProviderStatus[] => status,
    /** With the last checkpoint, holding the reservations as folded; a pass under way stops before the next refund. */
    stop: (): Promise<void> => recovery.stop(),
  };
};

export type RefundRecovery = ReturnType<typeof createRefundRecovery>;

import {
  bigintString,
  defineEvent,
  paymentCatalog,
  snowflakeIdSchema,
  type EventStore,
  type PaymentCatalogEvent,
} from '@folio/shared';
import { z } from 'zod';
import { createCheckpointedLogFold, snapshotCheckpoints } from '../recovery/checkpointedLogFold.js';
import { createOpenPayments, foldedPaymentSchema, type OpenPayment } from './openMerchantPayments.js';
import { readPaymentCreation } from './paymentCreation.js';

/** A capture's or refund's journal routed to the merchant's account and not posted yet. */
export interface WaitingJournal {
  paymentId: string;
  move: 'capture' | 'refund';
  journalId: string;
  /** The merchant's account it is to be posted to. */
  accountId: string;
}

/**
 * A journal as folded: a route recorded before `PaymentRouteChosen` named the merchant's account
 * leaves it unknown until it is read from the payment's stream.
 */
type FoldedJournal = Omit<WaitingJournal, 'accountId'> & { accountId?: string };

/**
 * Where the journals waiting and the payments open are checkpointed, so that a start folds only
 * the log after the latest checkpoint. No ledger, audit chain or projection reads it (none of their
 * stream-name prefixes matches it, nor does its event type), as `refund-recovery-checkpoints`.
 */
export const MERCHANT_JOURNALS_CHECKPOINT_STREAM = 'merchant-journals-checkpoints';

export const merchantJournalsWaitingCheckpointed = defineEvent({
  type: 'MerchantJournalsWaitingCheckpointed',
  version: 1,
  schema: z.object({
    /** The log up to here is folded into `journals` and `payments`: a start follows it after this position. */
    position: bigintString,
    journals: z.array(
      z.object({
        paymentId: snowflakeIdSchema,
        move: z.enum(['capture', 'refund']),
        journalId: snowflakeIdSchema,
        /** Absent while not yet read from the payment's stream: read again after a start. */
        accountId: snowflakeIdSchema.optional(),
      }),
    ),
    /**
     * The payments open on merchants' accounts. Absent in checkpoints from before they were folded,
     * which hold none of the payments created before them: such a checkpoint seeds no start.
     */
    payments: z.array(foldedPaymentSchema).optional(),
  }),
});

/** A checkpoint from before payments were folded would leave out every payment created before it. */
const withPayments = (checkpoint: z.output<typeof merchantJournalsWaitingCheckpointed.schema>) => {
  const { payments } = checkpoint;
  if (payments === undefined) throw new Error('written before the payments open on merchant accounts were folded');
  return { ...checkpoint, payments };
};

/**
 * The events that route a journal to a merchant and end it, and that open and end a payment, by
 * type alone (see `refundRecovery.ts`).
 */
const FOLDED = {
  eventTypePrefixes: [
    'PaymentRouteChosen',
    'PaymentCaptured',
    'PaymentRefunded',
    'PaymentRefundFailed',
    'PaymentCreated',
    'PaymentFailed',
    'PaymentRefundRequested',
  ],
};

/**
 * Folds payment events into the journals waiting to post to a merchant's account: one opens with
 * its merchant route (`PaymentRouteChosen`, the account named by it or, recorded before it named
 * one, by `named` once read) and ends when the move is recorded (`PaymentCaptured`,
 * `PaymentRefunded`, `PaymentRefundFailed`) or the route is replaced by suspense. `apply` tells the
 * payment whose merchant account is to be read, when the route it folded did not name it.
 */
export const createWaitingJournals = (seed: readonly FoldedJournal[] = []) => {
  const waiting = new Map(seed.map((journal) => [journal.journalId, journal]));
  return {
    apply(event: PaymentCatalogEvent): string | undefined {
      switch (event.type) {
        case 'PaymentRouteChosen': {
          const { paymentId, move, journalId, route, accountId } = event.data;
          if (route !== 'merchant') {
            waiting.delete(journalId);
            return undefined;
          }
          waiting.set(journalId, { paymentId, move, journalId, ...(accountId === undefined ? {} : { accountId }) });
          return accountId === undefined ? paymentId : undefined;
        }
        case 'PaymentCaptured':
          waiting.delete(event.data.journalId);
          return undefined;
        case 'PaymentRefunded':
        case 'PaymentRefundFailed':
          waiting.delete(event.data.refundId);
          return undefined;
        default:
          return undefined;
      }
    },
    /** The payment's merchant account, read from its stream, for its journals waiting without one. */
    named(paymentId: string, accountId: string): void {
      for (const journal of waiting.values()) if (journal.paymentId === paymentId && journal.accountId === undefined) journal.accountId = accountId;
    },
    /** The payments with a journal waiting on a merchant account not read yet. */
    unnamed: (): string[] => [...new Set([...waiting.values()].filter((journal) => journal.accountId === undefined).map((journal) => journal.paymentId))],
    list: (): FoldedJournal[] => [...waiting.values()],
  };
};

/** Resolves true once `work` has, false after `timeoutMs`. */
const within = (work: Promise<unknown>, timeoutMs: number): Promise<boolean> =>
  new Promise((resolve) => {
    setTimeout(() => resolve(false), Math.max(0, timeoutMs)).unref();
    void work.then(() => resolve(true));
  });

export interface MerchantJournalsWaitingOptions {
  eventStore: EventStore;
  clock: () => Date;
  /** Once the fold moves on, a checkpoint is written when this long has passed since the last one (or the start). */
  checkpointEveryMs: number;
  onError: (error: unknown) => void;
  onWarning: (message: string, error: unknown) => void;
}

/** Who writes the checkpoints, in their metadata. */
const ACTOR = 'folio:merchant-journals';

/**
 * Keeps the journals waiting to post to merchants' accounts, and the payments open on them, current
 * by following the log, whichever process routed or created them, so that a close of an account is
 * refused while one waits for it or one is open: closed, the account would never take the money.
 * Checkpointed as refund recovery is.
 */
export const createMerchantJournalsWaiting = (options: MerchantJournalsWaitingOptions) => {
  const { eventStore, clock } = options;
  let waiting = createWaitingJournals();
  let open = createOpenPayments();
  /**
   * The reads of a payment's merchant account running now, by payment id: started as the fold meets
   * a route or a refund that does not name it (never holding the fold up), and again by a close
   * while one failed.
   */
  const naming = new Map<string, Promise<void>>();
  const name = (paymentId: string): Promise<void> => {
    const running = naming.get(paymentId);
    if (running !== undefined) return running;
    const read = readPaymentCreation(eventStore, paymentId)
      .then(
        ({ merchantAccountId }) => {
          waiting.named(paymentId, merchantAccountId);
          open.named(paymentId, merchantAccountId);
        },
        (error: unknown) => options.onWarning(`merchant account of payment ${paymentId} not read yet: closes of merchant accounts wait for it`, error),
      )
      .finally(() => naming.delete(paymentId));
    naming.set(paymentId, read);
    return read;
  };
  const unnamed = (): Set<string> => new Set([...waiting.unnamed(), ...open.unnamed()]);
  const nameUnnamed = (): Promise<unknown> => Promise.all([...unnamed()].map(name));

  const snapshots = snapshotCheckpoints({
    streamName: MERCHANT_JOURNALS_CHECKPOINT_STREAM,
    name: 'merchant journals checkpoint',
    definition: merchantJournalsWaitingCheckpointed,
    actor: ACTOR,
    correlationId: 'merchant-journals',
    everyMs: options.checkpointEveryMs,
    clock,
    snapshot: (position) => ({ position, journals: waiting.list(), payments: open.list() }),
  });
  const log = createCheckpointedLogFold({
    eventStore,
    checkpoints: { ...snapshots.checkpoints, decode: (recorded) => withPayments(snapshots.checkpoints.decode(recorded)) },
    schedule: snapshots.schedule,
    filter: FOLDED,
    seed: (latest) => {
      waiting = createWaitingJournals(latest.journals);
      open = createOpenPayments(latest.payments);
      void nameUnnamed();
      return latest.position;
    },
    apply: (recorded) => {
      try {
        const event = paymentCatalog.decode(recorded);
        for (const paymentId of [waiting.apply(event), open.apply(event)]) if (paymentId !== undefined) void name(paymentId);
      } catch (error) {
        options.onError(error);
      }
    },
    followsScans: true,
    onError: options.onError,
    onWarning: options.onWarning,
  });

  return {
    /** Starts following the log; returns at once. */
    start: (): void => log.start(),
    /**
     * The journals waiting to post to `accountId` and the payments open on it, with the log folded
     * up to its head as it is now and every merchant account their events did not name read;
     * undefined when that could not be done within `timeoutMs`: a journal or payment on an account
     * not read yet may be this one's.
     */
    async waitingOn(accountId: string, timeoutMs: number): Promise<{ journals: WaitingJournal[]; payments: OpenPayment[] } | undefined> {
      const deadline = Date.now() + timeoutMs;
      if (!(await log.waitForHead(timeoutMs))) return undefined;
      if (!(await within(nameUnnamed(), deadline - Date.now())) || unnamed().size > 0) return undefined;
      return {
        journals: waiting.list().filter((journal): journal is WaitingJournal => journal.accountId === accountId),
        payments: open.on(accountId),
      };
    },
    async stop(): Promise<void> {
      await log.stop();
      await Promise.all(naming.values());
    },
  };
};

export type MerchantJournalsWaiting = ReturnType<typeof createMerchantJournalsWaiting>;

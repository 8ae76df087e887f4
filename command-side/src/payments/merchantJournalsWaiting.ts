import {
  bigintString,
  createEventCatalog,
  defineEvent,
  deterministicEventId,
  paymentCatalog,
  snowflakeIdSchema,
  type EventStore,
  type RecordedEvent,
} from '@folio/shared';
import { z } from 'zod';
import { createCheckpointedLogFold } from '../recovery/checkpointedLogFold.js';

/** A capture's or refund's journal routed to the merchant's account and not posted yet. */
export interface WaitingJournal {
  paymentId: string;
  move: 'capture' | 'refund';
  journalId: string;
  /** The merchant's account it is to be posted to. */
  accountId: string;
}

/**
 * Where the journals waiting are checkpointed, so that a start folds only the log after the latest
 * checkpoint. No ledger, audit chain or projection reads it (none of their stream-name prefixes
 * matches it, nor does its event type), as `refund-recovery-checkpoints`.
 */
export const MERCHANT_JOURNALS_CHECKPOINT_STREAM = 'merchant-journals-checkpoints';

export const merchantJournalsWaitingCheckpointed = defineEvent({
  type: 'MerchantJournalsWaitingCheckpointed',
  version: 1,
  schema: z.object({
    /** The log up to here is folded into `journals`: a start follows it after this position. */
    position: bigintString,
    journals: z.array(
      z.object({
        paymentId: snowflakeIdSchema,
        move: z.enum(['capture', 'refund']),
        journalId: snowflakeIdSchema,
        accountId: snowflakeIdSchema,
      }),
    ),
  }),
});

export const merchantJournalsCheckpointCatalog = createEventCatalog([merchantJournalsWaitingCheckpointed]);

/** The events that route a journal to a merchant and end it, by type alone (see `refundRecovery.ts`). */
const FOLDED = { eventTypePrefixes: ['PaymentRouteChosen', 'PaymentCaptured', 'PaymentRefunded', 'PaymentRefundFailed'] };

/**
 * Folds payment events into the journals waiting to post to a merchant's account: one opens with
 * its merchant route (`PaymentRouteChosen` naming the account; routes recorded before the account
 * was named are left to the payment's own repair) and ends when the move is recorded
 * (`PaymentCaptured`, `PaymentRefunded`, `PaymentRefundFailed`) or the route is replaced by suspense.
 */
export const createWaitingJournals = (seed: readonly WaitingJournal[] = []) => {
  const waiting = new Map(seed.map((journal) => [journal.journalId, journal]));
  return {
    apply(recorded: RecordedEvent): void {
      const event = paymentCatalog.decode(recorded);
      switch (event.type) {
        case 'PaymentRouteChosen': {
          const { paymentId, move, journalId, route, accountId } = event.data;
          if (route === 'merchant' && accountId !== undefined) waiting.set(journalId, { paymentId, move, journalId, accountId });
          else waiting.delete(journalId);
          return;
        }
        case 'PaymentCaptured':
          waiting.delete(event.data.journalId);
          return;
        case 'PaymentRefunded':
        case 'PaymentRefundFailed':
          waiting.delete(event.data.refundId);
          return;
        default:
          return;
      }
    },
    list: (): WaitingJournal[] => [...waiting.values()],
  };
};

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
 * Keeps the journals waiting to post to merchants' accounts current by following the log, whichever
 * process routed them, so that a close of an account is refused while one waits for it: closed, the
 * account would never take it. Checkpointed as refund recovery is.
 */
export const createMerchantJournalsWaiting = (options: MerchantJournalsWaitingOptions) => {
  const { eventStore, clock } = options;
  let waiting = createWaitingJournals();

  const log = createCheckpointedLogFold({
    eventStore,
    checkpoints: {
      streamName: MERCHANT_JOURNALS_CHECKPOINT_STREAM,
      name: 'merchant journals checkpoint',
      decode: (recorded) => merchantJournalsCheckpointCatalog.decode(recorded).data,
    },
    filter: FOLDED,
    seed: (latest) => {
      waiting = createWaitingJournals(latest.journals);
      return latest.position;
    },
    apply: (recorded) => {
      try {
        waiting.apply(recorded);
      } catch (error) {
        options.onError(error);
      }
    },
    followsScans: true,
    schedule: {
      everyMs: options.checkpointEveryMs,
      clock,
      encode: (position) =>
        merchantJournalsCheckpointCatalog.encode({
          type: merchantJournalsWaitingCheckpointed.type,
          // Two processes checkpointing the same position write the same event: the store keeps one.
          id: deterministicEventId(MERCHANT_JOURNALS_CHECKPOINT_STREAM, position.toString()),
          version: merchantJournalsWaitingCheckpointed.version,
          data: { position, journals: waiting.list() },
          metadata: { $correlationId: 'merchant-journals', actor: ACTOR, occurredAt: clock().toISOString() },
        }),
    },
    onError: options.onError,
    onWarning: options.onWarning,
  });

  return {
    /** Starts following the log; returns at once. */
    start: (): void => log.start(),
    /**
     * The journals waiting to post to `accountId`, with the log folded up to its head as it is now;
     * undefined when the fold could not reach it within `timeoutMs`.
     */
    async waitingOn(accountId: string, timeoutMs: number): Promise<WaitingJournal[] | undefined> {
      if (!(await log.waitForHead(timeoutMs))) return undefined;
      return waiting.list().filter((journal) => journal.accountId === accountId);
    },
    stop: (): Promise<void> => log.stop(),
  };
};

export type MerchantJournalsWaiting = ReturnType<typeof createMerchantJournalsWaiting>;

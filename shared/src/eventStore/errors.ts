import { FolioError } from '../errors/folioError.js';
import type { ActualRevision, ExpectedRevision } from './eventStore.js';

const describeRevision = (revision: ExpectedRevision | ActualRevision): string =>
  typeof revision === 'bigint' ? revision.toString() : revision;

/** The stream was not where the writer expected it: a concurrency conflict. */
export class WrongExpectedRevisionError extends FolioError {
  readonly type = 'concurrency-conflict';
  readonly status = 409;

  constructor(
    readonly streamName: string,
    readonly expectedRevision: ExpectedRevision,
    readonly actualRevision: ActualRevision,
  ) {
    super(
      `stream ${streamName} was expected at ${describeRevision(expectedRevision)} ` +
        `but is at ${describeRevision(actualRevision)}`,
    );
  }

  override problemExtensions(): Record<string, unknown> {
    return {
      streamName: this.streamName,
      expectedRevision: describeRevision(this.expectedRevision),
      actualRevision: describeRevision(this.actualRevision),
    };
  }
}

/** The stream has no events, or was soft-deleted. */
export class StreamNotFoundError extends FolioError {
  readonly type = 'stream-not-found';
  readonly status = 404;

  constructor(readonly streamName: string) {
    super(`stream ${streamName} not found`);
  }
}

/** The stream was tombstoned: it can never be read or written again. */
export class StreamDeletedError extends FolioError {
  readonly type = 'stream-deleted';
  readonly status = 410;

  constructor(readonly streamName: string) {
    super(`stream ${streamName} is deleted`);
  }
}

/** A caller passed something the store cannot accept; nothing was written. */
export class InvalidArgumentError extends FolioError {
  readonly type = 'invalid-argument';
  readonly status = 400;
}

/** The store ended a subscription (shutdown, connection loss, test hook). Resubscribe from the checkpoint. */
export class SubscriptionDroppedError extends FolioError {
  readonly type = 'subscription-dropped';
  readonly status = 503;
}

/** The store could not be reached or failed; the operation may or may not have happened. */
export class StoreUnavailableError extends FolioError {
  readonly type = 'store-unavailable';
  readonly status = 503;
}

/**
 * The store refused a transaction for its size or its duration (on MongoDB: more changes than its
 * cache holds, or open longer than `transactionLifetimeLimitSeconds`); nothing of it was written.
 * Retried as it is, it is refused again: a caller that can split the work writes less per
 * transaction. A `StoreUnavailableError` still, for the callers that can only retry.
 */
export class TransactionLimitExceededError extends StoreUnavailableError {}

import { FolioError, type JsonValue } from '@folio/shared';

/** The key was already used, within its retention, for a different request. */
export class IdempotencyKeyReusedError extends FolioError {
  readonly type = 'idempotency-key-reused';
  readonly status = 422;

  constructor() {
    super('this Idempotency-Key was already used for a different request');
  }
}

/** Another request with this key is still running; the client should retry later. */
export class IdempotentRequestInProgressError extends FolioError {
  readonly type = 'idempotent-request-in-progress';
  readonly status = 409;

  constructor(override readonly retryAfterSeconds: number) {
    super('a request with this Idempotency-Key is still in progress');
  }

  override problemExtensions(): Record<string, unknown> {
    return { retryAfterSeconds: this.retryAfterSeconds };
  }
}

/**
 * The run's claim on its key is near the age at which another process may take it over and run the
 * request again (see `RunAttempt.claimValidUntil`): money moved now could contradict that run's
 * answer, so none is. Not an answer to remember: the same request with the same key runs again
 * under a fresh claim.
 */
export class IdempotencyClaimExpiredError extends FolioError {
  readonly type = 'idempotency-claim-expired';
  readonly status = 503;
  override readonly retryAfterSeconds = 1;

  constructor() {
    super('this request ran too long to start moving money under its Idempotency-Key; nothing was moved: retry it with the same Idempotency-Key');
  }
}

/** A money-moving request came without the `Idempotency-Key` header it must carry. */
export class IdempotencyKeyRequiredError extends FolioError {
  readonly type = 'idempotency-key-required';
  readonly status = 400;

  constructor() {
    super('this request moves money and needs an Idempotency-Key header');
  }
}

/**
 * A request that failed as a whole (it is retried, not remembered) but answered some of its parts
 * for good: a batch whose items were rejected while others could not run. Its answer shows those
 * parts, so the idempotency store records `finalParts` before the error reaches the client and
 * hands them to every later run of the key, which answers those parts with them instead of
 * deciding them again.
 */
export abstract class PartlyAnsweredError extends FolioError {
  /** Keyed by part (a batch item's index): only the parts a retry must not decide again. */
  abstract readonly finalParts: Readonly<Record<string, JsonValue>>;
}

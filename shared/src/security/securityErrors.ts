import { FolioError } from '../errors/folioError.js';

/** No credential, or one that is malformed, unknown or revoked: the answer does not say which. */
export class UnauthenticatedError extends FolioError {
  readonly type = 'unauthenticated';
  readonly status = 401;

  constructor() {
    super('a valid API key is required: send Authorization: Bearer <key>');
  }
}

/** The credential is valid but its role may not do this. */
export class ForbiddenError extends FolioError {
  readonly type = 'forbidden';
  readonly status = 403;
}

/**
 * A request that needs a device signature (a customer's money movement, a holder's further
 * device) without a valid, fresh, unused one.
 */
export class StepUpFailedError extends FolioError {
  readonly type = 'step-up-required';
  readonly status = 401;
}

/** A holder opening an account with an overdraft: credit is staff's to grant, never the holder's own. */
export class OverdraftNotPermittedError extends FolioError {
  readonly type = 'overdraft-not-permitted';
  readonly status = 403;
}

/** Too many requests in a bucket; `Retry-After` says when a token is back. */
export class RateLimitedError extends FolioError {
  readonly type = 'rate-limited';
  readonly status = 429;

  constructor(
    override readonly retryAfterSeconds: number,
    what: string,
  ) {
    super(`too many ${what}; retry after ${retryAfterSeconds} s`);
  }
}

/**
 * A request making more money movements than the key's bucket ever holds (a batch): no wait lets
 * it through, so the answer says how to split it, with no `Retry-After`.
 */
export class MovementsOverBurstError extends FolioError {
  readonly type = 'rate-limited';
  readonly status = 429;

  constructor(movements: number, burst: number) {
    super(`this request makes ${movements} money movements, more than the ${burst} this key may make at once: send at most ${burst} in one batch`);
  }
}

/**
 * This process follows the log behind it for now, so it cannot tell whether the holder already
 * has a device, which decides whether its key alone may enrol one; nothing was written.
 */
export class CredentialsCatchingUpError extends FolioError {
  readonly type = 'credentials-catching-up';
  readonly status = 503;
  override readonly retryAfterSeconds = 1;

  constructor() {
    super(
      'this server is catching up with the log and cannot tell yet whether the holder already has a device (a further one must be signed by it); nothing was written: retry after 1 s',
    );
  }
}

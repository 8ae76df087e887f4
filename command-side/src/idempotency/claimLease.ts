import { IdempotencyClaimExpiredError } from './errors.js';

/**
 * Refuses to start new work (a movement, a hold) once the lease of the request's claim has run out
 * (`RunAttempt.claimValidUntil`): another process may take the request over and answer it otherwise
 * (see "Leases" in the idempotency store). Called right before the append that starts the work;
 * reads the clock only under a claim.
 */
export const ensureClaimLeaseHeld = (claimValidUntil: Date | undefined, clock: () => Date): void => {
  if (claimValidUntil !== undefined && clock().getTime() >= claimValidUntil.getTime()) throw new IdempotencyClaimExpiredError();
};

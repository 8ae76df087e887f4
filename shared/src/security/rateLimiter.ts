/**
 * Token buckets by key (an IP, a credential, a device): each holds up to `burst` tokens and
 * refills at `perSecond`. In-process by default; a shared store implements the same port when
 * limits must hold across processes.
 */
export interface BucketRule {
  perSecond: number;
  burst: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface RateLimiter {
  take(bucket: string, rule: BucketRule, cost?: number): RateDecision;
  /** Whether a take would succeed, without spending. */
  peek(bucket: string, rule: BucketRule, cost?: number): RateDecision;
}

interface Bucket {
  tokens: number;
  at: number;
  /** When it holds its whole burst again if nothing is taken: the sweep may forget it from then on. */
  fullAt: number;
}

/** Buckets idle long enough to be full again are dropped, so memory stays bounded by recent callers. */
export const createInMemoryRateLimiter = (clock: () => number = Date.now): RateLimiter => {
  const buckets = new Map<string, Bucket>();
  let nextSweep = 0;

  const current = (key: string, rule: BucketRule, now: number): Bucket => {
    const bucket = buckets.get(key);
    if (bucket === undefined) return { tokens: rule.burst, at: now, fullAt: now };
    const refilled = Math.min(rule.burst, bucket.tokens + ((now - bucket.at) / 1000) * rule.perSecond);
    return { tokens: refilled, at: now, fullAt: bucket.fullAt };
  };

  // Only a full bucket is forgotten: one dropped earlier would come back full, and a slow rule
  // (a failure a minute) would refill faster than it says.
  const sweep = (now: number) => {
    if (now < nextSweep) return;
    nextSweep = now + 60_000;
    for (const [key, bucket] of buckets) if (now >= bucket.fullAt) buckets.delete(key);
  };

  const decide = (bucket: Bucket, rule: BucketRule, cost: number): RateDecision =>
    bucket.tokens >= cost
      ? { allowed: true }
      : { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((cost - bucket.tokens) / rule.perSecond)) };

  return {
    take(key, rule, cost = 1) {
      const now = clock();
      sweep(now);
      const bucket = current(key, rule, now);
      const decision = decide(bucket, rule, cost);
      if (decision.allowed) bucket.tokens -= cost;
      bucket.fullAt = now + ((rule.burst - bucket.tokens) / rule.perSecond) * 1000;
      buckets.set(key, bucket);
      return decision;
    },
    peek(key, rule, cost = 1) {
      return decide(current(key, rule, clock()), rule, cost);
    },
  };
};

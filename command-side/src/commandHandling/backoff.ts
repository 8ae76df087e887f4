export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
}

/**
 * Delay before retry `attempt` (from 1): exponential with full jitter, so writers that collided
 * once spread out instead of colliding again in lockstep.
 */
export const backoffDelay = (attempt: number, options: BackoffOptions = {}, random: () => number): number => {
  const base = options.baseMs ?? 2;
  const max = options.maxMs ?? 200;
  const ceiling = Math.min(max, base * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
};

import type { RequestHandler } from 'express';
import { FolioError } from '../errors/folioError.js';
import type { Metrics } from './metrics.js';
import { onceAnswered } from './onceAnswered.js';
import { markNotAFault } from './requestLog.js';
import type { LagMonitor } from './projectionLag.js';

/** The write API refused a command because it is saturated; nothing was written. */
export class OverloadedError extends FolioError {
  readonly type = 'overloaded';
  readonly status = 503;

  constructor(
    readonly reason: 'commands-in-flight' | 'projections-lagging',
    detail: string,
    override readonly retryAfterSeconds: number,
  ) {
    super(detail);
  }

  override problemExtensions(): Record<string, unknown> {
    return { reason: this.reason, retryAfterSeconds: this.retryAfterSeconds };
  }
}

export interface LoadSheddingOptions {
  metrics: Metrics;
  /** Commands handled at once at most; beyond, new ones are refused rather than queued. */
  maxInFlight: number;
  /** The read models' lag, when this process runs or follows them. */
  lag?: LagMonitor;
  /** Above this lag, in seconds, commands are refused until the projections catch up. */
  shedAtLagSeconds: number;
  retryAfterSeconds?: number;
}

/**
 * Backpressure for the write API: when the store cannot keep up (commands pile up in flight) or
 * the projections fall too far behind, a command is answered 503 with `Retry-After` at once
 * instead of waiting in an unbounded queue. Reads are never shed here.
 */
export const loadShedding = ({ metrics, maxInFlight, lag, shedAtLagSeconds, retryAfterSeconds = 1 }: LoadSheddingOptions): RequestHandler => {
  let inFlight = 0;
  return (request, response, next) => {
    if (request.method !== 'POST') {
      next();
      return;
    }
    if (inFlight >= maxInFlight) {
      metrics.loadShed.inc({ reason: 'commands-in-flight' });
      markNotAFault(response);
      next(
        new OverloadedError(
          'commands-in-flight',
          `the write API is handling ${inFlight} commands, its limit; retry after ${retryAfterSeconds} s`,
          retryAfterSeconds,
        ),
      );
      return;
    }
    const lagSeconds = lag?.worstSeconds() ?? 0;
    if (lagSeconds > shedAtLagSeconds) {
      metrics.loadShed.inc({ reason: 'projections-lagging' });
      markNotAFault(response);
      next(
        new OverloadedError(
          'projections-lagging',
          `the read models are ${Math.round(lagSeconds * 10) / 10} s behind the log (limit ${shedAtLagSeconds} s); retry after ${retryAfterSeconds} s`,
          retryAfterSeconds,
        ),
      );
      return;
    }
    inFlight += 1;
    // Until it has answered, though its caller hung up: else commands would pile up as callers give up.
    onceAnswered(response, () => {
      inFlight -= 1;
    });
    next();
  };
};

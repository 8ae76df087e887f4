import { Router } from 'express';
import { DEFAULT_READY_MAX_FAILING_SECONDS } from '../config/config.js';
import type { EventStore } from '../eventStore/eventStore.js';
import { isDraining, ShuttingDownError } from '../http/draining.js';
import type { LagMonitor, ProjectionLag } from './projectionLag.js';
import type { Metrics } from './metrics.js';
import { markNotAFault } from './requestLog.js';

export interface OperationsEndpointsOptions {
  metrics: Metrics;
  eventStore: Pick<EventStore, 'headPosition'>;
  /** The projections this process serves or runs; absent on the write API alone. */
  lag?: LagMonitor;
  /** Above this lag, in seconds, the process is not ready to serve reads. */
  readyMaxLagSeconds: number;
  /**
   * Past this many seconds of failing (see `ProjectionFailing`), a projection makes the process
   * unready whatever its lag: a read side that cannot read or write its read models may show no
   * lag at all while no event arrives.
   */
  readyMaxFailingSeconds?: number;
}

/**
 * `GET /metrics` in Prometheus text format. It tells open discrepancies and the ledger-vs-provider
 * delta, so it is served behind the security gate, to staff keys.
 */
export const metricsEndpoint = (metrics: Metrics): Router =>
  Router().get('/metrics', async (_request, response) => {
    response.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

/**
 * A projection's readiness: `failing` (or `starting`, before its first reading of the
 * checkpoints has ended) once that has lasted longer than its grace, else `lagging` beyond the
 * lag threshold, else `ok`. A failure within its grace is told, and does not count yet: a store
 * that blinks does not take the process out of its load balancer.
 */
const projectionReadiness = (
  { name, positions, seconds, failing }: ProjectionLag,
  readyMaxLagSeconds: number,
  readyMaxFailingSeconds: number,
  now: Date,
) => {
  const failingSeconds = failing === undefined ? undefined : Math.max(0, (now.getTime() - failing.since.getTime()) / 1000);
  const status =
    failingSeconds !== undefined && failingSeconds > readyMaxFailingSeconds
      ? failing!.failures === 0
        ? 'starting'
        : 'failing'
      : seconds <= readyMaxLagSeconds
        ? 'ok'
        : 'lagging';
  return {
    name,
    status,
    lagPositions: positions.toString(),
    lagSeconds: seconds,
    ...(failing === undefined
      ? {}
      : { failingSince: failing.since.toISOString(), failingSeconds, failures: failing.failures, lastError: failing.lastError ?? null }),
  };
};

/**
 * `GET /readyz`, open for the platform's probes: 200 when the event store answers and every
 * projection works and is within its lag threshold, 503 otherwise, with the reason; 503
 * `shutting-down` once the process drains, so that no new traffic is sent to it.
 */
export const readinessEndpoint = ({
  eventStore,
  lag,
  readyMaxLagSeconds,
  readyMaxFailingSeconds = DEFAULT_READY_MAX_FAILING_SECONDS,
}: Omit<OperationsEndpointsOptions, 'metrics'>): Router => {
  const router = Router();
  router.get('/readyz', async (request, response, next) => {
    const checks: Record<string, unknown> = {};
    let ready = true;
    try {
      const head = await eventStore.headPosition();
      checks.eventStore = { status: 'ok', headPosition: head?.toString() ?? null };
    } catch (error) {
      ready = false;
      checks.eventStore = { status: 'unavailable', error: (error as Error).message };
    }
    if (lag !== undefined) {
      try {
        const now = new Date();
        const projections = (await lag.refresh()).map((projection) =>
          projectionReadiness(projection, readyMaxLagSeconds, readyMaxFailingSeconds, now),
        );
        if (projections.some(({ status }) => status !== 'ok')) ready = false;
        checks.projections = { maxLagSeconds: readyMaxLagSeconds, maxFailingSeconds: readyMaxFailingSeconds, projections };
      } catch (error) {
        ready = false;
        checks.projections = { status: 'unknown', error: (error as Error).message };
      }
    }
    // A state, not a fault: what made it unready is logged where it happened.
    markNotAFault(response);
    // Told at the answer: a probe still running its checks when shutdown began must not say ready.
    if (isDraining(request.app)) {
      next(new ShuttingDownError());
      return;
    }
    response.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unready', checks });
  });
  return router;
};

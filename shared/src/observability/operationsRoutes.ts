import { Router } from 'express';
import type { EventStore } from '../eventStore/eventStore.js';
import type { LagMonitor } from './projectionLag.js';
import type { Metrics } from './metrics.js';

export interface OperationsEndpointsOptions {
  metrics: Metrics;
  eventStore: Pick<EventStore, 'headPosition'>;
  /** The projections this process serves or runs; absent on the write API alone. */
  lag?: LagMonitor;
  /** Above this lag, in seconds, the process is not ready to serve reads. */
  readyMaxLagSeconds: number;
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
 * `GET /readyz`, open for the platform's probes: 200 when the event store answers and every
 * projection is within its lag threshold, 503 otherwise, with the reason.
 */
export const readinessEndpoint = ({ eventStore, lag, readyMaxLagSeconds }: Omit<OperationsEndpointsOptions, 'metrics'>): Router => {
  const router = Router();
  router.get('/readyz', async (_request, response) => {
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
        const projections = (await lag.refresh()).map(({ name, positions, seconds }) => ({
          name,
          status: seconds <= readyMaxLagSeconds ? 'ok' : 'lagging',
          lagPositions: positions.toString(),
          lagSeconds: seconds,
        }));
        if (projections.some(({ status }) => status !== 'ok')) ready = false;
        checks.projections = { maxLagSeconds: readyMaxLagSeconds, projections };
      } catch (error) {
        ready = false;
        checks.projections = { status: 'unknown', error: (error as Error).message };
      }
    }
    response.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unready', checks });
  });
  return router;
};

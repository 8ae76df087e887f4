import express, { type Express, type RequestHandler } from 'express';
import type { FolioConfig } from '../config/config.js';
import { folioVersion } from '../config/version.js';
import type { EventStore } from '../eventStore/eventStore.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { metricsEndpoint, readinessEndpoint } from '../observability/operationsRoutes.js';
import type { LagMonitor } from '../observability/projectionLag.js';
import { requestLog } from '../observability/requestLog.js';
import { correlationId, correlationIdOf } from './correlation.js';
import { healthRouter } from './health.js';
import { notFoundHandler, problemDetailsHandler } from './problemDetails.js';

export interface ServiceAppOptions {
  eventStore: EventStore;
  /** The security gate: every request after `/healthz` and `/readyz` passes it, `/metrics` included. */
  guard: RequestHandler;
  /** The service's own routes, mounted in order behind the gate and `/metrics`, before the 404. */
  routers: readonly RequestHandler[];
  logger: Logger;
  metrics: Metrics;
  /** The projections this process runs or serves, for `/readyz`. */
  lag?: LagMonitor;
  readyMaxLagSeconds: number;
  /** With `lag`: how long a projection may be failing before `/readyz` answers 503 (`FOLIO_READY_MAX_FAILING_SECONDS`). */
  readyMaxFailingSeconds?: number;
  /** The reverse proxies whose `X-Forwarded-For` names the client (`FOLIO_TRUST_PROXY`); none by default. */
  trustProxy?: boolean | number | string;
}

/** What a process's configuration sets of its service app: readiness thresholds and the proxies it trusts. */
export const serviceAppSettingsOf = ({
  readyMaxLagSeconds,
  readyMaxFailingSeconds,
  trustProxy,
}: Pick<FolioConfig, 'readyMaxLagSeconds' | 'readyMaxFailingSeconds' | 'trustProxy'>) => ({
  readyMaxLagSeconds,
  readyMaxFailingSeconds,
  trustProxy,
});

/**
 * The express app every Folio process serves: correlation ids, request logs, `/healthz` and
 * `/readyz` for the platform's probes, then the security gate, `/metrics`, the service's routes,
 * and problem+json for everything that goes wrong. One shape whether the services run together
 * (`npm start`) or apart (docker-compose).
 */
export const createServiceApp = ({
  eventStore,
  guard,
  routers,
  logger,
  metrics,
  lag,
  readyMaxLagSeconds,
  readyMaxFailingSeconds,
  trustProxy = false,
}: ServiceAppOptions): Express => {
  const app = express();
  app.disable('x-powered-by');
  // Behind a proxy every peer is the proxy: the gate's buckets by address need the client it names.
  app.set('trust proxy', trustProxy);
  app.set('etag', false);
  app.use(correlationId());
  app.use(requestLog(logger));
  app.use(healthRouter({ version: folioVersion, eventStore }));
  app.use(readinessEndpoint({ eventStore, ...(lag === undefined ? {} : { lag }), readyMaxLagSeconds, readyMaxFailingSeconds }));
  app.use(guard);
  app.use(metricsEndpoint(metrics));
  for (const router of routers) app.use(router);
  app.use(notFoundHandler());
  app.use(
    problemDetailsHandler({
      onUnexpectedError: (error, request) =>
        logger.error(
          { err: error, method: request.method, path: request.path, correlationId: correlationIdOf(request.res?.locals ?? {}) },
          'unexpected error while handling a request',
        ),
    }),
  );
  return app;
};

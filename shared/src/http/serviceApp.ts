import express, { type Express, type RequestHandler } from 'express';
import { folioVersion } from '../config/version.js';
import type { EventStore } from '../eventStore/eventStore.js';
import { correlationId } from './correlation.js';
import { healthRouter } from './health.js';
import { notFoundHandler, problemDetailsHandler } from './problemDetails.js';

export interface ServiceAppOptions {
  eventStore: EventStore;
  /** The service's own routes, mounted in order between the health check and the 404. */
  routers: readonly RequestHandler[];
}

/**
 * The express app every Folio process serves: correlation ids, `/healthz`, the service's routes,
 * and problem+json for everything that goes wrong. One shape whether the services run together
 * (`npm start`) or apart (docker-compose).
 */
export const createServiceApp = ({ eventStore, routers }: ServiceAppOptions): Express => {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(correlationId());
  app.use(healthRouter({ version: folioVersion, eventStore }));
  for (const router of routers) app.use(router);
  app.use(notFoundHandler());
  app.use(problemDetailsHandler());
  return app;
};

import { Router } from 'express';
import {
  composeSecurity,
  createLogger,
  createMetrics,
  createServiceApp,
  serviceAppSettingsOf,
  loadConfig,
  openDocumentStore,
  openEventStore,
  openSearchIndex,
  serveUntilSignalled,
} from '@folio/shared';
import { composeProjections } from './projectionsComposition.js';

/**
 * The projections as their own process (`npm run start:projections`, docker-compose's
 * `projections`). It serves `/healthz`, `/readyz`, `/metrics` and its projectors' progress on `PORT`,
 * the last two to staff keys, as every process does.
 */
const config = loadConfig();
const logger = createLogger({ service: 'projections', level: config.logLevel });
const metrics = createMetrics();
const eventStore = openEventStore(config);
const documents = openDocumentStore(config);
const searchIndex = openSearchIndex(config);
const { projections, lag } = composeProjections({ eventStore, documents, searchIndex, logger, metrics });
const security = composeSecurity({ eventStore, config, logger, metrics });
await security.start({ bootstrap: false });

const progress = Router().get('/v1/projections', (_request, response) => {
  response.json({
    projections: projections.status().map(({ name, position, caughtUp, lastEventAt }) => ({
      name,
      position: position?.toString() ?? null,
      caughtUp,
      lastEventAt: lastEventAt?.toISOString() ?? null,
    })),
  });
});
serveUntilSignalled({
  app: createServiceApp({
    eventStore,
    guard: security.middleware,
    routers: [progress],
    logger,
    metrics,
    lag,
    ...serviceAppSettingsOf(config),
  }),
  port: config.port,
  host: config.host,
  service: 'projections',
  logger,
  shutdownDelayMs: config.shutdownDelayMs,
  // The projectors commit what they hold, with its checkpoint, before the stores close.
  stop: async () => {
    lag.stop();
    await projections.stop();
    await security.stop();
    await documents.close();
    await searchIndex.close();
    await eventStore.close();
  },
});
const caughtUp = projections.start();
// Before the checkpoints are read, the projections' status would read as "nothing projected".
await projections.loaded();
await lag.start();
await caughtUp;
logger.info(
  { projections: projections.status().map(({ name, position }) => ({ name, position: position?.toString() ?? null })) },
  'projections caught up',
);

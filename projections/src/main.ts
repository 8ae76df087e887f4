import { Router } from 'express';
import { createServiceApp, loadConfig, openDocumentStore, openEventStore, openSearchIndex, serveUntilSignalled } from '@folio/shared';
import { createProjections } from './projections.js';

/**
 * The projections as their own process (`npm run start:projections`, docker-compose's
 * `projections`). It serves `/healthz` and its projectors' progress on `PORT`.
 */
const config = loadConfig();
const eventStore = openEventStore(config);
const documents = openDocumentStore(config);
const searchIndex = openSearchIndex(config);
const projections = createProjections({ eventStore, documents, searchIndex });

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
  app: createServiceApp({ eventStore, routers: [progress] }),
  port: config.port,
  host: config.host,
  service: 'projections',
  stop: async () => {
    await projections.stop();
    await documents.close();
    await searchIndex.close();
    await eventStore.close();
  },
});
await projections.start();
console.log(
  JSON.stringify({
    msg: 'projections caught up',
    projections: projections.status().map(({ name, position }) => ({ name, position: position?.toString() ?? null })),
  }),
);

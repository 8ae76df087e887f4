import { createServiceApp, loadConfig, openDocumentStore, openEventStore, openSearchIndex, serveUntilSignalled } from '@folio/shared';
import { createStoredProgress, projectionDefinitions } from '@folio/projections';
import { createReadApi } from './readApi.js';
import { readWaitMsFromEnvironment } from './readYourWrites.js';

/**
 * The read API as its own process, for the split topology (docker-compose's `query-side`): the
 * projectors run elsewhere, so their progress is read from the checkpoints they store.
 */
const config = loadConfig();
const eventStore = openEventStore(config);
const documents = openDocumentStore(config);
const searchIndex = openSearchIndex(config);
const progress = createStoredProgress({ documents, eventStore, definitions: projectionDefinitions });
await progress.start();
const readApi = createReadApi({ documents, searchIndex, projections: progress, eventStore, readWaitMs: readWaitMsFromEnvironment() });
serveUntilSignalled({
  app: createServiceApp({ eventStore, routers: [readApi] }),
  port: config.port,
  host: config.host,
  service: 'query-side',
  stop: async () => {
    progress.stop();
    await documents.close();
    await searchIndex.close();
    await eventStore.close();
  },
});

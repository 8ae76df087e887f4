import { loadConfig, openDocumentStore, openEventStore, openSearchIndex, serveUntilSignalled } from '@folio/shared';
import { createWriteApi } from '@folio/command-side';
import { createProjections } from '@folio/projections';
import { createReadApi, readWaitMsFromEnvironment } from '@folio/query-side';
import { createFolioApp } from './folioApp.js';

/**
 * The whole system in one process on the embedded stores (or on the servers named by the
 * environment): `npm start`.
 */
const config = loadConfig();
const readWaitMs = readWaitMsFromEnvironment();
const eventStore = openEventStore(config);
const writeApi = createWriteApi({
  eventStore,
  nodeId: config.nodeId,
  idempotencyRetentionMs: config.idempotencyRetentionMs,
  stuckAfterMs: config.stuckAfterMs,
});
// Movements a crash interrupted are finished before new requests come in.
await writeApi.start();
const documents = openDocumentStore(config);
const searchIndex = openSearchIndex(config);
const projections = createProjections({ eventStore, documents, searchIndex });
// The read models catch up in the background; readers wait for the positions they need.
void projections.start().then(() => console.log(JSON.stringify({ msg: 'projections caught up' })));
const readApi = createReadApi({ documents, searchIndex, projections, eventStore, readWaitMs });
const app = createFolioApp({ eventStore, writeApi, readApi });

serveUntilSignalled({
  app,
  port: config.port,
  host: config.host,
  service: 'folio',
  describe: { eventStore: eventStore.kind, dataDir: config.dataDir },
  // In-flight requests have finished; the log is closed after the last append committed.
  stop: async () => {
    await writeApi.stop();
    await projections.stop();
    await documents.close();
    await searchIndex.close();
    await eventStore.close();
  },
});

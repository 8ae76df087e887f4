import { loadConfig, openDocumentStore, openEventStore, openSearchIndex } from '@folio/shared';
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
  sandboxProviders: config.sandboxProviders,
  providerSecrets: config.providerSecrets,
  callbackToleranceSeconds: config.callbackToleranceSeconds,
  payoutTimeoutMs: config.payoutTimeoutMs,
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

const server = app.listen(config.port, config.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  console.log(
    JSON.stringify({
      msg: 'folio listening',
      url: `http://localhost:${port}`,
      port,
      eventStore: eventStore.kind,
      dataDir: config.dataDir,
    }),
  );
});

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(JSON.stringify({ msg: 'folio stopping', signal }));
  // In-flight requests finish; then the log is closed after the last append committed.
  server.close(() => {
    void writeApi
      .stop()
      .then(() => projections.stop())
      .then(() => documents.close())
      .then(() => searchIndex.close())
      .then(() => eventStore.close())
      .then(() => process.exit(0));
  });
  server.closeIdleConnections();
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));

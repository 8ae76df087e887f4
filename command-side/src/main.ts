import { createServiceApp, loadConfig, openEventStore, serveUntilSignalled } from '@folio/shared';
import { createWriteApi } from './writeApi.js';

/** The write API as its own process, for the split topology (docker-compose's `command-side`). */
const config = loadConfig();
const eventStore = openEventStore(config);
const writeApi = createWriteApi({
  eventStore,
  nodeId: config.nodeId,
  idempotencyRetentionMs: config.idempotencyRetentionMs,
  stuckAfterMs: config.stuckAfterMs,
});
// Movements a crash interrupted are finished before new requests come in.
await writeApi.start();
serveUntilSignalled({
  app: createServiceApp({ eventStore, routers: [writeApi.router] }),
  port: config.port,
  host: config.host,
  service: 'command-side',
  describe: { eventStore: eventStore.kind },
  stop: async () => {
    await writeApi.stop();
    await eventStore.close();
  },
});

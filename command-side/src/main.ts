import {
  chainEventStore,
  composeAuditRuntime,
  createLogger,
  createMetrics,
  createServiceApp,
  serviceAppSettingsOf,
  composeSecurity,
  instrumentEventStore,
  loadAuditConfig,
  loadConfig,
  openDocumentStore,
  openEventStore,
  serveUntilSignalled,
} from '@folio/shared';
import { createStoredProgress, projectionDefinitions, readWaitMsFromEnvironment } from '@folio/projections';
import { readModelDiscrepancies } from './reconciliation/readModelDiscrepancies.js';
import { composeWriteApi } from './writeApiComposition.js';

/**
 * The write API as its own process, for the split topology (docker-compose's `command-side`). It
 * sheds load on commands in flight only. The exception workflow acts on the discrepancies of the
 * reconciliation read model, which it reads as the query side does: the projectors run elsewhere,
 * so their progress is read from the checkpoints they store.
 */
const config = loadConfig();
const logger = createLogger({ service: 'command-side', level: config.logLevel });
const metrics = createMetrics();
// Every append of the write side goes through the hash chain; this process also checkpoints.
const eventStore = chainEventStore(instrumentEventStore(openEventStore(config), metrics));
const { runtime: auditRuntime } = composeAuditRuntime({ eventStore, audit: loadAuditConfig(), dataDir: config.dataDir, logger });
const documents = openDocumentStore(config);
const progress = createStoredProgress({ documents, eventStore, definitions: projectionDefinitions, logger });
await progress.start();
const security = composeSecurity({ eventStore, config, logger, metrics });
const discrepancies = readModelDiscrepancies({ documents, progress, log: eventStore, waitMs: readWaitMsFromEnvironment() });
const { writeApi, guard, routers } = composeWriteApi({ eventStore, config, logger, metrics, security, discrepancies });
await security.start({ bootstrap: true });
// Movements a crash interrupted are finished before new requests come in.
await writeApi.start();
auditRuntime.start();
serveUntilSignalled({
  app: createServiceApp({ eventStore, guard, routers, logger, metrics, ...serviceAppSettingsOf(config) }),
  port: config.port,
  host: config.host,
  service: 'command-side',
  logger,
  shutdownDelayMs: config.shutdownDelayMs,
  describe: { eventStore: eventStore.kind },
  stop: async () => {
    await writeApi.stop();
    await auditRuntime.stop();
    await security.stop();
    progress.stop();
    await documents.close();
    await eventStore.close();
  },
});

import {
  chainEventStore,
  composeSecurity,
  createLagMonitor,
  createLogger,
  createMetrics,
  createServiceApp,
  serviceAppSettingsOf,
  loadAuditConfig,
  loadConfig,
  loadSigner,
  openDocumentStore,
  openEventStore,
  openSearchIndex,
  serveUntilSignalled,
} from '@folio/shared';
import { createStoredProgress, projectionDefinitions } from '@folio/projections';
import { createAuditApi } from './audit/auditApi.js';
import { createReadApi, visibleAccountsOf } from './readApi.js';
import { createWebUi } from './webUi.js';
import { readWaitMsFromEnvironment } from './readYourWrites.js';

/**
 * The read API as its own process, for the split topology (docker-compose's `query-side`): the
 * projectors run elsewhere, so their progress is read from the checkpoints they store.
 */
const config = loadConfig();
const logger = createLogger({ service: 'query-side', level: config.logLevel });
const metrics = createMetrics();
// Period closes are appended from here, so they are chained like every other book entry.
const eventStore = chainEventStore(openEventStore(config));
// Exports are signed with the checkpoints' key: in the split topology the command side and this
// service share FOLIO_AUDIT_SIGNING_KEY or the file FOLIO_AUDIT_SIGNING_KEY_FILE names.
const signer = loadSigner(loadAuditConfig(), config.dataDir);
const documents = openDocumentStore(config);
const searchIndex = openSearchIndex(config);
const progress = createStoredProgress({ documents, eventStore, definitions: projectionDefinitions, logger });
await progress.start();
const lag = createLagMonitor({
  eventStore,
  progress: () => progress.status(),
  onError: (error) => logger.warn({ err: error }, 'reading the projections lag failed'),
});
metrics.observeProjectionLag(() => lag.current());
await lag.start();
const security = composeSecurity({ eventStore, config, logger, metrics });
await security.start({ bootstrap: false });
const readApi = createReadApi({
  documents,
  searchIndex,
  projections: progress,
  eventStore,
  readWaitMs: readWaitMsFromEnvironment(),
  visibleAccounts: visibleAccountsOf(security.directory),
});
serveUntilSignalled({
  app: createServiceApp({
    eventStore,
    guard: security.middleware,
    routers: [readApi, createAuditApi({ eventStore, signer }), createWebUi()],
    logger,
    metrics,
    lag,
    ...serviceAppSettingsOf(config),
  }),
  port: config.port,
  host: config.host,
  service: 'query-side',
  logger,
  shutdownDelayMs: config.shutdownDelayMs,
  stop: async () => {
    lag.stop();
    progress.stop();
    await security.stop();
    await documents.close();
    await searchIndex.close();
    await eventStore.close();
  },
});

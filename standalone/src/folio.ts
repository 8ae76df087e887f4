import type { Express } from 'express';
import {
  chainEventStore,
  composeAuditRuntime,
  composeSecurity,
  createMetrics,
  createServiceApp,
  serviceAppSettingsOf,
  instrumentEventStore,
  loadAuditConfig,
  openDocumentStore,
  openEventStore,
  openSearchIndex,
  type AuditConfig,
  type EventStore,
  type FolioConfig,
  type Logger,
} from '@folio/shared';
import { composeWriteApi, readModelDiscrepancies, type WriteApiCompositionOptions } from '@folio/command-side';
import { composeProjections, type Projections } from '@folio/projections';
import { createAuditApi, createPaymentListApi, createReadApi, createWebUi, visibleAccountsOf } from '@folio/query-side';

export interface Folio {
  /** Every HTTP surface of Folio on one express app. */
  app: Express;
  eventStore: EventStore;
  projections: Projections;
  /** Settles once the read models have caught up with the log as it was at start. */
  caughtUp: Promise<void>;
  /** Flushes the projections' checkpoints and closes every store, the log last. */
  stop(): Promise<void>;
}

/**
 * The whole system in one process: the write API, the projections, the read API and the web UI
 * over the stores the configuration names: what `npm start` runs, and what tests and benchmarks
 * run in-process. Resolves once movements a crash interrupted are finished, so
 * the app may take requests; the read models catch up in the background.
 */
export const openFolio = async (
  config: FolioConfig,
  {
    logger,
    readWaitMs,
    audit = loadAuditConfig(),
    sandboxFaults,
  }: { logger: Logger; readWaitMs: number; audit?: AuditConfig; sandboxFaults?: WriteApiCompositionOptions['sandboxFaults'] },
): Promise<Folio> => {
  const metrics = createMetrics();
  // Every append of the running system goes through the hash chain.
  const eventStore = chainEventStore(instrumentEventStore(openEventStore(config), metrics));
  const { signer, runtime: auditRuntime } = composeAuditRuntime({ eventStore, audit, dataDir: config.dataDir, logger });
  const documents = openDocumentStore(config);
  const searchIndex = openSearchIndex(config);
  const { projections, lag } = composeProjections({ eventStore, documents, searchIndex, logger, metrics });
  const security = composeSecurity({ eventStore, config, logger, metrics });
  // The exception workflow acts on the discrepancies the read side knows, in the version it reads,
  // once that has caught up with the log.
  const discrepancies = readModelDiscrepancies({ documents, progress: projections, log: eventStore, waitMs: readWaitMs });
  const { writeApi, guard, routers: writeRouters } = composeWriteApi({
    eventStore,
    config,
    logger,
    metrics,
    lag,
    security,
    discrepancies,
    ...(sandboxFaults === undefined ? {} : { sandboxFaults }),
  });
  await security.start({ bootstrap: true });
  await writeApi.start();
  // Readers wait for the positions they need, bounded, while the read models catch up.
  const caughtUp = projections.start().then(() => logger.info('projections caught up'));
  // Before the checkpoints are read, the projections' status would read as "nothing projected".
  await projections.loaded();
  await lag.start();
  auditRuntime.start();
  const readApi = createReadApi({
    documents,
    searchIndex,
    projections,
    eventStore,
    readWaitMs,
    visibleAccounts: visibleAccountsOf(security.directory),
  });
  const auditApi = createAuditApi({ eventStore, signer });
  return {
    app: createServiceApp({
      eventStore,
      // Listing payments is the read model's: ahead of the write API's lookup by provider reference.
      guard,
      routers: [createPaymentListApi({ documents, projections, readWaitMs, eventStore }), ...writeRouters, readApi, auditApi, createWebUi()],
      logger,
      metrics,
      lag,
      ...serviceAppSettingsOf(config),
    }),
    eventStore,
    projections,
    caughtUp,
    stop: async () => {
      lag.stop();
      await writeApi.stop();
      await security.stop();
      await projections.stop();
      await auditRuntime.stop();
      await documents.close();
      await searchIndex.close();
      await eventStore.close();
    },
  };
};

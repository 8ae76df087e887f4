import { openDocumentStore, openEventStore, openSearchIndex, type FolioConfig } from '@folio/shared';
import { createWriteApi } from '@folio/command-side';
import { createProjections } from '@folio/projections';
import { createReadApi } from '@folio/query-side';
import type { Express } from 'express';
import { createFolioApp } from './folioApp.js';

export interface FolioSystemOptions {
  readWaitMs: number;
  /** Told once the projections have caught up with the log as it was at start. */
  onCaughtUp?: () => void;
}

/**
 * The whole system in one process, on the embedded stores or on the servers the configuration
 * names: what `npm start` runs, and what the browser tests and the UI benchmark run in-process.
 */
export const openFolioSystem = async (config: FolioConfig, options: FolioSystemOptions) => {
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
  const caughtUp = projections.start().then(() => options.onCaughtUp?.());
  const readApi = createReadApi({ documents, searchIndex, projections, eventStore, readWaitMs: options.readWaitMs });
  const app: Express = createFolioApp({ eventStore, writeApi, readApi });
  return {
    app,
    eventStore,
    projections,
    caughtUp,
    /** Stops in the order that loses nothing: the write side, then the readers, then the log. */
    async stop(): Promise<void> {
      await writeApi.stop();
      await projections.stop();
      await documents.close();
      await searchIndex.close();
      await eventStore.close();
    },
  };
};

export type FolioSystem = Awaited<ReturnType<typeof openFolioSystem>>;

import type { EventStore } from '../eventStore/eventStore.js';
import type { Logger } from '../observability/logger.js';
import type { AuditConfig } from './auditConfig.js';
import { createAuditRuntime, type AuditRuntime } from './auditRuntime.js';
import { loadSigner, type AuditSigner } from './signing.js';

/**
 * The audit's background work for the process that writes the books: the signing key (configured,
 * or generated into the data directory) and the checkpointer/snapshotter over the chained store.
 */
export const composeAuditRuntime = (options: {
  eventStore: EventStore;
  audit: AuditConfig;
  dataDir: string;
  logger: Logger;
}): { signer: AuditSigner; runtime: AuditRuntime } => {
  const signer = loadSigner(options.audit, options.dataDir);
  options.logger.info({ keyId: signer.keyId }, 'audit checkpoints are signed with this key');
  const runtime = createAuditRuntime({
    eventStore: options.eventStore,
    signer,
    checkpointEvery: options.audit.checkpointEvery,
    checkpointIntervalMs: options.audit.checkpointIntervalMs,
    snapshotEvery: options.audit.snapshotEvery,
    booksSnapshotEvery: options.audit.booksSnapshotEvery,
    onError: (error) => options.logger.warn({ err: error }, 'the audit checkpointer failed; it retries'),
    onWarning: (message) => options.logger.warn(message),
  });
  return { signer, runtime };
};

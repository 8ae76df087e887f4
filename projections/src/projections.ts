import type { DocumentStore, EventStore, GlobalPosition, RecordedEvent, SearchIndex } from '@folio/shared';
import { balancesProjection } from './balances/balancesProjection.js';
import { transactionHistoryProjection } from './history/transactionHistoryProjection.js';
import { paymentsProjection } from './payments/paymentsProjection.js';
import { reconciliationProjection } from './reconciliation/reconciliationProjection.js';
import type { ProjectionDefinition } from './runtime/projection.js';
import { createProjectorGroup, type ProjectorStatus } from './runtime/projector.js';

/** Every read model the query side serves. */
export const projectionDefinitions: readonly ProjectionDefinition[] = [
  balancesProjection,
  transactionHistoryProjection,
  paymentsProjection,
  reconciliationProjection,
];

/** Events per catch-up transaction on MongoDB (the embedded store takes the projector's default). */
export const MONGODB_CATCH_UP_BATCH_SIZE = 2_000;

export interface ProjectionsOptions {
  eventStore: EventStore;
  documents: DocumentStore;
  searchIndex: SearchIndex;
  onError?: (error: unknown) => void;
  /** What went wrong without stopping the projectors (a claim not released on stop). */
  onWarning?: (error: unknown) => void;
  onCommit?: (position: GlobalPosition, events: readonly RecordedEvent[]) => void;
}

/**
 * The read side's projections, run together (in `npm start`'s process or on their own): one
 * reading of the log feeds them all, and each batch commits them all.
 */
export const createProjections = (options: ProjectionsOptions) => {
  const projector = createProjectorGroup({
    ...options,
    readModels: projectionDefinitions.map((definition) => ({ definition })),
    // A MongoDB transaction keeps its writes in the server's cache and must end within its
    // lifetime limit (60 s by default): there, catching up takes smaller transactions.
    ...(options.documents.kind === 'mongodb' ? { catchUpBatchSize: MONGODB_CATCH_UP_BATCH_SIZE } : {}),
  });
  return {
    /** Starts the projections; resolves once they have caught up with the log. */
    start: (): Promise<void> => projector.start(),
    /** Resolves once the stored checkpoints are read (after `start`): `status` is then meaningful. */
    loaded: (): Promise<void> => projector.loaded(),
    /** True once the read models named (every one without names) reflect the log up to `position`; false after `timeoutMs`. */
    waitFor: (position: GlobalPosition, timeoutMs: number, names?: readonly string[]): Promise<boolean> =>
      projector.waitFor(position, timeoutMs, names),
    status: (): ProjectorStatus[] => projector.status(),
    stop: (): Promise<void> => projector.stop(),
  };
};

export type Projections = ReturnType<typeof createProjections>;

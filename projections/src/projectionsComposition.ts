import { createLagMonitor, type DocumentStore, type EventStore, type Logger, type Metrics, type SearchIndex } from '@folio/shared';
import { createProjections } from './projections.js';
import { readReconciliationTotals } from './reconciliation/reconciliationTotals.js';

export interface ProjectionsCompositionOptions {
  eventStore: EventStore;
  documents: DocumentStore;
  searchIndex: SearchIndex;
  logger: Logger;
  metrics: Metrics;
}

/** The projectors as a process runs them: errors logged, lag monitored and exported as metrics. */
export const composeProjections = ({ eventStore, documents, searchIndex, logger, metrics }: ProjectionsCompositionOptions) => {
  const projections = createProjections({
    eventStore,
    documents,
    searchIndex,
    onError: (error) => logger.error({ err: error }, 'projector error'),
  });
  const lag = createLagMonitor({
    eventStore,
    progress: () => projections.status(),
    onError: (error) => logger.warn({ err: error }, 'reading the projections lag failed'),
  });
  metrics.observeProjectionLag(() => lag.current());
  metrics.observeReconciliation(() => readReconciliationTotals(documents));
  return { projections, lag };
};

import {
  createLagMonitor,
  type DocumentStore,
  type EventStore,
  type Logger,
  type Metrics,
  type RecordedEvent,
  type SearchIndex,
} from '@folio/shared';
import { createProjections } from './projections.js';
import { readReconciliationTotals } from './reconciliation/reconciliationTotals.js';

const MAX_IDS_PER_LINE = 100;

const distinctMetadata = (events: readonly RecordedEvent[], key: string): string[] => {
  const ids = new Set<string>();
  for (const { metadata } of events) {
    const id = metadata?.[key];
    if (typeof id === 'string') ids.add(id);
    if (ids.size === MAX_IDS_PER_LINE) break;
  }
  return [...ids];
};

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
    onWarning: (error) => logger.warn({ err: error }, 'projector warning'),
    // At debug level a request can be followed by its correlation id into the read models.
    onCommit: (position, events) => {
      if (events.length === 0 || !logger.isLevelEnabled('debug')) return;
      logger.debug(
        {
          position: position.toString(),
          events: events.length,
          correlationIds: distinctMetadata(events, '$correlationId'),
          causationIds: distinctMetadata(events, '$causationId'),
        },
        'projected',
      );
    },
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

export * from './logger.js';
export * from './metrics.js';
export * from './projectionLag.js';
export * from './instrumentedEventStore.js';
export * from './commandMetrics.js';
export * from './loadShedding.js';
export * from './operationsRoutes.js';
export * from './requestLog.js';

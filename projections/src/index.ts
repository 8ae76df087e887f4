export * from './projections.js';
export * from './runtime/projection.js';
export * from './runtime/projector.js';
export * from './balances/balancesProjection.js';
export * from './history/transactionHistoryProjection.js';
export * from './runtime/storedProgress.js';
export * from './runtime/slowestPosition.js';
export * from './projectionsComposition.js';

export * from './statementEvents.js';
export * from './statementCatalog.js';
export * from './statementStreams.js';

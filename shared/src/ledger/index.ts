export * from './journal.js';
export * from './accountEvents.js';
export * from './movementEvents.js';
export * from './ledgerCatalog.js';
export * from './streams.js';
export * from './systemAccounts.js';
export * from './ledgerInvariants.js';
export * from './compensations.js';

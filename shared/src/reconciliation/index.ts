export * from './reconciliationEvents.js';

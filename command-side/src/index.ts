export * from './writeApi.js';
export * from './writeApiComposition.js';
export * from './reconciliation/discrepancyLookup.js';
export * from './reconciliation/readModelDiscrepancies.js';
export * from './statements/importStatementCommand.js';
export * from './statements/statementImportService.js';
export { createOpenJournals, type OpenJournal } from './movements/openJournals.js';
export { decodeRecoveryCheckpoint, RECOVERY_CHECKPOINT_STREAM, type RecoveryCheckpoint } from './movements/recoveryCheckpoint.js';

export * from './writeApi.js';
export * from './writeApiComposition.js';
export * from './statements/importStatementCommand.js';
export * from './statements/statementImportService.js';

export * from './readApi.js';
export * from './readYourWrites.js';
export * from './transactionSearch.js';
export * from './accountReads.js';
export * from './webUi.js';
export * from './audit/auditApi.js';
export * from './paymentReads.js';

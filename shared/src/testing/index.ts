export { describeEventStoreContract } from './eventStoreContract.js';
export type { EventStoreContractFactory } from './eventStoreContractFactory.js';
export { describeDocumentStoreContract, type DocumentStoreContractFactory } from './documentStoreContract.js';
export { describeSearchIndexContract, type SearchIndexContractFactory } from './searchIndexContract.js';
export * from './reconciliationEvents.js';
export { median } from './median.js';
export { numberFromEnv } from './benchEnvironment.js';
export { capturedLog } from './capturedLog.js';
export { rejectionOf } from './rejectionOf.js';

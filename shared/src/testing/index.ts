export { describeEventStoreContract } from './eventStoreContract.js';
export type { EventStoreContractFactory } from './eventStoreContractFactory.js';

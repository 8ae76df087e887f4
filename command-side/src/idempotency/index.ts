export * from './claimLease.js';
export * from './errors.js';
export * from './idempotencyEvents.js';
export * from './idempotencyStore.js';
export * from './idempotentRoute.js';
export * from './requestFingerprint.js';

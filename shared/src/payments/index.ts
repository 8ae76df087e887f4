export * from './paymentEvents.js';
export * from './payoutEvents.js';
export * from './providerReferenceEvents.js';
export * from './paymentCatalog.js';

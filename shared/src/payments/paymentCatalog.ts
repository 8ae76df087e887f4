import { createEventCatalog, type CatalogEvent, type CatalogEventOfType } from '../events/catalog.js';
import { paymentEventDefinitions } from './paymentEvents.js';
import { payoutEventDefinitions } from './payoutEvents.js';
import { providerEventDefinitions } from './providerReferenceEvents.js';

/** Every event of payments, payouts and provider references: what read models of payments read. */
export const paymentCatalog = createEventCatalog([
  ...paymentEventDefinitions,
  ...payoutEventDefinitions,
  ...providerEventDefinitions,
]);

export type PaymentCatalogEvent = CatalogEvent<typeof paymentCatalog>;
export type PaymentCatalogEventOfType<T extends PaymentCatalogEvent['type']> = CatalogEventOfType<typeof paymentCatalog, T>;

export const paymentStream = (paymentId: string): string => `payment-${paymentId}`;
export const payoutStream = (payoutId: string): string => `payout-${payoutId}`;

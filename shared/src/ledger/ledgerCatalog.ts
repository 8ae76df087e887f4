import { createEventCatalog, type CatalogEvent, type CatalogEventOfType } from '../events/catalog.js';
import { accountEventDefinitions } from './accountEvents.js';
import { movementEventDefinitions } from './movementEvents.js';

/** Every event of the books: what deciders emit, processes react to and projections read. */
export const ledgerCatalog = createEventCatalog([...accountEventDefinitions, ...movementEventDefinitions]);

export type LedgerEvent = CatalogEvent<typeof ledgerCatalog>;
export type LedgerEventOfType<T extends LedgerEvent['type']> = CatalogEventOfType<typeof ledgerCatalog, T>;

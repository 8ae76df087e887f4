import { createEventCatalog, type CatalogEvent, type CatalogEventOfType } from '../events/catalog.js';
import { statementEventDefinitions } from './statementEvents.js';

/** Every event of imported statements: what the importer writes and reconciliation reads. */
export const statementCatalog = createEventCatalog(statementEventDefinitions);

export type StatementEvent = CatalogEvent<typeof statementCatalog>;
export type StatementEventOfType<T extends StatementEvent['type']> = CatalogEventOfType<typeof statementCatalog, T>;

import { reconciliationCatalog, type EventStore } from '@folio/shared';
import { catalogCodec } from '../commandHandling/catalogCodec.js';
import { createCommandHandler, type CommandHandler } from '../commandHandling/commandHandler.js';
import { discrepancyDecider, discrepancyEventTypes, type DiscrepancyCase, type DiscrepancyCommand, type DiscrepancyEvent } from './discrepancyDecider.js';

export type DiscrepancyCommandHandler = CommandHandler<DiscrepancyCase, DiscrepancyCommand>;

export const createDiscrepancyCommandHandler = (eventStore: EventStore): DiscrepancyCommandHandler =>
  createCommandHandler({
    eventStore,
    codec: catalogCodec<DiscrepancyEvent>(reconciliationCatalog, discrepancyEventTypes),
    decider: discrepancyDecider,
  });

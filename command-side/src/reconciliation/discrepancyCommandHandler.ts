import { reconciliationCatalog, type EventStore } from '@folio/shared';
import { catalogCodec } from '../commandHandling/catalogCodec.js';
import { withoutRunStamps } from '../commandHandling/commandDigest.js';
import { createCommandHandler, type CommandHandler } from '../commandHandling/commandHandler.js';
import { discrepancyDecider, discrepancyEventTypes, type DiscrepancyCase, type DiscrepancyCommand, type DiscrepancyEvent } from './discrepancyDecider.js';

export type DiscrepancyCommandHandler = CommandHandler<DiscrepancyCase, DiscrepancyCommand>;

/**
 * What a discrepancy command asks. A correcting journal's failure releases its claim whatever
 * refusal explains it: the claimant's run and a request taking its claim over may each meet the
 * refusal of their moment (one leg or the other out of bounds), and the one recorded first stands.
 */
export const discrepancyCommandIdentity = (command: DiscrepancyCommand): unknown => {
  const asked = withoutRunStamps(command) as Record<string, unknown>;
  if (command.type !== 'fail-resolution') return asked;
  const { failure: _failure, ...rest } = asked;
  return rest;
};

export const createDiscrepancyCommandHandler = (eventStore: EventStore): DiscrepancyCommandHandler =>
  createCommandHandler({
    eventStore,
    codec: catalogCodec<DiscrepancyEvent>(reconciliationCatalog, discrepancyEventTypes),
    decider: discrepancyDecider,
    commandIdentity: discrepancyCommandIdentity,
  });

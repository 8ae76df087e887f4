import { paymentCatalog, type EventStore } from '@folio/shared';
import { catalogCodec } from '../commandHandling/catalogCodec.js';
import { withoutRunStamps } from '../commandHandling/commandDigest.js';
import { createCommandHandler, type CommandHandler } from '../commandHandling/commandHandler.js';
import type { EventPayload } from '../commandHandling/decider.js';
import { payoutDecider, type PayoutCommand } from './payoutDecider.js';
import { payoutEventTypes, type PayoutEvent, type PayoutState } from './payoutState.js';

export type PayoutCommandHandler = CommandHandler<PayoutState, PayoutCommand>;

/**
 * What a payout command asks. A request's deadline is the clock of the run that made it, so a run
 * taking over an interrupted one asks the same with another; a failure is the same whether its
 * deadline passed or the provider answered first (one instance each), and the one recorded first stands.
 */
export const payoutCommandIdentity = (command: PayoutCommand): unknown => {
  const asked = withoutRunStamps(command) as Record<string, unknown>;
  switch (command.type) {
    case 'RequestPayout': {
      const { deadline: _deadline, ...rest } = asked;
      return rest;
    }
    case 'MarkPayoutFailed': {
      const { reason: _reason, timedOut: _timedOut, ...rest } = asked;
      return rest;
    }
    default:
      return asked;
  }
};

export const createPayoutCommandHandler = (eventStore: EventStore): PayoutCommandHandler =>
  createCommandHandler({
    eventStore,
    codec: catalogCodec<EventPayload<PayoutEvent>>(paymentCatalog, payoutEventTypes),
    decider: payoutDecider,
    commandIdentity: payoutCommandIdentity,
  });

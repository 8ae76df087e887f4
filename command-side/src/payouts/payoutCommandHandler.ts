import { paymentCatalog, type EventStore } from '@folio/shared';
import { catalogCodec } from '../commandHandling/catalogCodec.js';
import { createCommandHandler, type CommandHandler } from '../commandHandling/commandHandler.js';
import type { EventPayload } from '../commandHandling/decider.js';
import { payoutDecider, type PayoutCommand } from './payoutDecider.js';
import { payoutEventTypes, type PayoutEvent, type PayoutState } from './payoutState.js';

export type PayoutCommandHandler = CommandHandler<PayoutState, PayoutCommand>;

export const createPayoutCommandHandler = (eventStore: EventStore): PayoutCommandHandler =>
  createCommandHandler({
    eventStore,
    codec: catalogCodec<EventPayload<PayoutEvent>>(paymentCatalog, payoutEventTypes),
    decider: payoutDecider,
  });

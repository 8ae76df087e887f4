import { paymentCatalog, type EventStore } from '@folio/shared';
import { catalogCodec } from '../commandHandling/catalogCodec.js';
import { createCommandHandler, type CommandHandler } from '../commandHandling/commandHandler.js';
import type { EventPayload } from '../commandHandling/decider.js';
import { paymentDecider, type PaymentCommand } from './paymentDecider.js';
import { paymentEventTypes, type PaymentEvent, type PaymentState } from './paymentState.js';

export type PaymentCommandHandler = CommandHandler<PaymentState, PaymentCommand>;

export const createPaymentCommandHandler = (eventStore: EventStore): PaymentCommandHandler =>
  createCommandHandler({
    eventStore,
    codec: catalogCodec<EventPayload<PaymentEvent>>(paymentCatalog, paymentEventTypes),
    decider: paymentDecider,
  });

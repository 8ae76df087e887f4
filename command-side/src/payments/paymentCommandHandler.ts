import { paymentCatalog, type EventStore } from '@folio/shared';
import { catalogCodec } from '../commandHandling/catalogCodec.js';
import { withoutRunStamps } from '../commandHandling/commandDigest.js';
import { createCommandHandler, type CommandHandler } from '../commandHandling/commandHandler.js';
import type { EventPayload } from '../commandHandling/decider.js';
import { paymentDecider, type PaymentCommand } from './paymentDecider.js';
import { paymentEventTypes, type PaymentEvent, type PaymentState } from './paymentState.js';

export type PaymentCommandHandler = CommandHandler<PaymentState, PaymentCommand>;

/**
 * What a payment command asks. A failure, a decline, a booking or a route to suspense is the same
 * whatever words explain it: two runs (a provider's callback and a retried request, two
 * deliveries) word it as they found it, and the one recorded first stands.
 */
export const paymentCommandIdentity = (command: PaymentCommand): unknown => {
  const asked = withoutRunStamps(command) as Record<string, unknown>;
  switch (command.type) {
    case 'FailPayment':
    case 'DeclineSubmission':
    case 'DeclineRefund': {
      const { reason: _reason, ...rest } = asked;
      return rest;
    }
    case 'BookCaptureToSuspense':
    case 'BookRefundFromSuspense':
    case 'ChooseRoute': {
      const { refusal: _refusal, ...rest } = asked;
      return rest;
    }
    default:
      return asked;
  }
};

export const createPaymentCommandHandler = (eventStore: EventStore): PaymentCommandHandler =>
  createCommandHandler({
    eventStore,
    codec: catalogCodec<EventPayload<PaymentEvent>>(paymentCatalog, paymentEventTypes),
    decider: paymentDecider,
    commandIdentity: paymentCommandIdentity,
  });

import {
  deterministicEventId,
  MalformedJsonError,
  NotFoundError,
  paymentCatalog,
  providerCallbacksStream,
  providerSchema,
  type EventStore,
  type JsonValue,
  type PaymentCallbackType,
  type PaymentProvider,
  type PayoutCallbackType,
} from '@folio/shared';
import type { Classification } from '../payments/paymentDecider.js';
import type { PaymentService } from '../payments/paymentService.js';
import type { PayoutService } from '../payouts/payoutService.js';
import { parseCallbackPayload, type CallbackPayload } from './callbackPayload.js';
import { createReplayGuard, verifyCallbackSignature } from './callbackSignature.js';
import { CallbackSignatureError } from './providerErrors.js';
import type { ProviderReferences } from './providerReferences.js';
import type { ProviderRegistry } from './providerRegistry.js';

export interface CallbackReceiverDependencies {
  eventStore: EventStore;
  providers: ProviderRegistry;
  references: ProviderReferences;
  payments: PaymentService;
  payouts: PayoutService;
  clock: () => Date;
  toleranceSeconds: number;
}

export interface CallbackAnswer {
  status: number;
  body: JsonValue;
}

const isPaymentCallback = (type: string): type is PaymentCallbackType => type.startsWith('payment.');

/**
 * Where provider callbacks enter: the signature and its age are checked before anything else
 * (a forged or replayed callback is refused with nothing written), then the body's shape, then
 * the callback goes to the payment or payout it names: by the provider's reference, or by Folio's
 * id for a callback that overtook the submission. Each one leaves an event, matched or not.
 */
export const createCallbackReceiver = (deps: CallbackReceiverDependencies) => {
  const { providers, references, payments, payouts, clock } = deps;
  const replays = createReplayGuard(deps.toleranceSeconds);

  const targetOf = async (provider: PaymentProvider, payload: CallbackPayload) => {
    const resource = isPaymentCallback(payload.type) ? 'payment' : 'payout';
    const owner = await references.lookup(provider, payload.data.reference);
    if (owner !== undefined) return owner.resource === resource ? owner : undefined;
    const { folioId } = payload.data;
    if (folioId === undefined) return undefined;
    const found = resource === 'payment' ? await payments.find(folioId) : await payouts.find(folioId);
    return found?.provider === provider ? { resource, resourceId: folioId } : undefined;
  };

  const recordUnmatched = async (
    provider: PaymentProvider,
    payload: CallbackPayload,
    run: { correlationId: string; actor: string },
  ) => {
    const streamName = providerCallbacksStream(provider);
    const receivedAt = clock().toISOString();
    await deps.eventStore.appendToStream(
      streamName,
      [
        paymentCatalog.encode({
          type: 'ProviderCallbackUnmatched',
          id: deterministicEventId(streamName, payload.id),
          version: 1,
          data: {
            provider,
            eventId: payload.id,
            callbackType: payload.type,
            providerRef: payload.data.reference,
            detail: 'no payment or payout of this provider has this reference or id',
            receivedAt,
          },
          metadata: { $correlationId: run.correlationId, actor: run.actor, occurredAt: receivedAt },
        }),
      ],
      { expectedRevision: 'any' },
    );
  };

  const answer = (
    resource: string,
    resourceId: string,
    payload: CallbackPayload,
    classification: Classification,
  ): CallbackAnswer => ({
    status: 200,
    body: {
      eventId: payload.id,
      resource,
      resourceId,
      outcome: classification.outcome,
      flaggedForReconciliation: classification.flagged,
      detail: classification.detail,
    },
  });

  return {
    async receive(
      providerName: string,
      rawBody: Buffer,
      signature: string | undefined,
      correlationId: string,
    ): Promise<CallbackAnswer> {
      const parsedProvider = providerSchema.safeParse(providerName);
      if (!parsedProvider.success || !providers.has(parsedProvider.data)) throw new NotFoundError('provider', providerName);
      const provider = parsedProvider.data;
      const nowSeconds = Math.floor(clock().getTime() / 1000);
      const verified = verifyCallbackSignature(providers.secretOf(provider), signature, rawBody, {
        toleranceSeconds: deps.toleranceSeconds,
        nowSeconds,
      });
      if (replays.has(verified))
        throw new CallbackSignatureError('callback-replayed', 'this signed callback was already received');
      let json: unknown;
      try {
        json = JSON.parse(rawBody.toString('utf8'));
      } catch {
        throw new MalformedJsonError('the callback body is not valid JSON');
      }
      const payload = parseCallbackPayload(json);
      const run = { correlationId, actor: `provider:${provider}` };
      const target = await targetOf(provider, payload);
      let result: CallbackAnswer;
      if (target === undefined) {
        await recordUnmatched(provider, payload, run);
        result = { status: 202, body: { eventId: payload.id, outcome: 'unmatched', flaggedForReconciliation: true } };
      } else if (target.resource === 'payment') {
        const classification = await payments.receiveCallback(
          target.resourceId,
          {
            eventId: payload.id,
            callbackType: payload.type as PaymentCallbackType,
            providerCreatedAt: payload.createdAt,
            ...(payload.data.amount === undefined ? {} : { amount: payload.data.amount }),
            ...(payload.data.fee === undefined ? {} : { fee: payload.data.fee }),
            ...(payload.data.reason === undefined ? {} : { reason: payload.data.reason }),
            ...(payload.data.refundReference === undefined ? {} : { providerRefundRef: payload.data.refundReference }),
          },
          run,
        );
        result = answer('payment', target.resourceId, payload, classification);
      } else {
        const classification = await payouts.receiveCallback(
          target.resourceId,
          {
            eventId: payload.id,
            callbackType: payload.type as PayoutCallbackType,
            providerCreatedAt: payload.createdAt,
            ...(payload.data.reason === undefined ? {} : { reason: payload.data.reason }),
          },
          run,
        );
        result = answer('payout', target.resourceId, payload, classification);
      }
      // Only a callback that was handled counts as received: after a failure the provider's retry must get through.
      replays.remember(verified, nowSeconds);
      return result;
    },
  };
};

export type CallbackReceiver = ReturnType<typeof createCallbackReceiver>;

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
import type { ProviderReferences, ReferenceOwner } from './providerReferences.js';
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

/** Where a callback goes: the payment or payout it is about, or nowhere, and why. */
type Route = { target: ReferenceOwner } | { unmatched: string };

const NOTHING_MATCHES: Route = { unmatched: 'no payment or payout of this provider has this reference or id' };

/**
 * Where provider callbacks enter: the signature and its age are checked before anything else
 * (a forged or replayed callback is refused with nothing written), then the body's shape, then
 * the callback goes to the payment or payout it names: by the provider's reference, or by Folio's
 * id for a callback that overtook the submission; when it names both, they must agree. Each one
 * leaves an event, matched or not.
 */
export const createCallbackReceiver = (deps: CallbackReceiverDependencies) => {
  const { providers, references, payments, payouts, clock } = deps;
  const replays = createReplayGuard(deps.toleranceSeconds);

  const routeOf = async (provider: PaymentProvider, payload: CallbackPayload): Promise<Route> => {
    const resource = isPaymentCallback(payload.type) ? 'payment' : 'payout';
    const { reference, folioId } = payload.data;
    const owner = await references.lookup(provider, reference);
    if (owner !== undefined) {
      if (owner.resource !== resource) return NOTHING_MATCHES;
      // The provider got Folio's id with the submission; a caller may record any reference at
      // submission, so one claimed by another payment must not take this payment's callbacks.
      if (folioId !== undefined && folioId !== owner.resourceId) {
        const detail = `the reference belongs to ${resource} ${owner.resourceId}, the callback names ${folioId}`;
        return { unmatched: `${detail}: applied to neither` };
      }
      return { target: owner };
    }
    if (folioId === undefined) return NOTHING_MATCHES;
    const found = resource === 'payment' ? await payments.find(folioId) : await payouts.find(folioId);
    if (found?.provider !== provider) return NOTHING_MATCHES;
    // A callback about another reference than the one the payment or payout has is not about its money.
    if (found.providerRef !== undefined && found.providerRef !== reference) {
      const detail = `${resource} ${folioId} has the reference ${found.providerRef}, the callback names ${reference}`;
      return { unmatched: `${detail}: applied to none` };
    }
    return { target: { resource, resourceId: folioId } };
  };

  const recordUnmatched = async (
    provider: PaymentProvider,
    payload: CallbackPayload,
    detail: string,
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
            detail,
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

  /** Routes a verified callback and applies it where it belongs. */
  const handle = async (provider: PaymentProvider, rawBody: Buffer, correlationId: string): Promise<CallbackAnswer> => {
    let json: unknown;
    try {
      json = JSON.parse(rawBody.toString('utf8'));
    } catch {
      throw new MalformedJsonError('the callback body is not valid JSON');
    }
    const payload = parseCallbackPayload(json);
    const run = { correlationId, actor: `provider:${provider}` };
    const route = await routeOf(provider, payload);
    if ('unmatched' in route) {
      await recordUnmatched(provider, payload, route.unmatched, run);
      return {
        status: 202,
        body: { eventId: payload.id, outcome: 'unmatched', flaggedForReconciliation: true, detail: route.unmatched },
      };
    }
    const { target } = route;
    const { amount, currency, fee, reason, refundReference } = payload.data;
    // What payments and payouts read alike of a callback; fields the provider left out stay out.
    const callback = {
      eventId: payload.id,
      providerCreatedAt: payload.createdAt,
      ...(amount === undefined ? {} : { amount }),
      ...(currency === undefined ? {} : { currency }),
      ...(reason === undefined ? {} : { reason }),
    };
    if (target.resource === 'payment') {
      const classification = await payments.receiveCallback(
        target.resourceId,
        {
          ...callback,
          callbackType: payload.type as PaymentCallbackType,
          ...(fee === undefined ? {} : { fee }),
          ...(refundReference === undefined ? {} : { providerRefundRef: refundReference }),
          // Kept with the callback: one that waits for the submission must still be about the charge submitted.
          providerRef: payload.data.reference,
        },
        run,
      );
      return answer('payment', target.resourceId, payload, classification);
    }
    const classification = await payouts.receiveCallback(
      target.resourceId,
      { ...callback, callbackType: payload.type as PayoutCallbackType },
      run,
    );
    return answer('payout', target.resourceId, payload, classification);
  };

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
      // Claimed before anything is awaited: a copy of this request arriving meanwhile is a replay.
      if (!replays.claim(verified, nowSeconds))
        throw new CallbackSignatureError('callback-replayed', 'this signed callback was already received');
      try {
        return await handle(provider, rawBody, correlationId);
      } catch (error) {
        // Only a callback that was handled counts as received: after a failure the provider's retry must get through.
        replays.release(verified);
        throw error;
      }
    },
  };
};

export type CallbackReceiver = ReturnType<typeof createCallbackReceiver>;

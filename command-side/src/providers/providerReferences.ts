import {
  deterministicEventId,
  paymentCatalog,
  providerReferenceStream,
  StreamNotFoundError,
  WrongExpectedRevisionError,
  type EventStore,
  type PaymentCatalogEvent,
  type PaymentProvider,
} from '@folio/shared';
import { ProviderReferenceTakenError } from '../payments/paymentErrors.js';

export interface ReferenceOwner {
  resource: 'payment' | 'payout';
  resourceId: string;
}

/**
 * Maps provider references to Folio's ids where they enter: a claim is appended only if the
 * reference has no stream yet, so one `(provider, reference)` belongs to one payment or payout.
 */
export const createProviderReferences = (eventStore: EventStore, clock: () => Date) => {
  const lookup = async (provider: PaymentProvider, providerRef: string): Promise<ReferenceOwner | undefined> => {
    try {
      for await (const recorded of eventStore.readStream(providerReferenceStream(provider, providerRef), { maxCount: 1 })) {
        const event = paymentCatalog.decode(recorded) as PaymentCatalogEvent;
        if (event.type === 'ProviderReferenceClaimed')
          return { resource: event.data.resource, resourceId: event.data.resourceId };
      }
    } catch (error) {
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
    return undefined;
  };

  return {
    lookup,
    /** Claims the reference for `owner`; claiming it again for the same owner is a no-op. */
    async claim(
      provider: PaymentProvider,
      providerRef: string,
      owner: ReferenceOwner,
      run: { correlationId: string; actor: string },
    ) {
      const streamName = providerReferenceStream(provider, providerRef);
      const claimedAt = clock().toISOString();
      const event = paymentCatalog.encode({
        type: 'ProviderReferenceClaimed',
        id: deterministicEventId(streamName, owner.resource, owner.resourceId),
        version: 1,
        data: { provider, providerRef, resource: owner.resource, resourceId: owner.resourceId, claimedAt },
        metadata: { $correlationId: run.correlationId, actor: run.actor, occurredAt: claimedAt },
      });
      try {
        await eventStore.appendToStream(streamName, [event], { expectedRevision: 'no_stream' });
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        const current = await lookup(provider, providerRef);
        if (current?.resource !== owner.resource || current.resourceId !== owner.resourceId) {
          throw new ProviderReferenceTakenError(provider, providerRef);
        }
      }
    },
  };
};

export type ProviderReferences = ReturnType<typeof createProviderReferences>;

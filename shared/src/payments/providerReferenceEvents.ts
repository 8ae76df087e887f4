import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineEvent } from '../events/eventDefinition.js';
import { snowflakeIdSchema } from '../ids/index.js';
import { providerSchema } from './paymentEvents.js';

/**
 * A provider's reference belongs to one Folio payment or payout. The claim is the only event of
 * `provider-ref-<provider>-<sha256(reference)>`, appended only if that stream does not exist yet,
 * so two payments can never hold one `(provider, reference)`, across processes too. It is also
 * how a reference is looked up: callers search by it, Folio's ids stay the keys.
 */
export const providerReferenceClaimed = defineEvent({
  type: 'ProviderReferenceClaimed',
  version: 1,
  schema: z.object({
    provider: providerSchema,
    providerRef: z.string().min(1),
    resource: z.enum(['payment', 'payout']),
    resourceId: snowflakeIdSchema,
    claimedAt: z.iso.datetime(),
  }),
});

/** A callback that names no payment or payout Folio knows; kept on `provider-callbacks-<provider>`. */
export const providerCallbackUnmatched = defineEvent({
  type: 'ProviderCallbackUnmatched',
  version: 1,
  schema: z.object({
    provider: providerSchema,
    eventId: z.string().min(1),
    callbackType: z.string().min(1),
    providerRef: z.string().optional(),
    detail: z.string(),
    receivedAt: z.iso.datetime(),
  }),
});

export const providerReferenceStream = (provider: string, providerRef: string): string =>
  `provider-ref-${provider}-${createHash('sha256').update(providerRef).digest('hex')}`;

export const providerCallbacksStream = (provider: string): string => `provider-callbacks-${provider}`;

export const providerEventDefinitions = [providerReferenceClaimed, providerCallbackUnmatched] as const;

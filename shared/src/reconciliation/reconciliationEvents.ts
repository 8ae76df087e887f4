import { z } from 'zod';
import { defineEvent } from '../events/eventDefinition.js';
import { createEventCatalog, type CatalogEvent } from '../events/catalog.js';
import { positiveAmountSchema } from '../ledger/journal.js';
import { currencyCodeSchema } from '../money/index.js';
import { providerSchema } from '../payments/paymentEvents.js';

/**
 * The exception workflow of a reconciliation discrepancy, on its own stream
 * (`reconciliation-<discrepancyId>`): who did what and why. The discrepancy itself is derived by
 * the reconciliation projection; these events only ever add to its history.
 */

/** The projection's id of a discrepancy: 32 lower-case hex characters. */
export const discrepancyIdSchema = z.string().regex(/^[0-9a-f]{32}$/, { error: 'expected a discrepancy id (32 hex characters)' });

const actorSchema = { by: z.string().min(1), reason: z.string().min(1).max(2000) };

export const discrepancyAcknowledged = defineEvent({
  type: 'DiscrepancyAcknowledged',
  version: 1,
  schema: z.object({ discrepancyId: discrepancyIdSchema, ...actorSchema, acknowledgedAt: z.iso.datetime() }),
});

export const discrepancyAssigned = defineEvent({
  type: 'DiscrepancyAssigned',
  version: 1,
  schema: z.object({
    discrepancyId: discrepancyIdSchema,
    assignee: z.string().min(1).max(200),
    ...actorSchema,
    assignedAt: z.iso.datetime(),
  }),
});

/** How a discrepancy was closed: the correcting journal, when money had to move. */
export const discrepancyResolutions = ['suspense', 'write_off', 'refund', 'no_action'] as const;
export type DiscrepancyResolution = (typeof discrepancyResolutions)[number];

export const discrepancyResolved = defineEvent({
  type: 'DiscrepancyResolved',
  version: 1,
  schema: z.object({
    discrepancyId: discrepancyIdSchema,
    resolution: z.enum(discrepancyResolutions),
    /** The correcting journal posted for it, when there is one. */
    journalId: z.string().min(1).optional(),
    ...actorSchema,
    resolvedAt: z.iso.datetime(),
  }),
});

/**
 * A resolution that moves money, claimed on the discrepancy's stream before its correcting
 * journal is posted: a discrepancy gets one such claim, so it gets one journal and one resolution
 * however many resolve it at once.
 */
export const discrepancyResolutionStarted = defineEvent({
  type: 'DiscrepancyResolutionStarted',
  version: 1,
  schema: z.object({
    discrepancyId: discrepancyIdSchema,
    resolution: z.enum(['suspense', 'write_off', 'refund']),
    journalId: z.string().min(1),
    correction: z.object({ amount: positiveAmountSchema, currency: currencyCodeSchema, provider: providerSchema }),
    ...actorSchema,
    startedAt: z.iso.datetime(),
  }),
});

/**
 * A claimed resolution whose correcting journal did not post: its first leg was refused (nothing
 * was written), or its second was and the first was reversed. The claim is released and the
 * discrepancy stays unresolved, so another resolution can be tried.
 */
export const discrepancyResolutionFailed = defineEvent({
  type: 'DiscrepancyResolutionFailed',
  version: 1,
  schema: z.object({
    discrepancyId: discrepancyIdSchema,
    journalId: z.string().min(1),
    /** The refusal: the refusing account's problem type and its detail. */
    failure: z.object({ type: z.string().min(1), detail: z.string() }),
    ...actorSchema,
    failedAt: z.iso.datetime(),
  }),
});

export const reconciliationCatalog = createEventCatalog([
  discrepancyAcknowledged,
  discrepancyAssigned,
  discrepancyResolutionStarted,
  discrepancyResolutionFailed,
  discrepancyResolved,
]);
export type ReconciliationEvent = CatalogEvent<typeof reconciliationCatalog>;

export const RECONCILIATION_STREAM_PREFIX = 'reconciliation-';
export const reconciliationStream = (discrepancyId: string): string => `${RECONCILIATION_STREAM_PREFIX}${discrepancyId}`;

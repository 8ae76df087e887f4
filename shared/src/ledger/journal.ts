import { z } from 'zod';
import { bigintString } from '../events/bigintJson.js';
import { snowflakeIdSchema } from '../ids/index.js';
import { currencyCodeSchema } from '../money/index.js';

/**
 * A money movement is a journal: postings on two or more accounts that sum to zero per currency.
 * Accounts can only be appended to one stream at a time, so a journal is posted leg by leg by a
 * process; between its legs its money is in transit. Every posting names its journal, so the log
 * alone tells which journals are complete and how much is in transit.
 */
export const journalKinds = ['transfer', 'deposit', 'capture', 'settlement', 'fee', 'refund', 'payout', 'correction'] as const;
export type JournalKind = (typeof journalKinds)[number];

/**
 * Journals of payments, payouts and reconciliation corrections: their outcomes are the generic `JournalCompleted` and
 * `JournalFailed` on `journal-<kind>-<id>` (transfers and deposits keep their own events).
 */
export const providerJournalKinds = ['capture', 'settlement', 'fee', 'refund', 'payout', 'correction'] as const;
export type ProviderJournalKind = (typeof providerJournalKinds)[number];

/**
 * - `first`: the leg that may be refused (the constrained side), posted before anything else;
 * - `second`: the leg that completes the journal;
 * - `reversal`: undoes the first leg when the second was refused (compensation).
 */
export const journalLegs = ['first', 'second', 'reversal'] as const;
export type JournalLeg = (typeof journalLegs)[number];

export const positiveAmountSchema = bigintString.refine((amount) => amount > 0n, { error: 'must be positive' });
export const nonNegativeAmountSchema = bigintString.refine((amount) => amount >= 0n, {
  error: 'must not be negative',
});

export const metadataValuesSchema = z.record(z.string(), z.string());

/** What the movement was asked to do; carried by its first leg so a crashed process can resume. */
export const movementSchema = z.object({
  fromAccountId: snowflakeIdSchema,
  toAccountId: snowflakeIdSchema,
  amount: positiveAmountSchema,
  currency: currencyCodeSchema,
  reference: z.string().optional(),
  description: z.string().optional(),
  metadata: metadataValuesSchema.optional(),
  requestedAt: z.iso.datetime(),
});
export type Movement = z.output<typeof movementSchema>;

export const journalRefSchema = z.object({
  id: snowflakeIdSchema,
  kind: z.enum(journalKinds),
  leg: z.enum(journalLegs),
  counterpartyAccountId: snowflakeIdSchema,
});
export type JournalRef = z.output<typeof journalRefSchema>;

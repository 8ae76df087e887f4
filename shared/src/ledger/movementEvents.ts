import { z } from 'zod';
import { defineEvent } from '../events/eventDefinition.js';
import { snowflakeIdSchema } from '../ids/index.js';
import { movementSchema, providerJournalKinds } from './journal.js';

/** Events of the movement streams (`transfer-<id>`, `deposit-<id>`): how each journal ended. */

const failureSchema = z.object({ type: z.string().min(1), detail: z.string() });

export const transferCompleted = defineEvent({
  type: 'TransferCompleted',
  version: 1,
  schema: movementSchema.extend({ transferId: snowflakeIdSchema, completedAt: z.iso.datetime() }),
});

/** The destination refused after the source was debited; the debit was reversed. */
export const transferFailed = defineEvent({
  type: 'TransferFailed',
  version: 1,
  schema: movementSchema.extend({
    transferId: snowflakeIdSchema,
    failedAt: z.iso.datetime(),
    reason: failureSchema,
  }),
});

/** Money arrived by bank transfer: the bank system account paid the account. */
export const depositCompleted = defineEvent({
  type: 'DepositCompleted',
  version: 1,
  schema: movementSchema.extend({ depositId: snowflakeIdSchema, completedAt: z.iso.datetime() }),
});

/** The account refused the money after all, or the bank leg could not be posted; the credit was reversed. */
export const depositFailed = defineEvent({
  type: 'DepositFailed',
  version: 1,
  schema: movementSchema.extend({
    depositId: snowflakeIdSchema,
    failedAt: z.iso.datetime(),
    reason: failureSchema,
  }),
});

/** A payment or payout journal (capture, settlement, fee, refund, payout) posted all its legs. */
export const journalCompleted = defineEvent({
  type: 'JournalCompleted',
  version: 1,
  schema: movementSchema.extend({
    kind: z.enum(providerJournalKinds),
    journalId: snowflakeIdSchema,
    completedAt: z.iso.datetime(),
  }),
});

/** A payment or payout journal's second account refused; its first leg was reversed. */
export const journalFailed = defineEvent({
  type: 'JournalFailed',
  version: 1,
  schema: movementSchema.extend({
    kind: z.enum(providerJournalKinds),
    journalId: snowflakeIdSchema,
    failedAt: z.iso.datetime(),
    reason: failureSchema,
  }),
});

export const movementEventDefinitions = [
  transferCompleted,
  transferFailed,
  depositCompleted,
  depositFailed,
  journalCompleted,
  journalFailed,
] as const;

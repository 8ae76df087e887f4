import { z } from 'zod';
import { defineEvent } from '../events/eventDefinition.js';
import { snowflakeIdSchema } from '../ids/index.js';
import { journalKinds, movementSchema, providerJournalKinds } from './journal.js';

/** Events of the movement streams (`transfer-<id>`, `deposit-<id>`, `journal-<kind>-<id>`): how each journal ends. */

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

export const movementOutcomes = ['complete', 'reverse'] as const;
export type MovementOutcomeChoice = (typeof movementOutcomes)[number];

/**
 * How a movement will end, chosen by one run before it posts the leg that ends it: the second leg
 * (`complete`) or the reversal of the first (`reverse`, for the refusal in `reason`). Appended as
 * the first event of the movement's stream, so the choice of only one of the runs that may race on
 * a movement (several write-side processes) stands, and every run follows it: a destination that
 * refused one run and accepts another can never be both credited and reversed.
 *
 * One choice may be replaced, once, by a later one on the same stream (`replaces` names the outcome
 * it replaces, appended at that choice's revision so that only one run replaces it): a choice to
 * `complete` whose second account was closed before that leg was posted becomes a choice to
 * `reverse` (a closed account never takes a posting again, so no run can post that leg any more).
 * Any other replacement, or a second choice without `replaces`, breaks the books' rules. Choices
 * written before replacements existed have no `replaces`, and read as first choices.
 */
export const movementOutcomeChosen = defineEvent({
  type: 'MovementOutcomeChosen',
  version: 1,
  schema: z.object({
    kind: z.enum(journalKinds),
    journalId: snowflakeIdSchema,
    outcome: z.enum(movementOutcomes),
    reason: failureSchema.optional(),
    chosenAt: z.iso.datetime(),
    /** Set on a replacement: the outcome chosen before, which this choice replaces. */
    replaces: z.enum(movementOutcomes).optional(),
  }),
});

export const movementEventDefinitions = [
  transferCompleted,
  transferFailed,
  depositCompleted,
  depositFailed,
  journalCompleted,
  journalFailed,
  movementOutcomeChosen,
] as const;

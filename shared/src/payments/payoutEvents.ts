import { z } from 'zod';
import { defineEvent } from '../events/eventDefinition.js';
import { snowflakeIdSchema } from '../ids/index.js';
import { nonNegativeAmountSchema, positiveAmountSchema } from '../ledger/journal.js';
import { currencyCodeSchema } from '../money/index.js';
import { callbackOutcomes, providerSchema } from './paymentEvents.js';

/**
 * Events of a payout stream (`payout-<id>`): money leaving an account to a bank account through a
 * provider, in two phases. The amount is held on the account (`AccountFundsHeld`, hold id = payout
 * id) before `PayoutRequested`; the provider's answer posts the hold as the payout journal
 * (`PayoutPaid`) or releases it (`PayoutFailed`), and so does the deadline passing unanswered.
 * States: `PENDING → SUBMITTED → PAID | FAILED` (`PENDING → FAILED` when the provider refuses it).
 */

export const payoutStates = ['PENDING', 'SUBMITTED', 'PAID', 'FAILED'] as const;
export type PayoutStateName = (typeof payoutStates)[number];

export const payoutRequested = defineEvent({
  type: 'PayoutRequested',
  version: 1,
  schema: z.object({
    payoutId: snowflakeIdSchema,
    accountId: snowflakeIdSchema,
    amount: positiveAmountSchema,
    currency: currencyCodeSchema,
    provider: providerSchema,
    /** The caller's name for the receiving bank account (an IBAN, a token). */
    destination: z.string().min(1),
    requestedAt: z.iso.datetime(),
    /** Without an answer by then, the hold is released and the payout fails. */
    deadline: z.iso.datetime(),
  }),
});

export const payoutSubmitted = defineEvent({
  type: 'PayoutSubmitted',
  version: 1,
  schema: z.object({
    payoutId: snowflakeIdSchema,
    providerRef: z.string().min(1),
    submittedAt: z.iso.datetime(),
  }),
});

/** The provider paid: the hold was posted as the payout journal (id = payout id), account → bank. */
export const payoutPaid = defineEvent({
  type: 'PayoutPaid',
  version: 1,
  schema: z.object({
    payoutId: snowflakeIdSchema,
    journalId: snowflakeIdSchema,
    paidAt: z.iso.datetime(),
    callbackEventId: z.string().min(1).optional(),
  }),
});

/** The provider refused, or never answered in time: the hold was released. */
export const payoutFailed = defineEvent({
  type: 'PayoutFailed',
  version: 1,
  schema: z.object({
    payoutId: snowflakeIdSchema,
    reason: z.string().min(1),
    timedOut: z.boolean(),
    failedAt: z.iso.datetime(),
    callbackEventId: z.string().min(1).optional(),
  }),
});

/**
 * A payout whose hold was placed but which was never requested, taken for interrupted by a
 * starting process: recorded on the still empty stream before that process releases the hold, so
 * a process still requesting the payout finds it abandoned and fails it instead of asking the
 * provider with nothing held. Its `PayoutRequested`, if it comes, is followed by `PayoutFailed`.
 */
export const payoutAbandoned = defineEvent({
  type: 'PayoutAbandoned',
  version: 1,
  schema: z.object({
    payoutId: snowflakeIdSchema,
    accountId: snowflakeIdSchema,
    reason: z.string().min(1),
    abandonedAt: z.iso.datetime(),
  }),
});

export const payoutCallbackTypes = ['payout.paid', 'payout.failed'] as const;
export type PayoutCallbackType = (typeof payoutCallbackTypes)[number];

/** What became of a provider callback about this payout (outcomes as for payments). */
export const payoutCallbackRecorded = defineEvent({
  type: 'PayoutCallbackRecorded',
  version: 1,
  schema: z.object({
    payoutId: snowflakeIdSchema,
    provider: providerSchema,
    eventId: z.string().min(1),
    callbackType: z.enum(payoutCallbackTypes),
    /** The amount and currency the provider named, if any (absent from callbacks recorded before they were kept). */
    amount: nonNegativeAmountSchema.optional(),
    currency: currencyCodeSchema.optional(),
    reason: z.string().optional(),
    providerCreatedAt: z.iso.datetime(),
    outcome: z.enum(callbackOutcomes),
    flaggedForReconciliation: z.boolean(),
    detail: z.string(),
    receivedAt: z.iso.datetime(),
  }),
});

export const payoutEventDefinitions = [
  payoutRequested,
  payoutSubmitted,
  payoutPaid,
  payoutFailed,
  payoutCallbackRecorded,
  payoutAbandoned,
] as const;

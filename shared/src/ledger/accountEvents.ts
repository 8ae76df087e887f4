import { z } from 'zod';
import { defineEvent } from '../events/eventDefinition.js';
import { snowflakeIdSchema } from '../ids/index.js';
import { currencyCodeSchema } from '../money/index.js';
import { journalRefSchema, movementSchema, nonNegativeAmountSchema, positiveAmountSchema } from './journal.js';

/** Events of an account stream (`account-<id>`): its life and its postings. */

export const accountKinds = ['customer', 'merchant', 'system'] as const;
export type AccountKind = (typeof accountKinds)[number];

/** System accounts exist once per currency (clearing once per provider and currency). */
export const systemAccountRoles = ['bank', 'provider_clearing', 'fees', 'revenue', 'suspense'] as const;
export type SystemAccountRole = (typeof systemAccountRoles)[number];

export const accountOpened = defineEvent({
  type: 'AccountOpened',
  version: 1,
  schema: z.object({
    accountId: snowflakeIdSchema,
    ownerId: z.string().min(1),
    currency: currencyCodeSchema,
    kind: z.enum(accountKinds),
    systemRole: z.enum(systemAccountRoles).optional(),
    provider: z.string().optional(),
    /** How far below zero the available balance may go. */
    overdraftLimit: nonNegativeAmountSchema,
  }),
});

export const accountFrozen = defineEvent({
  type: 'AccountFrozen',
  version: 1,
  schema: z.object({ accountId: snowflakeIdSchema, reason: z.string().optional() }),
});

export const accountUnfrozen = defineEvent({
  type: 'AccountUnfrozen',
  version: 1,
  schema: z.object({ accountId: snowflakeIdSchema }),
});

export const accountClosed = defineEvent({
  type: 'AccountClosed',
  version: 1,
  schema: z.object({ accountId: snowflakeIdSchema }),
});

const postingSchema = z.object({
  accountId: snowflakeIdSchema,
  journal: journalRefSchema,
  amount: positiveAmountSchema,
  currency: currencyCodeSchema,
  /** Present on a journal's first leg. */
  movement: movementSchema.optional(),
  /** Why a reversal was posted. */
  reason: z.string().optional(),
});

/** Money leaves the account (its balance goes down). */
export const accountDebited = defineEvent({ type: 'AccountDebited', version: 1, schema: postingSchema });

/** Money enters the account (its balance goes up). */
export const accountCredited = defineEvent({ type: 'AccountCredited', version: 1, schema: postingSchema });

/**
 * Money set aside on the account for a pending debit (a payout waiting for the provider): it
 * counts against the available balance until the hold is posted or released.
 */
export const accountFundsHeld = defineEvent({
  type: 'AccountFundsHeld',
  version: 1,
  schema: z.object({
    accountId: snowflakeIdSchema,
    holdId: snowflakeIdSchema,
    amount: positiveAmountSchema,
    currency: currencyCodeSchema,
    purpose: z.string().min(1),
  }),
});

/**
 * A hold ends: `posted` when its debit was booked (the `AccountDebited` follows in the same
 * append), `released` when the money is free again.
 */
export const accountHoldReleased = defineEvent({
  type: 'AccountHoldReleased',
  version: 1,
  schema: z.object({
    accountId: snowflakeIdSchema,
    holdId: snowflakeIdSchema,
    amount: positiveAmountSchema,
    currency: currencyCodeSchema,
    outcome: z.enum(['posted', 'released']),
    reason: z.string().optional(),
  }),
});

export const accountEventDefinitions = [
  accountOpened,
  accountFrozen,
  accountUnfrozen,
  accountClosed,
  accountDebited,
  accountCredited,
  accountFundsHeld,
  accountHoldReleased,
] as const;

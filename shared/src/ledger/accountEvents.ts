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

export const accountEventDefinitions = [
  accountOpened,
  accountFrozen,
  accountUnfrozen,
  accountClosed,
  accountDebited,
  accountCredited,
] as const;

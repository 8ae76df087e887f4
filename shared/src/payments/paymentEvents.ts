import { z } from 'zod';
import { defineEvent } from '../events/eventDefinition.js';
import { snowflakeIdSchema } from '../ids/index.js';
import { nonNegativeAmountSchema, positiveAmountSchema } from '../ledger/journal.js';
import { paymentProviders } from '../ledger/systemAccounts.js';
import { currencyCodeSchema } from '../money/index.js';

/**
 * Events of a payment stream (`payment-<id>`): money entering Folio through a provider.
 *
 * The lifecycle: `CREATED → PENDING → PAID → SETTLED`, `CREATED|PENDING → FAILED`,
 * `PAID|SETTLED → REFUNDED` once refunds add up to the captured amount. Every change of state is
 * one event below; the money of a capture, settlement or refund is a journal of its own (its
 * id is named here), posted on the accounts and ended by `JournalCompleted` / `JournalFailed`.
 */

export const paymentStates = ['CREATED', 'PENDING', 'PAID', 'SETTLED', 'FAILED', 'REFUNDED'] as const;
export type PaymentStateName = (typeof paymentStates)[number];

export const providerSchema = z.enum(paymentProviders);

const failureSchema = z.object({ type: z.string().min(1), detail: z.string() });

/** Set when a provider callback caused the change: the provider's event id. */
const causeSchema = { callbackEventId: z.string().min(1).optional() };

export const paymentCreated = defineEvent({
  type: 'PaymentCreated',
  version: 1,
  schema: z.object({
    paymentId: snowflakeIdSchema,
    merchantAccountId: snowflakeIdSchema,
    amount: positiveAmountSchema,
    currency: currencyCodeSchema,
    provider: providerSchema,
    description: z.string().optional(),
    customerRef: z.string().optional(),
    /** Journals fixed at creation, so every run of a capture or settlement posts the same one. */
    captureJournalId: snowflakeIdSchema,
    settlementJournalId: snowflakeIdSchema,
    feeJournalId: snowflakeIdSchema,
    createdAt: z.iso.datetime(),
  }),
});

/** The provider took the payment: its reference, unique per provider, is now mapped to it. */
export const paymentSubmitted = defineEvent({
  type: 'PaymentSubmitted',
  version: 1,
  schema: z.object({
    paymentId: snowflakeIdSchema,
    provider: providerSchema,
    providerRef: z.string().min(1),
    submittedAt: z.iso.datetime(),
  }),
});

/** The provider captured the money: the clearing account was debited and the merchant credited. */
export const paymentCaptured = defineEvent({
  type: 'PaymentCaptured',
  version: 1,
  schema: z.object({
    paymentId: snowflakeIdSchema,
    amount: positiveAmountSchema,
    journalId: snowflakeIdSchema,
    capturedAt: z.iso.datetime(),
    ...causeSchema,
  }),
});

/**
 * The provider paid the captured money (less refunds) out to the bank: `net` to the bank, `fee`
 * to the fees account, `gross = net + fee` off the clearing account, whose balance for this
 * payment is zero again.
 */
export const paymentSettled = defineEvent({
  type: 'PaymentSettled',
  version: 1,
  schema: z.object({
    paymentId: snowflakeIdSchema,
    gross: positiveAmountSchema,
    fee: nonNegativeAmountSchema,
    net: nonNegativeAmountSchema,
    /** Absent when nothing was posted on that side (a zero fee, or a fee taking everything). */
    settlementJournalId: snowflakeIdSchema.optional(),
    feeJournalId: snowflakeIdSchema.optional(),
    settledAt: z.iso.datetime(),
    ...causeSchema,
  }),
});

export const paymentFailed = defineEvent({
  type: 'PaymentFailed',
  version: 1,
  schema: z.object({
    paymentId: snowflakeIdSchema,
    reason: z.string().min(1),
    failedAt: z.iso.datetime(),
    /**
     * The provider declined the submission (`reason` is its word): a submission asked again is
     * answered with that refusal. Absent for any other failure.
     */
    declined: z.literal(true).optional(),
    ...causeSchema,
  }),
});

/**
 * A refund is under way: its amount counts against what may still be refunded. One Folio asks the
 * provider for is recorded first (`awaitsProvider`), so two writers cannot both have it sent.
 */
export const paymentRefundRequested = defineEvent({
  type: 'PaymentRefundRequested',
  version: 1,
  schema: z.object({
    paymentId: snowflakeIdSchema,
    /** Also the id of the refund's journal. */
    refundId: snowflakeIdSchema,
    amount: positiveAmountSchema,
    /** Where the money goes back from: clearing before settlement, the bank after. */
    from: z.enum(['clearing', 'bank']),
    /**
     * The part paid back from suspense, where the capture was booked when the merchant's account
     * refused it: the merchant never received that money. The rest is the merchant's to pay.
     * Absent: none (and in streams from before such refunds).
     */
    fromCaptureInSuspense: positiveAmountSchema.optional(),
    /** The provider's reference of the refund, when Folio asked the provider for it. */
    providerRefundRef: z.string().min(1).optional(),
    /**
     * Folio asks the provider for it next: no money moves until the provider's answer is recorded
     * (`PaymentRefundAccepted`), and a refusal ends it (`PaymentRefundFailed`). Absent: the provider
     * had refunded when it was recorded (it reported the refund, or in streams from before refunds
     * were recorded before asking).
     */
    awaitsProvider: z.literal(true).optional(),
    requestedAt: z.iso.datetime(),
    ...causeSchema,
  }),
});

/**
 * The provider took a refund Folio asked it for (`PaymentRefundRequested` with `awaitsProvider`),
 * under its reference: the refund's journals are posted next, and `PaymentRefunded` follows.
 */
export const paymentRefundAccepted = defineEvent({
  type: 'PaymentRefundAccepted',
  version: 1,
  schema: z.object({
    paymentId: snowflakeIdSchema,
    refundId: snowflakeIdSchema,
    providerRefundRef: z.string().min(1),
    acceptedAt: z.iso.datetime(),
  }),
});

/**
 * The refund's journals completed: the merchant was debited, less what was paid back from the
 * capture's suspense booking. The payment is REFUNDED when `fullyRefunded`.
 */
export const paymentRefunded = defineEvent({
  type: 'PaymentRefunded',
  version: 1,
  schema: z.object({
    paymentId: snowflakeIdSchema,
    refundId: snowflakeIdSchema,
    amount: positiveAmountSchema,
    /** Σ of the payment's completed refunds, this one included. */
    refundedTotal: positiveAmountSchema,
    fullyRefunded: z.boolean(),
    refundedAt: z.iso.datetime(),
  }),
});

/**
 * The refund ended without moving money: the provider declined it, or it was booked under the
 * provider's own report of it; in streams from before refunds were paid from suspense, the
 * merchant could not pay it.
 */
export const paymentRefundFailed = defineEvent({
  type: 'PaymentRefundFailed',
  version: 1,
  schema: z.object({
    paymentId: snowflakeIdSchema,
    refundId: snowflakeIdSchema,
    amount: positiveAmountSchema,
    reason: failureSchema,
    failedAt: z.iso.datetime(),
  }),
});

/**
 * What became of a provider callback about this payment; every callback leaves one, applied or
 * not. A deferred callback is recorded again when it is applied.
 * - `applied`: it moved the payment (the change follows on the stream);
 * - `deferred`: it came before the state it needs (a capture before the submission);
 * - `duplicate`: its event id was seen before;
 * - `outdated`: the payment is already past what it reports;
 * - `superseded`: it contradicts a state of higher precedence (a failure after a success): money
 *   was not touched and the payment is flagged for reconciliation;
 * - `refused`: it was applicable but the books refused it (the merchant cannot pay a refund).
 */
export const callbackOutcomes = ['applied', 'deferred', 'duplicate', 'outdated', 'superseded', 'refused'] as const;
export type CallbackOutcome = (typeof callbackOutcomes)[number];

export const paymentCallbackTypes = ['payment.captured', 'payment.failed', 'payment.settled', 'payment.refunded'] as const;
export type PaymentCallbackType = (typeof paymentCallbackTypes)[number];

export const paymentCallbackRecorded = defineEvent({
  type: 'PaymentCallbackRecorded',
  version: 1,
  schema: z.object({
    paymentId: snowflakeIdSchema,
    provider: providerSchema,
    eventId: z.string().min(1),
    callbackType: z.enum(paymentCallbackTypes),
    /** The callback's own fields (amount, currency, fee, reason, refund reference) as the provider sent them. */
    amount: nonNegativeAmountSchema.optional(),
    /** Absent from callbacks recorded before it was kept. */
    currency: currencyCodeSchema.optional(),
    fee: nonNegativeAmountSchema.optional(),
    reason: z.string().optional(),
    providerRefundRef: z.string().optional(),
    /**
     * The provider's reference of the payment the callback names. Absent from callbacks recorded
     * before it was kept: a deferred one of those is applied whatever reference the payment gets.
     */
    providerRef: z.string().optional(),
    providerCreatedAt: z.iso.datetime(),
    outcome: z.enum(callbackOutcomes),
    /** Needs a person: the provider and the books disagree. */
    flaggedForReconciliation: z.boolean(),
    detail: z.string(),
    receivedAt: z.iso.datetime(),
  }),
});

/**
 * The provider took the submission, but the reference it answered with already belongs to another
 * payment or payout (`takenBy`): the payment stays CREATED while the provider holds a charge under
 * that reference for it, and is flagged for reconciliation. A submission asked again is answered
 * with this conflict, without asking the provider.
 */
export const paymentReferenceTaken = defineEvent({
  type: 'PaymentReferenceTaken',
  version: 1,
  schema: z.object({
    paymentId: snowflakeIdSchema,
    provider: providerSchema,
    providerRef: z.string().min(1),
    takenBy: z.object({ resource: z.enum(['payment', 'payout']), resourceId: snowflakeIdSchema }).optional(),
    recordedAt: z.iso.datetime(),
  }),
});

/**
 * A capture is decided: its journal (the id fixed at creation, the payment's amount) is posted next,
 * and `PaymentCaptured` follows. From here the payment no longer fails: a failure reported now is
 * superseded. Streams from before it captured without it.
 */
export const paymentCaptureStarted = defineEvent({
  type: 'PaymentCaptureStarted',
  version: 1,
  schema: z.object({
    paymentId: snowflakeIdSchema,
    amount: positiveAmountSchema,
    journalId: snowflakeIdSchema,
    startedAt: z.iso.datetime(),
    ...causeSchema,
  }),
});

/**
 * A settlement is decided: the fee is fixed here, on the payment's stream, before its journals are
 * posted (`net` to the bank, `fee` to the fees account, with the journal ids fixed at creation), so
 * every writer posts and records the same money. `PaymentSettled` follows once they are posted.
 * Streams from before it settled without it.
 */
export const paymentSettlementStarted = defineEvent({
  type: 'PaymentSettlementStarted',
  version: 1,
  schema: z.object({
    paymentId: snowflakeIdSchema,
    gross: positiveAmountSchema,
    fee: nonNegativeAmountSchema,
    net: nonNegativeAmountSchema,
    startedAt: z.iso.datetime(),
    ...causeSchema,
  }),
});

/**
 * Where the money of a capture or refund goes, fixed before either journal is posted: `merchant`
 * (its journal, `journalId` being the capture's or the refund's), or `suspense` (a `correction`
 * journal with that id), the merchant's account having refused it (`refusal` says why). Every
 * writer follows the route recorded first, so a merchant account that would take the money later
 * (unfrozen in between) is never paid on top of a suspense booking. A refund wholly paid from the
 * capture's suspense booking has none. Streams from before it chose where the money went while
 * posting it.
 *
 * The one route recorded after another (`replaces`) is suspense replacing the merchant: the
 * merchant's account was closed with the journal still waiting for it, and a closed account never
 * takes a posting again, so nothing can reach it on top of the suspense booking.
 */
export const paymentRouteChosen = defineEvent({
  type: 'PaymentRouteChosen',
  version: 1,
  schema: z.object({
    paymentId: snowflakeIdSchema,
    move: z.enum(['capture', 'refund']),
    journalId: snowflakeIdSchema,
    route: z.enum(['merchant', 'suspense']),
    /**
     * The merchant's account, on the merchant route: a close of it is refused while the journal
     * waits to post there. Absent in events from before it was kept.
     */
    accountId: snowflakeIdSchema.optional(),
    /** Set for the suspense route only. */
    refusal: z.string().min(1).optional(),
    /** Set on a suspense route replacing the merchant route, once the merchant's account was closed. */
    replaces: z.literal('merchant').optional(),
    chosenAt: z.iso.datetime(),
  }),
});

export const paymentEventDefinitions = [
  paymentCreated,
  paymentSubmitted,
  paymentCaptured,
  paymentSettled,
  paymentFailed,
  paymentRefundRequested,
  paymentRefunded,
  paymentRefundFailed,
  paymentCallbackRecorded,
  paymentReferenceTaken,
  paymentCaptureStarted,
  paymentSettlementStarted,
  paymentRefundAccepted,
  paymentRouteChosen,
] as const;

import { z } from 'zod';
import { bigintString } from '../events/bigintJson.js';
import { defineEvent } from '../events/eventDefinition.js';
import { currencyCodeSchema } from '../money/index.js';

/**
 * Events of imported provider and bank statements. A file becomes one `StatementImported` on its
 * file stream (`statement-<provider>-<fileHash>`), written last, and one event per row on the
 * row's own stream (`statementrow-<provider>-<key>`), whose history is every version the provider
 * ever delivered of that row. Amounts are signed minor units of their own currency: gross and net
 * are positive when money comes into the statement's balance and negative when it leaves; a fee
 * is positive when it is charged and negative when it is given back. Signs come only from the
 * file's explicit direction (a signed column, a debit/credit flag or column), never from a type.
 */

/** ISO 8601 as the file gave it: a date, or a date-time with or without an offset. */
export const statementDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/, {
    error: 'expected an ISO 8601 date or date-time',
  })
  .refine(
    (text) => {
      const day = text.slice(0, 10);
      const parsed = new Date(`${day}T00:00:00Z`);
      return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === day && !/T(2[4-9]|[3-9]\d)|:[6-9]\d/.test(text);
    },
    { error: 'is not a date and time of the calendar' },
  );

export const statementMoneySchema = z.object({ amount: bigintString, currency: currencyCodeSchema });
export type StatementMoney = z.output<typeof statementMoneySchema>;

/**
 * A reference the provider gives for a row: `kind` says what it names (`charge`, `payment_intent`,
 * `psp_reference`, `end_to_end_id`, `metadata:<key>`, …; see the importers), `value` is as written.
 * Not unique across rows: one charge has its charge, refund and dispute rows.
 */
export const statementReferenceSchema = z.object({ kind: z.string().min(1), value: z.string().min(1) });
export type StatementReference = z.output<typeof statementReferenceSchema>;

/** One transaction inside a bank entry that books several at once (camt.053 `TxDtls`). */
export const statementRowDetailSchema = z.object({
  references: z.array(statementReferenceSchema),
  amount: statementMoneySchema.optional(),
  remittance: z.string().optional(),
  counterparty: z.string().optional(),
});

/** A statement row as the file states it, normalised. Which members are present depends on the format. */
export const statementRowSchema = z.object({
  /** 1-based line of the file where the row starts: evidence, not identity. */
  line: z.number().int().positive(),
  /** The provider's classification: Stripe `reporting_category`, PayPal T-code, Adyen `Type`, bank transaction code. */
  category: z.string(),
  description: z.string().optional(),
  gross: statementMoneySchema.optional(),
  fee: statementMoneySchema.optional(),
  /** Fee parts (Adyen commission, markup, scheme fees, interchange); they sum to `fee`. */
  feeBreakdown: z.array(z.object({ kind: z.string().min(1), amount: bigintString })).optional(),
  /** For bank statements, the entry amount: what the booking did to the account's balance. */
  net: statementMoneySchema.optional(),
  /** Decimal text as the file gave it (Adyen `Exchange Rate`); never used as money. */
  exchangeRate: z.string().optional(),
  references: z.array(statementReferenceSchema),
  /** The payout or settlement batch the row was paid out in (Stripe `automatic_payout_id`, Adyen batch). */
  payoutId: z.string().optional(),
  /** When the row was booked on the balance or account. */
  bookingDate: statementDateSchema.optional(),
  /** When the money is available (value date). */
  valueDate: statementDateSchema.optional(),
  /** When the underlying transaction happened (Stripe `created`, PayPal initiation, Adyen creation). */
  transactionDate: statementDateSchema.optional(),
  /**
   * The zone of the row's date-times written without an offset, as the file names it (`CET`);
   * in Adyen files with a booking date, the zone of the booking date.
   */
  timeZone: z.string().optional(),
  /** Bank booking status (`BOOK`, `PDNG`, `INFO`). */
  status: z.string().optional(),
  /** The bank marks the entry as the reversal of an earlier one (camt `RvslInd`, MT940 `RC`/`RD`). */
  reversal: z.boolean().optional(),
  details: z.array(statementRowDetailSchema).optional(),
});
export type StatementRow = z.output<typeof statementRowSchema>;

const balanceSchema = statementMoneySchema.extend({
  /** `OPBD`, `CLBD`, `CLAV`, `FWAV`, … for camt.053; `60F`, `60M`, `62F`, `62M`, `64`, `65` for MT940. */
  type: z.string().min(1),
  date: statementDateSchema.optional(),
});

const entryTotalsSchema = z.object({
  currency: currencyCodeSchema,
  count: z.number().int().nonnegative(),
  /** Σ of the credit entries, positive. */
  credits: bigintString,
  /** Σ of the debit entries, positive. */
  debits: bigintString,
});

/** One statement of a file: a camt.053 `Stmt`, an MT940 message, a PayPal section, an Adyen batch. */
export const statementInfoSchema = z.object({
  /** Unique within the file; rows name it. */
  statementId: z.string().min(1),
  /** The account the statement is for (IBAN, merchant account, PayPal account id). */
  account: z.string().optional(),
  currency: currencyCodeSchema.optional(),
  /** The statement's number in its account's sequence (camt `ElctrncSeqNb`, MT940 `:28C:`, Adyen batch). */
  sequenceNumber: bigintString.optional(),
  legalSequenceNumber: bigintString.optional(),
  pageNumber: bigintString.optional(),
  lastPage: z.boolean().optional(),
  createdAt: statementDateSchema.optional(),
  periodStart: statementDateSchema.optional(),
  periodEnd: statementDateSchema.optional(),
  /** Every balance the statement states, signed (a debit balance is negative), in file order. */
  balances: z.array(balanceSchema),
  /**
   * Control totals the statement declares (camt `TxsSummry`, MT940 `:90C:`/`:90D:`), as written; a
   * direction the statement gives no figure for reads 0. The import refuses a statement whose
   * entries disagree with any figure it gives.
   */
  declaredTotals: entryTotalsSchema.optional(),
  /**
   * Totals of the statement's rows in this file (repeats included), per currency, by the sign of
   * `net` (or of `gross` where a row has no net): what opening + Σ entries = closing is checked with.
   */
  rowTotals: z.array(entryTotalsSchema),
});
export type StatementInfo = z.output<typeof statementInfoSchema>;

const rowOutcomeCountsSchema = z.object({
  /** Rows in the file. */
  total: z.number().int().nonnegative(),
  /** Rows seen for the first time. */
  recorded: z.number().int().nonnegative(),
  /** Rows that changed since their last delivery. */
  restated: z.number().int().nonnegative(),
  /** Rows delivered before with exactly this content: nothing was written for them. */
  unchanged: z.number().int().nonnegative(),
  /** Rows whose identity appeared earlier in the same file. */
  duplicated: z.number().int().nonnegative(),
});

export const statementFormats = ['stripe-balance', 'paypal-stl', 'adyen-sdr', 'camt053', 'mt940', 'csv'] as const;
export type StatementFormat = (typeof statementFormats)[number];

/** Lower-case letters, digits and `_`: it is part of stream names. */
export const statementProviderSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,39}$/, { error: 'a provider is 1 to 40 characters of a-z, 0-9 and "_", starting with a letter' });

/** SHA-256 of the file's bytes, lower-case hex. */
export const fileHashSchema = z.string().regex(/^[0-9a-f]{64}$/, { error: 'expected a SHA-256 in lower-case hex' });

const rowEventBase = {
  provider: statementProviderSchema,
  format: z.enum(statementFormats),
  /** The file this version came from. */
  fileHash: fileHashSchema,
  statementId: z.string().min(1).optional(),
  /** The account of the row's statement, when the format names one. */
  account: z.string().min(1).optional(),
  /** The row's stable identity within the provider (see the importer of each format). */
  rowKey: z.string().min(1),
  /** SHA-256 of the row's content without its line: equal hashes, same version. */
  versionHash: fileHashSchema,
  row: statementRowSchema,
};

/** A file was imported; written after all its rows, so it marks the import complete. */
export const statementImported = defineEvent({
  type: 'StatementImported',
  version: 1,
  schema: z.object({
    provider: statementProviderSchema,
    format: z.enum(statementFormats),
    fileHash: fileHashSchema,
    fileName: z.string().optional(),
    byteLength: z.number().int().nonnegative(),
    statements: z.array(statementInfoSchema),
    rows: rowOutcomeCountsSchema,
  }),
});

/** The first delivery of a row. */
export const statementRowRecorded = defineEvent({
  type: 'StatementRowRecorded',
  version: 1,
  schema: z.object(rowEventBase),
});

/** A later delivery changed a row: both versions are kept, the new one is current. */
export const statementRowRestated = defineEvent({
  type: 'StatementRowRestated',
  version: 1,
  schema: z.object({
    ...rowEventBase,
    previousVersionHash: fileHashSchema,
    previousFileHash: fileHashSchema,
    previous: statementRowSchema,
    /** Top-level members of the row whose value differs from the previous version. */
    changedFields: z.array(z.string()),
  }),
});

/**
 * A later file delivered a row unchanged, but repeats it otherwise than the file the row's stream
 * last heard from: those repeats no longer stand, and this file's own repeats follow.
 */
export const statementRowRedelivered = defineEvent({
  type: 'StatementRowRedelivered',
  version: 1,
  schema: z.object({
    ...rowEventBase,
    /** How many times the file holds the row's identity, the first occurrence included. */
    occurrences: z.number().int().positive(),
  }),
});

/** A row's identity appeared again in the same file; the first occurrence stays the row's version. */
export const statementRowDuplicated = defineEvent({
  type: 'StatementRowDuplicated',
  version: 1,
  schema: z.object({
    ...rowEventBase,
    /** The line of the first occurrence in the file. */
    firstLine: z.number().int().positive(),
    /** Whether the repeat has the first occurrence's content. */
    identical: z.boolean(),
  }),
});

export const statementEventDefinitions = [
  statementImported,
  statementRowRecorded,
  statementRowRestated,
  statementRowRedelivered,
  statementRowDuplicated,
] as const;

/**
 * Zod schemas for the fields request bodies share, so every endpoint accepts and rejects them
 * the same way. Free text is normalised to NFC (so "é" typed either way is the same reference)
 * and trimmed; lengths count Unicode code points after that.
 */
import { z } from 'zod';
import { snowflakeIdSchema } from '../ids/snowflake.js';
import { currencyCodeSchema } from '../money/currencies.js';
import { minorUnitsSchema, positiveMinorUnitsSchema } from '../money/minorUnits.js';

/** An amount greater than zero in minor units, as a string of digits (`"1050"`) → `bigint`. */
export const amountSchema = positiveMinorUnitsSchema;

/** An amount of zero or more in minor units (a limit, a fee), as a string of digits → `bigint`. */
export const nonNegativeMinorUnitsSchema = minorUnitsSchema.refine((amount) => amount >= 0n, {
  error: 'must not be negative',
});

/** An active ISO 4217 code with a minor unit, upper case. */
export const currencySchema = currencyCodeSchema;

/** An account id: a Snowflake id as a decimal string. */
export const accountIdSchema = snowflakeIdSchema;

export const MAX_REFERENCE_LENGTH = 140;
export const MAX_DESCRIPTION_LENGTH = 500;
export const MAX_METADATA_KEYS = 50;
export const MAX_METADATA_VALUE_LENGTH = 500;

/** Transfers one batch may carry; larger sets are split by the caller. */
export const MAX_BATCH_TRANSFERS = 1000;

/** The body of a batch: a full one of 1000 transfers with references and metadata fits. */
export const MAX_BATCH_BODY_BYTES = 1024 * 1024;

/**
 * Control characters (C0, DEL, C1: newlines and tabs included), lone surrogates (which no UTF-8
 * store can hold) and the bidirectional embedding, override and isolate controls, which make
 * text display in another order than it reads in the history UI.
 */
const UNSAFE_CHARACTER = /[\p{Cc}\p{Cs}\u202A-\u202E\u2066-\u2069]/u;

function unsafeCharacterProblem(text: string): string | undefined {
  const match = UNSAFE_CHARACTER.exec(text);
  if (match === null) return undefined;
  const codePoint = (match[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
  return `must not contain control characters: found U+${codePoint} at index ${match.index}`;
}

const safeText = () =>
  z.string().superRefine((text, ctx) => {
    const problem = unsafeCharacterProblem(text);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

const codePointLength = (text: string): number => [...text].length;

const normalisedText = (min: number, max: number) =>
  safeText()
    .transform((text) => text.normalize('NFC').trim())
    .superRefine((text, ctx) => {
      const length = codePointLength(text);
      if (length < min) {
        ctx.addIssue({ code: 'custom', message: 'must not be empty or only spaces' });
      } else if (length > max) {
        ctx.addIssue({ code: 'custom', message: `must be at most ${max} characters, got ${length}` });
      }
    });

/** The caller's reference for a payment or transfer: 1–140 characters. */
export const referenceSchema = normalisedText(1, MAX_REFERENCE_LENGTH);

/** A free-text description: at most 500 characters, possibly empty. */
export const descriptionSchema = normalisedText(0, MAX_DESCRIPTION_LENGTH);

/**
 * Names that reach an object's prototype when used as a key. The key pattern admits them (they
 * are letters and underscores), and zod's record drops `__proto__` without a word, so they are
 * refused explicitly.
 */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const metadataKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,40}$/, 'a metadata key is 1 to 40 characters of A-Z, a-z, 0-9, "_", "." and "-"')
  .refine((key) => !PROTOTYPE_KEYS.has(key), 'this metadata key is reserved');

const metadataValueSchema = safeText().refine(
  (value) => codePointLength(value) <= MAX_METADATA_VALUE_LENGTH,
  `a metadata value is at most ${MAX_METADATA_VALUE_LENGTH} characters`,
);

/**
 * The caller's own key–value pairs, stored as sent (not normalised): a flat object of at most
 * 50 keys, each 1–40 characters of `[A-Za-z0-9_.-]`, each value a string of at most 500
 * characters without control characters.
 */
export const metadataSchema = z.preprocess(
  (value, ctx) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
    if (Object.hasOwn(value, '__proto__')) {
      ctx.addIssue({ code: 'custom', path: ['__proto__'], message: 'this metadata key is reserved' });
    }
    const count = Object.keys(value).length;
    if (count > MAX_METADATA_KEYS) {
      ctx.addIssue({ code: 'custom', message: `metadata has at most ${MAX_METADATA_KEYS} keys, got ${count}` });
    }
    return value;
  },
  z.record(metadataKeySchema, metadataValueSchema),
);

/**
 * The `Idempotency-Key` of a command: 1–255 printable ASCII characters. No space at either end,
 * since HTTP drops those from a header value and the key would not come back as sent.
 */
export const idempotencyKeySchema = z
  .string()
  .regex(
    /^[\x21-\x7E](?:[\x20-\x7E]{0,253}[\x21-\x7E])?$/,
    'an idempotency key is 1 to 255 printable ASCII characters, with no space at either end',
  );

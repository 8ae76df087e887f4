import { ValidationError, parseCurrencyCode, statementDateSchema, type CurrencyCode, type StatementReference } from '@folio/shared';
import { z } from 'zod';

/** Empty cells are absent values. */
export const present = (value: string | undefined): string | undefined => (value === undefined || value === '' ? undefined : value);

/** The references of a row, skipping empty ones, in the order given. */
export const referencesOf = (pairs: readonly (readonly [string, string | undefined])[]): StatementReference[] =>
  pairs.flatMap(([kind, value]) => (present(value) === undefined ? [] : [{ kind, value: value as string }]));

/**
 * Runs a conversion that throws Folio's validation errors (amounts, currencies) inside a zod
 * transform, turning a failure into an issue on `column`.
 */
export const convert = <T>(ctx: z.RefinementCtx, column: string, conversion: () => T): T | undefined => {
  try {
    return conversion();
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    ctx.addIssue({ code: 'custom', path: [column], message: error.message });
    return undefined;
  }
};

export const currencyIn = (ctx: z.RefinementCtx, column: string, text: string): CurrencyCode | undefined =>
  convert(ctx, column, () => parseCurrencyCode(text));

/** A required cell. */
export const cell = (name: string) => z.string({ error: `the ${name} column is missing` }).min(1, { error: 'must not be empty' });

/** An optional cell: empty or absent. */
export const optionalCell = z.string().optional().transform(present);

/** An optional date-time cell written the file's way (`form`, like `example`), rewritten as ISO 8601 by `toIso`. */
export const dateTimeCell = (form: RegExp, example: string, toIso: (match: RegExpExecArray) => string) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      const text = present(value);
      if (text === undefined) return undefined;
      const match = form.exec(text);
      if (match === null) {
        ctx.addIssue({ code: 'custom', message: `${JSON.stringify(text)} is not a date-time such as ${JSON.stringify(example)}` });
        return z.NEVER;
      }
      const iso = toIso(match);
      if (!statementDateSchema.safeParse(iso).success) {
        ctx.addIssue({ code: 'custom', message: `${JSON.stringify(text)} is not a date and time of the calendar` });
        return z.NEVER;
      }
      return iso;
    });

/** `2024-05-01 14:03:11` → `2024-05-01T14:03:11`, with `suffix` (`Z` for a UTC column). */
export const isoLocalDateTime = (suffix: string) =>
  dateTimeCell(/^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})$/, '2024-05-01 14:03:11', ([, date, time]) => `${date}T${time}${suffix}`);

/** `{ [key]: value }` when there is a value, `{}` otherwise: for spreading optional members. */
export const optional = <K extends string, V>(key: K, value: V | undefined) =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;

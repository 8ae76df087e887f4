import { currencyCodeSchema } from '@folio/shared';
import { z } from 'zod';

const column = z.string().trim().min(1, { error: 'a column name must not be empty' });

/**
 * How a generic CSV statement maps onto statement rows: which columns (by header name) hold what.
 * Amounts are signed (positive into the balance) unless `direction` names a column whose values say
 * credit or debit, in which case gross and net are unsigned. A fee is positive when charged.
 */
export const csvMappingSchema = z
  .strictObject({
    delimiter: z.enum([',', ';', '\t', '|']).default(','),
    /** The column, or columns joined with "|", that identify a row across files. */
    rowKey: z.union([column, z.array(column).min(1)]).transform((key) => (typeof key === 'string' ? [key] : key)),
    /** The column of the currency code, or `currency` for a file in one currency. */
    currencyColumn: column.optional(),
    currency: currencyCodeSchema.optional(),
    gross: column.optional(),
    fee: column.optional(),
    net: column.optional(),
    /** `major`: decimals ("10.50"); `minor`: whole minor units ("1050"). */
    amountUnit: z.enum(['major', 'minor']).default('major'),
    decimalSeparator: z.enum(['.', ',']).default('.'),
    direction: z
      .strictObject({
        column,
        credit: z.array(z.string().min(1)).min(1),
        debit: z.array(z.string().min(1)).min(1),
      })
      .optional(),
    category: column.optional(),
    description: column.optional(),
    payoutId: column.optional(),
    statementId: column.optional(),
    /** ISO 8601 dates or date-times. */
    bookingDate: column.optional(),
    valueDate: column.optional(),
    transactionDate: column.optional(),
    /** Reference kind → column. */
    references: z.record(z.string().regex(/^[a-z][a-z0-9_:]{0,39}$/, { error: 'a reference kind is lower case: a-z, 0-9, "_" and ":"' }), column).default({}),
  })
  .check((ctx) => {
    const mapping = ctx.value;
    if ((mapping.currencyColumn === undefined) === (mapping.currency === undefined)) {
      ctx.issues.push({ code: 'custom', input: mapping, path: ['currency'], message: 'give exactly one of currency and currencyColumn' });
    }
    if (mapping.gross === undefined && mapping.fee === undefined && mapping.net === undefined) {
      ctx.issues.push({ code: 'custom', input: mapping, path: ['net'], message: 'map at least one of gross, fee and net' });
    }
  });

export type CsvMapping = z.output<typeof csvMappingSchema>;
export type CsvMappingInput = z.input<typeof csvMappingSchema>;

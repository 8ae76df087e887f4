import {
  InvalidAmountError,
  parseCurrencyCode,
  parseMinorUnits,
  statementDateSchema,
  type CurrencyCode,
  type StatementMoney,
  type StatementRow,
} from '@folio/shared';
import { z } from 'zod';
import type { CsvMapping } from './csvMapping.js';
import { CsvHeader, csvRecords } from './csvRecords.js';
import { StatementIssues } from './malformedStatementError.js';
import type { ParsedItem, StatementImporter } from './parsedStatement.js';
import { convert, optional, present } from './rowFields.js';
import { parseMajorUnits } from './statementAmounts.js';

/** The columns a mapping names, each required in the header. */
const mappedColumns = (mapping: CsvMapping): Record<string, boolean> => {
  const names = [
    ...mapping.rowKey,
    mapping.currencyColumn,
    mapping.gross,
    mapping.fee,
    mapping.net,
    mapping.direction?.column,
    mapping.category,
    mapping.description,
    mapping.payoutId,
    mapping.statementId,
    mapping.bookingDate,
    mapping.valueDate,
    mapping.transactionDate,
    ...Object.values(mapping.references),
  ].filter((name): name is string => name !== undefined);
  return Object.fromEntries(names.map((name) => [name, true]));
};

/**
 * The key of a row from its key columns, joined with "|". A "|" or a backslash inside a value is
 * escaped, so that "A|1" + "2" and "A" + "1|2" stay two rows; values without either keep their key.
 */
const rowKeyOf = (parts: readonly string[]): string =>
  parts.length === 1 ? (parts[0] as string) : parts.map((part) => part.replace(/[\\|]/g, '\\$&')).join('|');

const rowSchema = (mapping: CsvMapping) =>
  z.record(z.string(), z.string()).transform((record, ctx): { rowKey: string; statementId?: string; row: Omit<StatementRow, 'line'> } => {
    const value = (name: string | undefined) => (name === undefined ? undefined : present(record[name]));
    const keyParts = mapping.rowKey.map((name) => value(name));
    const missing = mapping.rowKey.find((_, index) => keyParts[index] === undefined);
    if (missing !== undefined) ctx.addIssue({ code: 'custom', path: [missing], message: 'the row key must not be empty' });
    let currency: CurrencyCode | undefined = mapping.currency;
    if (mapping.currencyColumn !== undefined) {
      const text = value(mapping.currencyColumn);
      if (text === undefined) ctx.addIssue({ code: 'custom', path: [mapping.currencyColumn], message: 'must not be empty' });
      else currency = convert(ctx, mapping.currencyColumn, () => parseCurrencyCode(text));
    }
    let sign = 1n;
    if (mapping.direction !== undefined) {
      const text = value(mapping.direction.column) ?? '';
      if (mapping.direction.credit.includes(text)) sign = 1n;
      else if (mapping.direction.debit.includes(text)) sign = -1n;
      else {
        ctx.addIssue({
          code: 'custom',
          path: [mapping.direction.column],
          message: `${JSON.stringify(text)} is neither a credit (${mapping.direction.credit.join(', ')}) nor a debit (${mapping.direction.debit.join(', ')})`,
        });
      }
    }
    /** `required`: an empty cell is an issue, not a row without that amount. */
    const money = (name: string | undefined, directed: boolean, required: boolean): StatementMoney | undefined => {
      const text = value(name);
      if (name === undefined) return undefined;
      if (text === undefined) {
        if (required) ctx.addIssue({ code: 'custom', path: [name], message: 'must not be empty: the row needs its amount' });
        return undefined;
      }
      if (currency === undefined) return undefined;
      const unit = currency;
      const amount = convert(ctx, name, () => {
        const parsed = mapping.amountUnit === 'minor' ? parseMinorUnits(text) : parseMajorUnits(text, unit, { decimalSeparator: mapping.decimalSeparator });
        if (directed && mapping.direction !== undefined && parsed < 0n) {
          throw new InvalidAmountError(`amount ${JSON.stringify(text)} must be unsigned: ${mapping.direction.column} gives the direction`);
        }
        return parsed;
      });
      return amount === undefined ? undefined : { amount: directed ? amount * sign : amount, currency: unit };
    };
    const date = (name: string | undefined) => {
      const text = value(name);
      if (name === undefined || text === undefined) return undefined;
      if (!statementDateSchema.safeParse(text).success) {
        ctx.addIssue({ code: 'custom', path: [name], message: `${JSON.stringify(text)} is not an ISO 8601 date or date-time` });
        return undefined;
      }
      return text;
    };
    // A mapped gross or net is the row's money; an empty fee cell means no fee was charged.
    const gross = money(mapping.gross, true, true);
    const fee = money(mapping.fee, false, false);
    const net = money(mapping.net, true, true);
    const row = {
      category: value(mapping.category) ?? '',
      ...optional('description', value(mapping.description)),
      ...optional('gross', gross),
      ...optional('fee', fee),
      ...optional('net', net),
      references: Object.entries(mapping.references).flatMap(([kind, name]) => {
        const text = value(name);
        return text === undefined ? [] : [{ kind, value: text }];
      }),
      ...optional('payoutId', value(mapping.payoutId)),
      ...optional('bookingDate', date(mapping.bookingDate)),
      ...optional('valueDate', date(mapping.valueDate)),
      ...optional('transactionDate', date(mapping.transactionDate)),
    };
    return { rowKey: rowKeyOf(keyParts.map((part) => part ?? '')), ...optional('statementId', value(mapping.statementId)), row };
  });

/** A CSV statement of any provider, read through a column mapping. */
export const genericCsvImporter = (mapping: CsvMapping): StatementImporter => ({
  format: 'csv',
  async *parse(text): AsyncGenerator<ParsedItem> {
    const issues = new StatementIssues('csv');
    const columns = mappedColumns(mapping);
    const schema = rowSchema(mapping);
    let header: CsvHeader<string> | undefined;
    for await (const { line, fields } of csvRecords(text, 'csv', { delimiter: mapping.delimiter })) {
      if (header === undefined) {
        header = new CsvHeader(line, fields, columns, (issue) => issues.fail(issue));
        continue;
      }
      if (fields.length !== header.width) {
        issues.add({ line, reason: `the row has ${fields.length} fields but the header has ${header.width}` });
        continue;
      }
      const parsed = schema.safeParse(header.read(fields));
      if (!parsed.success) {
        issues.addZodIssues(line, parsed.error);
        continue;
      }
      const { rowKey, statementId, row } = parsed.data;
      yield { kind: 'row', row: { rowKey, ...optional('statementId', statementId), row: { line, ...row } } };
    }
    if (header === undefined) issues.fail({ line: 1, reason: 'the file is empty: expected a header line' });
    issues.throwIfAny();
  },
});

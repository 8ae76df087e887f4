import type { CurrencyCode, StatementMoney } from '@folio/shared';
import { z } from 'zod';
import { CsvHeader, csvRecords } from './csvRecords.js';
import { StatementIssues } from './malformedStatementError.js';
import type { ParsedItem, ParsedRow, StatementImporter } from './parsedStatement.js';
import { cell, convert, currencyIn, isoLocalDateTime, optional, optionalCell, referencesOf } from './rowFields.js';
import { parseMajorUnits } from './statementAmounts.js';

/**
 * Stripe's itemized balance and payout reconciliation reports (`balance_change_from_activity.itemized`,
 * `payout_reconciliation.itemized`): one row per balance transaction, identified by
 * `balance_transaction_id`. Amounts are signed decimals in major units; currencies are lower case.
 */

/** Where Stripe's decimals differ from ISO 4217 (docs.stripe.com/currencies). */
const STRIPE_DECIMALS: Readonly<Partial<Record<CurrencyCode, number>>> = { ISK: 2, MGA: 0 };

const COLUMNS = {
  balance_transaction_id: true,
  currency: true,
  gross: true,
  reporting_category: true,
  fee: false,
  net: false,
  created_utc: false,
  created: false,
  available_on_utc: false,
  available_on: false,
  automatic_payout_id: false,
  source_id: false,
  charge_id: false,
  payment_intent_id: false,
  invoice_id: false,
  trace_id: false,
  connected_account_id: false,
  description: false,
} as const;

type Column = keyof typeof COLUMNS;

/** Metadata columns carry our own ids back (`payment_metadata[ledger_tx_id]`). */
const METADATA_COLUMN = /^((?:payment|refund|transfer)_metadata)\[([^\]]+)\]$/;

const recordSchema = (metadata: readonly { kind: string; name: string }[]) =>
  z
    .object({
      balance_transaction_id: cell('balance_transaction_id'),
      currency: cell('currency'),
      gross: cell('gross'),
      reporting_category: cell('reporting_category'),
      fee: optionalCell,
      net: optionalCell,
      created_utc: isoLocalDateTime('Z'),
      created: isoLocalDateTime(''),
      available_on_utc: isoLocalDateTime('Z'),
      available_on: isoLocalDateTime(''),
      automatic_payout_id: optionalCell,
      source_id: optionalCell,
      charge_id: optionalCell,
      payment_intent_id: optionalCell,
      invoice_id: optionalCell,
      trace_id: optionalCell,
      connected_account_id: optionalCell,
      description: optionalCell,
      metadata: z.record(z.string(), z.string()),
    })
    .transform((record, ctx) => {
      if (!/^[a-z]{3}$|^[A-Z]{3}$/.test(record.currency)) {
        ctx.addIssue({ code: 'custom', path: ['currency'], message: `${JSON.stringify(record.currency)} is not a three-letter currency code` });
        return z.NEVER;
      }
      const currency = currencyIn(ctx, 'currency', record.currency.toUpperCase());
      if (currency === undefined) return z.NEVER;
      const options = { decimalSeparator: '.' as const, providerDecimals: STRIPE_DECIMALS[currency] };
      const money = (column: 'gross' | 'fee' | 'net', text: string | undefined): StatementMoney | undefined => {
        if (text === undefined) return undefined;
        const amount = convert(ctx, column, () => parseMajorUnits(text, currency, options));
        return amount === undefined ? undefined : { amount, currency };
      };
      const gross = money('gross', record.gross);
      const fee = money('fee', record.fee);
      const net = money('net', record.net);
      // Without the UTC columns, times are in the zone the report was requested in, which the file does not name.
      const utc = record.created_utc !== undefined;
      return {
        category: record.reporting_category,
        ...(record.description === undefined ? {} : { description: record.description }),
        ...(gross === undefined ? {} : { gross }),
        ...(fee === undefined ? {} : { fee }),
        ...(net === undefined ? {} : { net }),
        references: referencesOf([
          ['balance_transaction', record.balance_transaction_id],
          ['source', record.source_id],
          ['charge', record.charge_id],
          ['payment_intent', record.payment_intent_id],
          ['invoice', record.invoice_id],
          ['trace_id', record.trace_id],
          ['connected_account', record.connected_account_id],
          ...metadata.map(({ kind, name }) => [kind, record.metadata[name]] as const),
        ]),
        ...(record.automatic_payout_id === undefined ? {} : { payoutId: record.automatic_payout_id }),
        ...optional('bookingDate', record.created_utc ?? record.created),
        ...optional('valueDate', utc ? record.available_on_utc : (record.available_on ?? record.available_on_utc)),
      };
    });

export const stripeBalanceImporter: StatementImporter = {
  format: 'stripe-balance',
  async *parse(text): AsyncGenerator<ParsedItem> {
    const issues = new StatementIssues('stripe-balance');
    let header: CsvHeader<Column> | undefined;
    let schema: ReturnType<typeof recordSchema> | undefined;
    let metadata: { kind: string; name: string; position: number }[] = [];
    for await (const { line, fields } of csvRecords(text, 'stripe-balance')) {
      if (header === undefined || schema === undefined) {
        header = new CsvHeader(line, fields, COLUMNS, (issue) => issues.fail(issue));
        // In the order of their kinds, not of their columns: a report run with its columns in another
        // order carries the same references, and so restates nothing.
        metadata = fields
          .flatMap((field, position) => {
            const match = METADATA_COLUMN.exec(field.trim());
            return match === null ? [] : [{ kind: `${match[1]}:${match[2]}`, name: field.trim(), position }];
          })
          .sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
        schema = recordSchema(metadata);
        continue;
      }
      if (fields.length !== header.width) {
        issues.add({ line, reason: `the row has ${fields.length} fields but the header has ${header.width}` });
        continue;
      }
      const values = {
        ...header.read(fields),
        metadata: Object.fromEntries(metadata.map(({ name, position }) => [name, (fields[position] ?? '').trim()])),
      };
      const parsed = schema.safeParse(values);
      if (!parsed.success) {
        issues.addZodIssues(line, parsed.error);
        continue;
      }
      const row: ParsedRow = { rowKey: values.balance_transaction_id ?? '', row: { line, ...parsed.data } };
      yield { kind: 'row', row };
    }
    if (header === undefined) issues.fail({ line: 1, reason: 'the file is empty: expected a header line' });
    issues.throwIfAny();
  },
};

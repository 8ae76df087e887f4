import type { CurrencyCode, StatementMoney } from '@folio/shared';
import { z } from 'zod';
import { CsvHeader, csvRecords } from './csvRecords.js';
import { StatementIssues } from './malformedStatementError.js';
import type { ParsedItem, ParsedStatementInfo, StatementImporter } from './parsedStatement.js';
import { cell, convert, currencyIn, isoLocalDateTime, optional, optionalCell, referencesOf } from './rowFields.js';
import { keyRows, type PeerRow } from './rowOrdinals.js';
import { parseMajorUnits } from './statementAmounts.js';

/**
 * Adyen's settlement details report: one line per journal entry of a settlement batch. Amounts are
 * unsigned decimals in major units whose direction is the column they sit in (`… Debit` or
 * `… Credit`), never the `Type`. Gross is in the transaction currency, net and fees in the
 * settlement currency.
 *
 * Row identity. A row with a PSP reference is keyed on merchant account, batch, type, PSP
 * reference, modification reference and booking date: Adyen's own references, which a re-export
 * keeps. Rows without one (fees, the merchant payout, balance transfers, invoice deductions…) may
 * share that tuple, and Adyen may write them in another order when it generates the batch's report
 * again, so they add their ordinal among the file's rows of the same tuple (`#1`, `#2`), counted
 * not in the order of the lines but in that of what describes each row: gross and net currency,
 * creation date, merchant reference, modification merchant reference and payment method, then
 * amounts and fees. The same rows in any order get the same keys; two identical rows stay two rows;
 * a corrected amount restates its own row (among rows alike in all but the amount, which one
 * changed cannot be told: the totals stay right). A row alone with its tuple keeps `#1`, and
 * identical rows their numbers, as keyed before, so batches already imported are not restated.
 */

const FEE_COLUMNS = [
  ['Commission (NC)', 'commission'],
  ['Markup (NC)', 'markup'],
  ['Scheme Fees (NC)', 'scheme_fees'],
  ['Interchange (NC)', 'interchange'],
  ['DCC Markup (NC)', 'dcc_markup'],
  ['Payment Fees (NC)', 'payment_fees'],
] as const;

const COLUMNS = {
  'Merchant Account': true,
  'Psp Reference': true,
  Type: true,
  'Batch Number': true,
  'Creation Date': true,
  'Gross Currency': true,
  'Gross Debit (GC)': true,
  'Gross Credit (GC)': true,
  'Net Currency': true,
  'Net Debit (NC)': true,
  'Net Credit (NC)': true,
  'Company Account': false,
  'Merchant Reference': false,
  'Payment Method': false,
  TimeZone: false,
  'Modification Reference': false,
  'Exchange Rate': false,
  'Payment Method Variant': false,
  'Modification Merchant Reference': false,
  'Booking Date': false,
  'Booking Date TimeZone': false,
  'Commission (NC)': false,
  'Markup (NC)': false,
  'Scheme Fees (NC)': false,
  'Interchange (NC)': false,
  'DCC Markup (NC)': false,
  'Payment Fees (NC)': false,
} as const;

type Column = keyof typeof COLUMNS;

const major = (currency: CurrencyCode) => (text: string) => parseMajorUnits(text, currency, { decimalSeparator: '.' });

const rowSchema = z
  .object({
    'Merchant Account': cell('Merchant Account'),
    'Psp Reference': optionalCell,
    Type: cell('Type'),
    'Batch Number': z.string().regex(/^\d+$/, { error: 'must be the batch number, in digits' }),
    'Creation Date': isoLocalDateTime('').pipe(z.string({ error: 'must not be empty' })),
    'Gross Currency': optionalCell,
    'Gross Debit (GC)': optionalCell,
    'Gross Credit (GC)': optionalCell,
    'Net Currency': optionalCell,
    'Net Debit (NC)': optionalCell,
    'Net Credit (NC)': optionalCell,
    'Company Account': optionalCell,
    'Merchant Reference': optionalCell,
    'Payment Method': optionalCell,
    TimeZone: optionalCell,
    'Modification Reference': optionalCell,
    'Exchange Rate': optionalCell,
    'Payment Method Variant': optionalCell,
    'Modification Merchant Reference': optionalCell,
    'Booking Date': isoLocalDateTime(''),
    'Booking Date TimeZone': optionalCell,
    'Commission (NC)': optionalCell,
    'Markup (NC)': optionalCell,
    'Scheme Fees (NC)': optionalCell,
    'Interchange (NC)': optionalCell,
    'DCC Markup (NC)': optionalCell,
    'Payment Fees (NC)': optionalCell,
  })
  .transform((record, ctx) => {
    let failed = false;
    /** Debit and credit columns of one amount: at most one may be filled; credit is positive. */
    const directed = (currencyColumn: Column, debitColumn: Column, creditColumn: Column): StatementMoney | undefined => {
      const debit = record[debitColumn];
      const credit = record[creditColumn];
      if (debit === undefined && credit === undefined) return undefined;
      if (debit !== undefined && credit !== undefined) {
        ctx.addIssue({ code: 'custom', path: [creditColumn], message: `both ${debitColumn} and ${creditColumn} are filled: the direction is ambiguous` });
        failed = true;
        return undefined;
      }
      const currencyText = record[currencyColumn];
      if (currencyText === undefined) {
        ctx.addIssue({ code: 'custom', path: [currencyColumn], message: 'an amount needs its currency' });
        failed = true;
        return undefined;
      }
      const currency = currencyIn(ctx, currencyColumn, currencyText);
      const column = debit !== undefined ? debitColumn : creditColumn;
      const amount = currency === undefined ? undefined : convert(ctx, column, () => major(currency)((debit ?? credit) as string));
      if (amount === undefined || currency === undefined) {
        failed = true;
        return undefined;
      }
      if (amount < 0n) {
        ctx.addIssue({ code: 'custom', path: [column], message: 'must be unsigned: the column gives the direction' });
        failed = true;
        return undefined;
      }
      return { amount: debit !== undefined ? -amount : amount, currency };
    };
    const gross = directed('Gross Currency', 'Gross Debit (GC)', 'Gross Credit (GC)');
    const net = directed('Net Currency', 'Net Debit (NC)', 'Net Credit (NC)');
    const feeParts = FEE_COLUMNS.flatMap(([column, kind]) => {
      const text = record[column];
      if (text === undefined) return [];
      const currencyText = record['Net Currency'];
      const currency = currencyText === undefined ? undefined : currencyIn(ctx, 'Net Currency', currencyText);
      const amount = currency === undefined ? undefined : convert(ctx, column, () => major(currency)(text));
      if (amount === undefined || currency === undefined) {
        if (currencyText === undefined) ctx.addIssue({ code: 'custom', path: ['Net Currency'], message: 'fees need the settlement currency' });
        failed = true;
        return [];
      }
      return [{ kind, amount, currency }];
    });
    if (failed) return z.NEVER;
    const feeCurrency = feeParts[0]?.currency;
    return {
      category: record.Type,
      ...optional('gross', gross),
      ...(feeCurrency === undefined
        ? {}
        : {
            fee: { amount: feeParts.reduce((sum, part) => sum + part.amount, 0n), currency: feeCurrency },
            feeBreakdown: feeParts.map(({ kind, amount }) => ({ kind, amount })),
          }),
      ...optional('net', net),
      ...optional('exchangeRate', record['Exchange Rate']),
      references: referencesOf([
        ['psp_reference', record['Psp Reference']],
        ['merchant_reference', record['Merchant Reference']],
        ['modification_reference', record['Modification Reference']],
        ['modification_merchant_reference', record['Modification Merchant Reference']],
        ['merchant_account', record['Merchant Account']],
        ['company_account', record['Company Account']],
        ['payment_method', record['Payment Method Variant'] ?? record['Payment Method']],
      ]),
      payoutId: record['Batch Number'],
      bookingDate: record['Booking Date'] ?? record['Creation Date'],
      transactionDate: record['Creation Date'],
      ...optional('timeZone', record['Booking Date'] === undefined ? record.TimeZone : (record['Booking Date TimeZone'] ?? record.TimeZone)),
      identity: [
        record['Merchant Account'],
        record['Batch Number'],
        record.Type,
        record['Psp Reference'] ?? '',
        record['Modification Reference'] ?? '',
        record['Booking Date'] ?? '',
      ],
      batchLevel: record['Psp Reference'] === undefined,
      details: [
        record['Gross Currency'] ?? '',
        record['Net Currency'] ?? '',
        record['Creation Date'],
        record['Merchant Reference'] ?? '',
        record['Modification Merchant Reference'] ?? '',
        record['Payment Method Variant'] ?? record['Payment Method'] ?? '',
      ],
    };
  });

export const adyenSdrImporter: StatementImporter = {
  format: 'adyen-sdr',
  async *parse(text): AsyncGenerator<ParsedItem> {
    const issues = new StatementIssues('adyen-sdr');
    let header: CsvHeader<Column> | undefined;
    const batches = new Map<string, ParsedStatementInfo>();
    const batchLevelRows: PeerRow[] = [];
    for await (const { line, fields } of csvRecords(text, 'adyen-sdr')) {
      if (header === undefined) {
        header = new CsvHeader(line, fields, COLUMNS, (issue) => issues.fail(issue));
        continue;
      }
      if (fields.length !== header.width) {
        issues.add({ line, reason: `the row has ${fields.length} fields but the header has ${header.width}` });
        continue;
      }
      const parsed = rowSchema.safeParse(header.read(fields));
      if (!parsed.success) {
        issues.addZodIssues(line, parsed.error);
        continue;
      }
      const { identity, batchLevel, details, ...row } = parsed.data;
      const [merchantAccount, batch] = identity as [string, string];
      const statementId = `${merchantAccount}/${batch}`;
      if (!batches.has(statementId)) {
        batches.set(statementId, { statementId, account: merchantAccount, sequenceNumber: BigInt(batch), balances: [] });
      }
      if (batchLevel) batchLevelRows.push({ tuple: identity.join('|'), traits: details, parsed: { statementId, row: { line, ...row } } });
      else yield { kind: 'row', row: { rowKey: identity.join('|'), statementId, row: { line, ...row } } };
    }
    if (header === undefined) issues.fail({ line: 1, reason: 'the file is empty: expected a header line' });
    issues.throwIfAny();
    for (const row of keyRows(batchLevelRows, '#')) yield { kind: 'row', row };
    for (const statement of batches.values()) yield { kind: 'statement', statement };
  },
};

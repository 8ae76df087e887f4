import type { StatementMoney } from '@folio/shared';
import { z } from 'zod';
import { CsvHeader, csvRecords } from './csvRecords.js';
import { StatementIssues } from './malformedStatementError.js';
import type { ParsedItem, ParsedStatementInfo, StatementImporter } from './parsedStatement.js';
import { cell, convert, currencyIn, dateTimeCell, optional, optionalCell, present, referencesOf } from './rowFields.js';
import { parseImpliedHundredths } from './statementAmounts.js';

/**
 * PayPal's settlement report (STL): records typed by their first field. `RH`/`FH` head the report
 * and the file, each section (`SH` … `SC`) is one account's reporting window, `CH` names the
 * columns of the `SB` transaction rows that follow, `SC` counts them, `FF` ends the file. Rows are
 * identified by `Transaction ID`. Amounts are unsigned, with two implied decimals in every currency,
 * and a separate `CR`/`DR` flag for the gross and for the fee; a fee refund is `CR`.
 */

const COLUMNS = {
  'Transaction ID': true,
  'Transaction Event Code': true,
  'Transaction  Debit or Credit': true,
  'Gross Transaction Amount': true,
  'Gross Transaction Currency': true,
  'Fee Debit or Credit': true,
  'Fee Amount': true,
  'Fee Currency': true,
  'Invoice ID': false,
  'PayPal Reference ID': false,
  'PayPal Reference ID Type': false,
  'Transaction Initiation Date': false,
  'Transaction Completion Date': false,
  'Custom Field': false,
  'Consumer ID': false,
  'Payment Tracking ID': false,
  'Store ID': false,
  'Bank Reference ID': false,
} as const;

type Column = keyof typeof COLUMNS;

/** `2024/05/01 10:15:24 -0700` → `2024-05-01T10:15:24-07:00`. */
const paypalDateTime = dateTimeCell(
  /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}:\d{2}:\d{2}) ([+-]\d{2})(\d{2})$/,
  '2024/05/01 10:15:24 -0700',
  ([, year, month, day, time, hours, minutes]) => `${year}-${month}-${day}T${time}${hours}:${minutes}`,
);

const flag = z.enum(['CR', 'DR'], { error: 'must be "CR" or "DR"' });

const rowSchema = z
  .object({
    'Transaction ID': cell('Transaction ID'),
    'Transaction Event Code': z.string().regex(/^T\d{4}$/, { error: 'must be a T-code such as "T0006"' }),
    'Transaction  Debit or Credit': flag,
    'Gross Transaction Amount': cell('Gross Transaction Amount'),
    'Gross Transaction Currency': cell('Gross Transaction Currency'),
    'Fee Debit or Credit': z.union([flag, z.literal('')]),
    'Fee Amount': optionalCell,
    'Fee Currency': optionalCell,
    'Invoice ID': optionalCell,
    'PayPal Reference ID': optionalCell,
    'PayPal Reference ID Type': optionalCell,
    'Transaction Initiation Date': paypalDateTime,
    'Transaction Completion Date': paypalDateTime,
    'Custom Field': optionalCell,
    'Consumer ID': optionalCell,
    'Payment Tracking ID': optionalCell,
    'Store ID': optionalCell,
    'Bank Reference ID': optionalCell,
  })
  .transform((record, ctx) => {
    const money = (amountColumn: Column, currencyColumn: Column, text: string, currencyText: string): StatementMoney | undefined => {
      const currency = currencyIn(ctx, currencyColumn, currencyText);
      if (currency === undefined) return undefined;
      const amount = convert(ctx, amountColumn, () => parseImpliedHundredths(text, currency));
      return amount === undefined ? undefined : { amount, currency };
    };
    const gross = money(
      'Gross Transaction Amount',
      'Gross Transaction Currency',
      record['Gross Transaction Amount'],
      record['Gross Transaction Currency'],
    );
    const feeText = record['Fee Amount'];
    let fee: StatementMoney | undefined;
    if (feeText !== undefined) {
      fee = money('Fee Amount', 'Fee Currency', feeText, record['Fee Currency'] ?? record['Gross Transaction Currency']);
      if (fee !== undefined && fee.amount !== 0n && record['Fee Debit or Credit'] === '') {
        ctx.addIssue({ code: 'custom', path: ['Fee Debit or Credit'], message: 'a fee other than 0 needs "CR" or "DR"' });
      }
    }
    if (gross === undefined || (feeText !== undefined && fee === undefined)) return z.NEVER;
    const referenceType = record['PayPal Reference ID Type'];
    return {
      category: record['Transaction Event Code'],
      gross: { ...gross, amount: record['Transaction  Debit or Credit'] === 'CR' ? gross.amount : -gross.amount },
      ...(fee === undefined ? {} : { fee: { ...fee, amount: record['Fee Debit or Credit'] === 'CR' ? -fee.amount : fee.amount } }),
      references: referencesOf([
        ['transaction_id', record['Transaction ID']],
        ['invoice_id', record['Invoice ID']],
        [referenceType === undefined ? 'paypal_reference' : `paypal_reference:${referenceType}`, record['PayPal Reference ID']],
        ['custom', record['Custom Field']],
        ['consumer_id', record['Consumer ID']],
        ['payment_tracking_id', record['Payment Tracking ID']],
        ['store_id', record['Store ID']],
        ['bank_reference', record['Bank Reference ID']],
      ]),
      ...optional('bookingDate', record['Transaction Completion Date']),
      ...optional('transactionDate', record['Transaction Initiation Date']),
    };
  });

interface Section {
  info: ParsedStatementInfo;
  line: number;
  rows: number;
  header?: CsvHeader<Column>;
}

export const paypalStlImporter: StatementImporter = {
  format: 'paypal-stl',
  async *parse(text): AsyncGenerator<ParsedItem> {
    const issues = new StatementIssues('paypal-stl');
    const fail = (line: number, reason: string, column?: string): never => issues.fail({ line, reason, ...optional('column', column) });
    let createdAt: string | undefined;
    let pageNumber: bigint | undefined;
    let section: Section | undefined;
    let ended = false;
    let started = false;
    let lastLine = 1;
    const statementIds = new Set<string>();
    const dateOf = (line: number, value: string | undefined, what: string): string | undefined => {
      const parsed = paypalDateTime.safeParse(value);
      return parsed.success ? parsed.data : fail(line, `${what} ${JSON.stringify(value)} is not a date-time such as "2024/05/01 00:00:00 -0700"`);
    };

    for await (const { line, fields } of csvRecords(text, 'paypal-stl')) {
      const [type = '', ...values] = fields;
      lastLine = line;
      if (ended) fail(line, `a ${JSON.stringify(type)} record after the file footer (FF)`);
      if (!started && type !== 'RH') fail(line, `the file must start with the report header (RH), found ${JSON.stringify(type)}`);
      started = true;
      switch (type) {
        case 'RH':
          createdAt = dateOf(line, values[0], 'the report date');
          break;
        case 'FH':
          if (!/^\d+$/.test(values[0] ?? '')) fail(line, 'the file header (FH) must carry the file sequence number');
          pageNumber = BigInt(values[0] as string);
          break;
        case 'SH': {
          if (section !== undefined) fail(line, `a section header (SH) inside the section opened on line ${section.line}, which has no count (SC)`);
          const account = present(values[2]);
          if (account === undefined) fail(line, 'the section header (SH) has no account id in its fourth field');
          const periodStart = dateOf(line, values[0], 'the section start');
          const periodEnd = dateOf(line, values[1], 'the section end');
          let statementId = `${account}/${periodStart}`;
          for (let n = 2; statementIds.has(statementId); n += 1) statementId = `${account}/${periodStart}#${n}`;
          statementIds.add(statementId);
          section = {
            line,
            rows: 0,
            info: {
              statementId,
              ...optional('account', account),
              ...optional('periodStart', periodStart),
              ...optional('periodEnd', periodEnd),
              ...optional('createdAt', createdAt),
              ...optional('pageNumber', pageNumber),
              balances: [],
            },
          };
          break;
        }
        case 'CH':
          if (section === undefined) fail(line, 'a column header (CH) outside a section (SH)');
          section!.header = new CsvHeader(line, values, COLUMNS, (issue) => issues.fail(issue));
          break;
        case 'SB': {
          if (section?.header === undefined) fail(line, 'a transaction row (SB) before its section (SH) and column header (CH)');
          const { header, info } = section as Section & { header: CsvHeader<Column> };
          section!.rows += 1;
          if (values.length !== header.width) {
            issues.add({ line, reason: `the row has ${values.length} fields after "SB" but the column header has ${header.width}` });
            break;
          }
          const parsed = rowSchema.safeParse(header.read(values));
          if (!parsed.success) {
            issues.addZodIssues(line, parsed.error);
            break;
          }
          yield {
            kind: 'row',
            row: { rowKey: parsed.data.references[0]!.value, statementId: info.statementId, row: { line, ...parsed.data } },
          };
          break;
        }
        case 'SF':
          if (section === undefined) fail(line, 'a section footer (SF) outside a section');
          break;
        case 'SC': {
          if (section === undefined) fail(line, 'a section count (SC) outside a section');
          const declared = values[0] ?? '';
          if (!/^\d+$/.test(declared)) fail(line, `the section count ${JSON.stringify(declared)} is not a number`);
          if (BigInt(declared) !== BigInt(section!.rows)) {
            fail(line, `the section count says ${declared} transaction rows but the section has ${section!.rows}: the file is incomplete or altered`);
          }
          yield { kind: 'statement', statement: section!.info };
          section = undefined;
          break;
        }
        case 'RF':
        case 'RC':
          if (section !== undefined) fail(line, `a report footer (${type}) inside the section opened on line ${section.line}`);
          break;
        case 'FF':
          if (section !== undefined) fail(line, `the file footer (FF) inside the section opened on line ${section.line}`);
          ended = true;
          break;
        default:
          fail(line, `unknown record type ${JSON.stringify(type)}: expected RH, FH, SH, CH, SB, SF, SC, RF, RC or FF`);
      }
    }
    if (!started) fail(1, 'the file is empty: expected a report header (RH)');
    if (!ended) fail(lastLine, 'the file ends without its footer (FF): it is truncated');
    issues.throwIfAny();
  },
};

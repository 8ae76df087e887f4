import { ValidationError, parseCurrencyCode, type CurrencyCode, type StatementReference, type StatementRow } from '@folio/shared';
import { EntryTally, type DeclaredFigure, type EntryBooking } from './declaredEntryTotals.js';
import { StatementIssues, type StatementIssue } from './malformedStatementError.js';
import type { ParsedItem, ParsedRow, ParsedStatementInfo, StatementImporter } from './parsedStatement.js';
import { optional } from './rowFields.js';
import { keyRows, type PeerRow } from './rowOrdinals.js';
import { parseMajorUnits } from './statementAmounts.js';
import { statementLines } from './statementText.js';

/**
 * SWIFT MT940 customer statements, with or without the `{1:}{2:}{4:` envelope, several messages to
 * a file. Each message is a statement (`:20:` reference, `:25:` account, `:28C:` number/sequence,
 * `:60F:`/`:62F:` balances); each `:61:` line is a row, with the `:86:` that follows it as its
 * description. Amounts use a decimal comma; the mark gives the direction (`C`, `D`, and `RC`/`RD`
 * for reversals, booked in the opposite direction). `:90C:`/`:90D:`, when a bank sends them,
 * declare the number and sum of the credit and debit lines: a statement whose lines disagree is
 * rejected at the line of the declaration.
 *
 * Row identity: the account and the bank reference (after `//`), which a statement delivered again
 * keeps. A line without one (`NONREF`, or none at all) is keyed on what the statement and the line
 * say of themselves: the account, `:20:` reference, `:28C:` number (and page), the opening balance
 * date, the line's value and entry dates, `~` and its ordinal among the statement's lines without a
 * bank reference of those dates. The dates matter: many banks send the same `:20:STARTUMS` / `:28C:0`
 * every day. A bank that sends a statement again (corrected, regenerated, through another channel)
 * may list its lines in another order, so the ordinal is counted not in the order of the lines but
 * in that of what describes each: mark, transaction type, customer reference, supplementary details
 * and `:86:` text (with the end-to-end reference in it); then amount. The same lines in any order get
 * the same keys; two identical lines stay two rows; a corrected amount restates its own line (among
 * lines alike in all but the amount, which one changed cannot be told: the totals stay right).
 *
 * The previous version ended such a key in `#` and the line's place among all the statement's lines,
 * in file order. Each line carries that key too: a statement imported then keeps it when delivered
 * again (the import decides), since a key counted otherwise would name another line or a new one.
 * Such a statement sent again in another order is keyed by place still, as it was then: its lines
 * restate those that stood at their places. A positional key ends in `#` and digits, a key of now
 * in `~` and digits: they never meet.
 */

interface Field {
  tag: string;
  line: number;
  value: string;
}

class FieldProblem extends Error {
  constructor(
    readonly issue: StatementIssue,
  ) {
    super(issue.reason);
  }
}

const problem = (field: Field, reason: string): FieldProblem => new FieldProblem({ line: field.line, column: `:${field.tag}:`, reason });

const amountOf = (field: Field, text: string, currency: CurrencyCode): bigint => {
  try {
    // "1000," is how MT940 writes a whole amount.
    return parseMajorUnits(text.endsWith(',') ? text.slice(0, -1) : text, currency, { decimalSeparator: ',' });
  } catch (error) {
    if (error instanceof ValidationError) throw problem(field, error.message);
    throw error;
  }
};

/** YYMMDD, in this century. */
const dateOf = (field: Field, text: string): string => {
  const iso = `20${text.slice(0, 2)}-${text.slice(2, 4)}-${text.slice(4, 6)}`;
  const parsed = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== iso) throw problem(field, `${text} is not a date (YYMMDD)`);
  return iso;
};

/** The entry date has no year: the one that puts it nearest the value date. */
const entryDateOf = (field: Field, monthDay: string, valueDate: string): string => {
  const valueYear = Number(valueDate.slice(0, 4));
  const valueMonth = Number(valueDate.slice(5, 7));
  const month = Number(monthDay.slice(0, 2));
  const year = month - valueMonth > 6 ? valueYear - 1 : valueMonth - month > 6 ? valueYear + 1 : valueYear;
  return dateOf(field, `${String(year).slice(2)}${monthDay}`);
};

const BALANCE = /^([CD])(\d{6})([A-Z]{3})(\d+,\d*)$/;
const STATEMENT_LINE = /^(\d{6})(\d{4})?(RC|RD|C|D)([A-Z])?(\d+,\d*)([A-Z][A-Z0-9]{3})(.*)$/;
const TOTALS = /^(\d+)([A-Z]{3})(\d+,\d*)$/;

const currencyOf = (field: Field, text: string): CurrencyCode => {
  try {
    return parseCurrencyCode(text);
  } catch (error) {
    if (error instanceof ValidationError) throw problem(field, error.message);
    throw error;
  }
};

const balanceOf = (field: Field) => {
  const match = BALANCE.exec(field.value.trim());
  if (match === null) throw problem(field, `expected a balance such as C240430EUR1000,00, got ${JSON.stringify(field.value)}`);
  const [, mark, date, currencyText, amountText] = match as unknown as [string, string, string, string, string];
  const currency = currencyOf(field, currencyText);
  const amount = amountOf(field, amountText, currency);
  return { type: field.tag, amount: mark === 'D' ? -amount : amount, currency, date: dateOf(field, date) };
};

/** `?NN` subfields whose text is the purpose: `?20`–`?29`, continued in `?60`–`?63`. */
const PURPOSE_SUBFIELD = /^(2\d|6[0-3])$/;

/** Structured `:86:` text: subfields from the start, after an optional 3-digit transaction code. */
const STRUCTURED = /^(\d{3})?\?\d{2}/;

/**
 * The purpose text of `:86:`. In structured text (`166?00…?20EREF+…?21SVWZ+…`) each `?NN` ends a
 * subfield: the purpose is its `?2x`/`?6x` subfields joined, since a long value continues in the
 * next one; the markers themselves and the other subfields (names, BIC, IBAN) are no part of it.
 */
const purposeOf = (flat: string): string => {
  if (!STRUCTURED.test(flat)) return flat;
  const parts = flat.split(/\?(\d{2})/);
  let purpose = '';
  for (let at = 1; at < parts.length; at += 2) if (PURPOSE_SUBFIELD.test(parts[at]!)) purpose += parts[at + 1]!;
  return purpose;
};

/** End-to-end reference and remittance text in the `:86:` conventions banks use most. */
const informationReferences = (information: string): StatementReference[] => {
  const flat = purposeOf(information.replace(/\n/g, ''));
  const endToEnd = /\/EREF\/([^/]+)/.exec(flat)?.[1] ?? /EREF\+(\S+?)(?=\s|[A-Z]{4}\+|$)/.exec(flat)?.[1];
  return endToEnd === undefined || endToEnd === 'NOTPROVIDED' ? [] : [{ kind: 'end_to_end_id', value: endToEnd.trim() }];
};

/**
 * The row of a `:61:` line, its bank reference, what describes it besides its amount (what orders
 * it among lines without a bank reference), and how it was booked: what `:90C:`/`:90D:` count.
 */
const toRow = (
  field: Field,
  information: Field | undefined,
  currency: CurrencyCode,
): { row: StatementRow; bankReference?: string; traits: string[]; booking: EntryBooking } => {
  const [first = '', ...supplementary] = field.value.split('\n');
  const match = STATEMENT_LINE.exec(first);
  if (match === null) {
    throw problem(field, `expected a statement line such as 2405010501C32,37NTRFREF//BANKREF, got ${JSON.stringify(first)}`);
  }
  const [, valueText, entryText, mark, , amountText, type, references] = match as unknown as string[];
  const valueDate = dateOf(field, valueText!);
  const amount = amountOf(field, amountText!, currency);
  const [customerText = '', bankReference] = references!.split('//');
  // Fixed-width exports pad the 16x reference with spaces, which are no part of it.
  const customerReference = customerText.trim();
  const credit = mark === 'C' || mark === 'RD';
  const refs: StatementReference[] = [];
  if (customerReference !== '' && customerReference !== 'NONREF') refs.push({ kind: 'customer_reference', value: customerReference });
  // Like the customer reference, a bank reference of NONREF names nothing: it must not key the row.
  const bank = bankReference?.trim() === 'NONREF' ? undefined : bankReference?.trim();
  if (bank !== undefined && bank !== '') refs.push({ kind: 'bank_reference', value: bank });
  const text = information?.value;
  if (text !== undefined) refs.push(...informationReferences(text));
  const details = supplementary.join(' ').trim();
  const description = [details, text?.replace(/\n/g, ' ')].filter((part) => part !== undefined && part !== '').join(' ');
  return {
    row: {
      line: field.line,
      category: type!,
      ...optional('description', description || undefined),
      net: { amount: credit ? amount : -amount, currency },
      references: refs,
      valueDate,
      bookingDate: entryText === undefined ? valueDate : entryDateOf(field, entryText, valueDate),
      ...(mark!.startsWith('R') ? { reversal: true } : {}),
    },
    ...optional('bankReference', bank === '' ? undefined : bank),
    traits: [mark!, type!, customerReference, description],
    // RD (a debit reversed) brings money back: a credit line, counted in :90C: as its row is signed; RC in :90D:.
    booking: { direction: credit ? 'credit' : 'debit', amount, currency, line: field.line, column: ':61:' },
  };
};

/** A header or trailer block, `{1:…}`, `{3:{108:…}}`, `{5:{CHK:…}}`, `{S:…}`: its sub-blocks nest one deep. */
const ENVELOPE_BLOCK = /^\{(?:[1235]|S):(?:[^{}]|\{[^{}]*\})*\}/;

/**
 * A line without its envelope: blocks 1–3 before the text block `{4:`, and its end `-}` with the
 * trailers after it, all of which may share a line with each other and with the text.
 */
const withoutEnvelope = (raw: string): { content: string; ended: boolean } => {
  let content = raw;
  let ended = false;
  for (;;) {
    const block = ENVELOPE_BLOCK.exec(content);
    if (block !== null) content = content.slice(block[0].length);
    else if (content.startsWith('{4:')) content = content.slice(3);
    else if (/^-\}(\{|\s*$)/.test(content)) {
      ended = true;
      content = content.slice(2);
    } else break;
  }
  // Without the envelope, a line of "-" ends a message; a trailer left unparsed is still a trailer.
  if (/^\s*-\s*$/.test(content) || /^\{[5S]:/.test(content)) return { content: '', ended: true };
  return { content, ended };
};

/** The fields of a file, message by message: a `:20:` starts a message. */
async function* messages(text: AsyncIterable<string>, issues: StatementIssues): AsyncGenerator<Field[]> {
  let fields: Field[] = [];
  let current: Field | undefined;
  for await (const { line, text: raw } of statementLines(text)) {
    const { content, ended } = withoutEnvelope(raw);
    if (ended) current = undefined;
    const tag = /^:(\d{2}[A-Z]?|NS):(.*)$/.exec(content);
    if (tag !== null) {
      const [, name, value] = tag as unknown as [string, string, string];
      if (name === '20' && fields.length > 0) {
        yield fields;
        fields = [];
      }
      current = { tag: name, line, value };
      fields.push(current);
      continue;
    }
    if (content.trim() === '') continue;
    if (current === undefined) issues.fail({ line, reason: `expected a field such as ":20:", got ${JSON.stringify(content.slice(0, 40))}` });
    current!.value += `\n${content}`;
  }
  if (fields.length > 0) yield fields;
}

export const mt940Importer: StatementImporter = {
  format: 'mt940',
  async *parse(text): AsyncGenerator<ParsedItem> {
    const issues = new StatementIssues('mt940');
    const statementIds = new Set<string>();
    let count = 0;
    for await (const fields of messages(text, issues)) {
      const start = fields[0]!;
      const one = (tag: RegExp): Field | undefined => fields.find((field) => tag.test(field.tag));
      const reference = one(/^20$/);
      if (reference === undefined) issues.fail({ line: start.line, column: ':20:', reason: 'the statement has no transaction reference (:20:)' });
      const items: ParsedItem[] = [];
      try {
        const account = one(/^25$/)?.value.trim();
        if (account === undefined || account === '') throw problem(start, 'the statement has no account identification (:25:)');
        const numberField = one(/^28C?$/);
        if (numberField === undefined) throw problem(start, 'the statement has no statement number (:28C:)');
        const number = /^(\d{1,5})(?:\/(\d{1,5}))?$/.exec(numberField.value.trim());
        if (number === null) throw problem(numberField, `expected a statement number such as 123/1, got ${JSON.stringify(numberField.value)}`);
        const openingField = one(/^60[FM]$/);
        if (openingField === undefined) throw problem(start, 'the statement has no opening balance (:60F:)');
        const opening = balanceOf(openingField);
        const currency = opening.currency;
        let statementId = reference!.value.trim();
        for (let n = 2; statementIds.has(statementId); n += 1) statementId = `${reference!.value.trim()}#${n}`;
        statementIds.add(statementId);
        // Not the file-unique statementId: a statement's lines keep their keys whatever else its file holds.
        const statementKey = [account, reference!.value.trim(), number[1], ...(number[2] === undefined ? [] : [number[2]]), opening.date].join('/');
        const balances = [opening];
        /** The statement's rows, held until it ends: a line without a bank reference is numbered among its peers. */
        const rows: (ParsedRow | PeerRow)[] = [];
        /** The statement's lines so far: how the previous version numbered a line without a bank reference. */
        let ordinal = 0;
        let closing = false;
        let credits: { count: number; amount: bigint } | undefined;
        let debits: { count: number; amount: bigint } | undefined;
        const tally = new EntryTally();
        const figures: DeclaredFigure[] = [];
        for (const [index, field] of fields.entries()) {
          if (field.tag === '61') {
            if (closing) throw problem(field, 'a statement line after the closing balance');
            ordinal += 1;
            const next = fields[index + 1];
            const { row, bankReference, traits, booking } = toRow(field, next?.tag === '86' ? next : undefined, currency);
            tally.add(booking);
            if (bankReference !== undefined) rows.push({ rowKey: `${account}/${bankReference}`, statementId, row });
            else {
              const tuple = `${statementKey}/${row.valueDate}/${row.bookingDate}`;
              rows.push({ tuple, traits, parsed: { statementId, row, positional: { statement: statementKey, rowKey: `${tuple}#${ordinal}` } } });
            }
          } else if (/^6[245][FM]?$/.test(field.tag) && field !== openingField) {
            const balance = balanceOf(field);
            if (balance.currency !== currency) throw problem(field, `the balance is in ${balance.currency} but the statement is in ${currency}`);
            if (field.tag.startsWith('62')) closing = true;
            balances.push(balance);
          } else if (field.tag === '90C' || field.tag === '90D') {
            const totals = TOTALS.exec(field.value.trim());
            if (totals === null) throw problem(field, `expected a count, currency and sum such as 2EUR57,37, got ${JSON.stringify(field.value)}`);
            const count = Number(totals[1]);
            if (!Number.isSafeInteger(count)) throw problem(field, `the count ${totals[1]} of entries is out of range`);
            const totalsCurrency = currencyOf(field, totals[2]!);
            if (totalsCurrency !== currency) throw problem(field, `the total is in ${totalsCurrency} but the statement is in ${currency}`);
            const parsed = { count, amount: amountOf(field, totals[3]!, currency) };
            const tag = `:${field.tag}:`;
            const where = { direction: field.tag === '90C' ? 'credit' : 'debit', line: field.line, column: tag, declaredBy: tag } as const;
            figures.push({ kind: 'count', value: BigInt(count), ...where }, { kind: 'sum', value: parsed.amount, ...where });
            if (field.tag === '90C') credits = parsed;
            else debits = parsed;
          }
        }
        if (!closing) throw problem(start, 'the statement has no closing balance (:62F:)');
        for (const row of keyRows(rows, '~')) items.push({ kind: 'row', row });
        const disagreements = tally.disagreements({ currency, decimalSeparator: ',', figures });
        if (disagreements.length > 0) {
          for (const issue of disagreements) issues.add(issue);
          continue;
        }
        const info: ParsedStatementInfo = {
          statementId,
          account,
          currency,
          sequenceNumber: BigInt(number[1]!),
          ...optional('pageNumber', number[2] === undefined ? undefined : BigInt(number[2])),
          balances,
          ...(credits === undefined && debits === undefined
            ? {}
            : {
                declaredTotals: {
                  currency,
                  count: (credits?.count ?? 0) + (debits?.count ?? 0),
                  credits: credits?.amount ?? 0n,
                  debits: debits?.amount ?? 0n,
                },
              }),
        };
        items.push({ kind: 'statement', statement: info });
      } catch (error) {
        if (!(error instanceof FieldProblem)) throw error;
        issues.add(error.issue);
        continue;
      }
      count += 1;
      yield* items;
    }
    if (count === 0 && issues.size === 0) issues.fail({ line: 1, reason: 'the file has no statement (:20:)' });
    issues.throwIfAny();
  },
};

import {
  ValidationError,
  parseCurrencyCode,
  parseDecimalAmount,
  statementDateSchema,
  type CurrencyCode,
  type StatementMoney,
  type StatementReference,
  type StatementRow,
} from '@folio/shared';
import { canonicalJson } from '../canonicalJson.js';
import { EntryTally, type DeclaredEntryTotals, type DeclaredFigure, type EntryBooking, type EntryDirection } from './declaredEntryTotals.js';
import { StatementIssues } from './malformedStatementError.js';
import type { ParsedItem, ParsedRow, ParsedStatementInfo, StatementImporter } from './parsedStatement.js';
import { optional } from './rowFields.js';
import { keyRows, type PeerRow } from './rowOrdinals.js';
import { childAt, childrenNamed, textAt, xmlElements, type XmlElement } from './xmlElements.js';

/**
 * ISO 20022 camt.053 (bank to customer statement), any version `camt.053.001.*`. Each `Stmt` is a
 * statement with its sequence number, balances and control totals; each `Ntry` is a row whose
 * amount is positive with a `CRDT`/`DBIT` indicator, booked as `net`. Its `TxDtls` become details
 * (one entry can book many transactions) and their references the row's references.
 *
 * The control totals (`TxsSummry`) count and sum entries, not transactions: a batch entry is one
 * entry of its amount however many `TxDtls` it holds. A statement whose entries disagree with
 * them is rejected at the line of the figure.
 *
 * Row identity: the account, then the entry's `AcctSvcrRef`, else its `NtryRef`: the bank's own
 * references, which a statement delivered again keeps. An entry with neither (many banks give card
 * fees, charges and some credits none, or write NOTPROVIDED) is keyed on the account, statement id
 * (and page), `~` and its ordinal among the statement's entries without a reference. A bank that sends
 * a statement again (corrected, regenerated, through another channel) may list its entries in
 * another order, so the ordinal is counted not in the order of the entries but in that of what
 * describes each: booking and value dates, credit or debit, reversal, currency, bank transaction
 * code, additional information, references, and each transaction's counterparty and remittance
 * information; then amounts and the rest. The same entries in any order get the same keys; two
 * identical entries stay two rows; a corrected amount restates its own entry (among entries alike
 * in all but the amount, which one changed cannot be told: the totals stay right). An end-to-end
 * id is no key of its own: the payer writes it, and returns and batches repeat it.
 *
 * The previous version keyed such an entry `#` and its place among all the statement's entries, in
 * file order. Each entry carries that key too: a statement imported then keeps it when delivered
 * again (the import decides), since a key counted otherwise would name another entry or a new one.
 * Such a statement sent again in another order is keyed by place still, as it was then: its entries
 * restate those that stood at their places. A positional key ends in `#` and digits, a key of now
 * in `~` and digits: they never meet.
 */

const NAMESPACE = /^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.\d{2}$/;

const REFERENCE_KINDS: Readonly<Record<string, string>> = {
  MsgId: 'message_id',
  AcctSvcrRef: 'account_servicer_reference',
  PmtInfId: 'payment_information_id',
  InstrId: 'instruction_id',
  EndToEndId: 'end_to_end_id',
  TxId: 'transaction_id',
  MndtId: 'mandate_id',
  ChqNb: 'cheque_number',
  UETR: 'uetr',
};

/** What banks write where a reference is required but they have none: it names nothing. */
const NOT_PROVIDED = 'NOTPROVIDED';

/** The trimmed text along `path`, unless it is the placeholder for "no reference". */
const referenceAt = (element: XmlElement | undefined, ...path: string[]): string | undefined => {
  const value = textAt(element, ...path);
  return value === NOT_PROVIDED ? undefined : value;
};

class EntryProblem extends Error {
  constructor(
    readonly line: number,
    readonly column: string,
    reason: string,
  ) {
    super(reason);
  }
}

const required = (element: XmlElement | undefined, name: string, at: XmlElement): string => {
  const value = textAt(element, name);
  if (value === undefined) throw new EntryProblem(at.line, name, `${at.name} has no ${name}`);
  return value;
};

/**
 * `Amt Ccy="EUR"` as minor units. camt amounts are unsigned: the direction is the `CdtDbtInd` beside
 * them, so a signed amount is refused rather than guessed at (a "-" against `DBIT` is no credit).
 */
const amountOf = (element: XmlElement | undefined, owner: XmlElement): StatementMoney => {
  if (element === undefined) throw new EntryProblem(owner.line, 'Amt', `${owner.name} has no Amt`);
  const currency = currencyOf(element.attributes['Ccy'], element);
  const text = element.text.trim();
  if (text.startsWith('-')) {
    throw new EntryProblem(element.line, element.name, `amount ${JSON.stringify(text)} must be unsigned: CdtDbtInd gives the direction`);
  }
  try {
    return { amount: parseDecimalAmount(text, currency, { decimalSeparator: '.' }), currency };
  } catch (error) {
    if (error instanceof ValidationError) throw new EntryProblem(element.line, element.name, error.message);
    throw error;
  }
};

const currencyOf = (text: string | undefined, element: XmlElement): CurrencyCode => {
  try {
    return parseCurrencyCode(text);
  } catch (error) {
    if (error instanceof ValidationError) throw new EntryProblem(element.line, element.name, error.message);
    throw error;
  }
};

const signOf = (element: XmlElement, owner: XmlElement): 1n | -1n => {
  const indicator = textAt(element, 'CdtDbtInd');
  if (indicator === 'CRDT') return 1n;
  if (indicator === 'DBIT') return -1n;
  throw new EntryProblem(owner.line, 'CdtDbtInd', `CdtDbtInd must be CRDT or DBIT, got ${JSON.stringify(indicator ?? '')}`);
};

/** `Dt` or `DtTm` inside `element`. */
const dateOf = (element: XmlElement | undefined): string | undefined => {
  const value = textAt(element, 'Dt') ?? textAt(element, 'DtTm');
  if (value === undefined || element === undefined) return undefined;
  if (!statementDateSchema.safeParse(value).success) {
    throw new EntryProblem(element.line, element.name, `${JSON.stringify(value)} is not an ISO 8601 date or date-time`);
  }
  return value;
};

const checkedDate = (value: string | undefined, element: XmlElement | undefined): string | undefined => {
  if (value === undefined || element === undefined) return undefined;
  if (!statementDateSchema.safeParse(value).success) {
    throw new EntryProblem(element.line, element.name, `${JSON.stringify(value)} is not an ISO 8601 date or date-time`);
  }
  return value;
};

const bankTransactionCode = (entry: XmlElement): string => {
  const code = childAt(entry, 'BkTxCd');
  const domain = childAt(code, 'Domn');
  if (domain !== undefined) {
    return [textAt(domain, 'Cd'), textAt(domain, 'Fmly', 'Cd'), textAt(domain, 'Fmly', 'SubFmlyCd')].filter(Boolean).join('/');
  }
  return textAt(code, 'Prtry', 'Cd') ?? '';
};

const counterpartyName = (details: XmlElement, credit: boolean): string | undefined => {
  const party = childAt(details, 'RltdPties', credit ? 'Dbtr' : 'Cdtr');
  return textAt(party, 'Pty', 'Nm') ?? textAt(party, 'Nm');
};

/** The row of an entry, and how it was booked: what the statement's control totals count. */
const toRow = (entry: XmlElement): { row: StatementRow; booking: EntryBooking } => {
  const amountElement = childAt(entry, 'Amt');
  const money = amountOf(amountElement, entry);
  const sign = signOf(entry, entry);
  const reversal = textAt(entry, 'RvslInd');
  if (reversal !== undefined && reversal !== 'true' && reversal !== 'false') {
    throw new EntryProblem(entry.line, 'RvslInd', `RvslInd must be true or false, got ${JSON.stringify(reversal)}`);
  }
  const references: StatementReference[] = [];
  const addReference = (kind: string, value: string | undefined) => {
    if (value === undefined || value === NOT_PROVIDED) return;
    if (!references.some((reference) => reference.kind === kind && reference.value === value)) references.push({ kind, value });
  };
  addReference('account_servicer_reference', textAt(entry, 'AcctSvcrRef'));
  addReference('entry_reference', textAt(entry, 'NtryRef'));

  const details = childrenNamed(entry, 'NtryDtls').flatMap((group) => childrenNamed(group, 'TxDtls'));
  const detailRows = details.map((transaction) => {
    const refs: StatementReference[] = [];
    for (const ref of childAt(transaction, 'Refs')?.children ?? []) {
      const kind = REFERENCE_KINDS[ref.name];
      const value = ref.text.trim();
      if (kind !== undefined && value !== '' && value !== NOT_PROVIDED) refs.push({ kind, value });
    }
    const remittance = childrenNamed(childAt(transaction, 'RmtInf'), 'Ustrd')
      .map((line) => line.text.trim())
      .join(' ');
    for (const structured of childrenNamed(childAt(transaction, 'RmtInf'), 'Strd')) {
      const creditorReference = textAt(structured, 'CdtrRefInf', 'Ref');
      if (creditorReference !== undefined) refs.push({ kind: 'creditor_reference', value: creditorReference });
    }
    for (const { kind, value } of refs) addReference(kind, value);
    const amountElement = childAt(transaction, 'AmtDtls', 'TxAmt', 'Amt') ?? childAt(transaction, 'Amt');
    const amount = amountElement === undefined ? undefined : amountOf(amountElement, transaction);
    const transactionSign = textAt(transaction, 'CdtDbtInd') === undefined ? sign : signOf(transaction, transaction);
    const counterparty = counterpartyName(transaction, sign > 0n);
    return {
      references: refs,
      ...(amount === undefined ? {} : { amount: { ...amount, amount: amount.amount * transactionSign } }),
      ...optional('remittance', remittance === '' ? undefined : remittance),
      ...optional('counterparty', counterparty),
    };
  });

  const charges = childAt(entry, 'Chrgs');
  let fee: StatementMoney | undefined;
  if (charges !== undefined) {
    const total = childAt(charges, 'TtlChrgsAndTaxAmt');
    if (total !== undefined) {
      fee = amountOf(total, charges);
    } else {
      // From .04 on, one Chrgs holds a Rcrd per charge; .02 repeats Chrgs, each with its own Amt.
      const records = childAt(charges, 'Rcrd') !== undefined ? childrenNamed(charges, 'Rcrd') : childrenNamed(entry, 'Chrgs');
      for (const record of records) {
        const part = amountOf(childAt(record, 'Amt'), record);
        if (fee !== undefined && part.currency !== fee.currency) {
          throw new EntryProblem(childAt(record, 'Amt')!.line, 'Amt', `the entry's charges are in ${fee.currency} and in ${part.currency}: they cannot be added into one fee`);
        }
        const cost = textAt(record, 'CdtDbtInd') === 'CRDT' ? -part.amount : part.amount;
        fee = { amount: (fee?.amount ?? 0n) + cost, currency: part.currency };
      }
    }
  }
  const status = textAt(entry, 'Sts', 'Cd') ?? textAt(entry, 'Sts');
  return {
    row: {
      line: entry.line,
      category: bankTransactionCode(entry),
      ...optional('description', textAt(entry, 'AddtlNtryInf')),
      ...optional('fee', fee),
      net: { ...money, amount: money.amount * sign },
      references,
      ...optional('bookingDate', dateOf(childAt(entry, 'BookgDt'))),
      ...optional('valueDate', dateOf(childAt(entry, 'ValDt'))),
      ...optional('status', status),
      ...(reversal === undefined ? {} : { reversal: reversal === 'true' }),
      ...(detailRows.length === 0 ? {} : { details: detailRows }),
    },
    // A reversal (RvslInd) is counted the way CdtDbtInd books it, as its row is signed.
    booking: { direction: sign > 0n ? 'credit' : 'debit', ...money, line: amountElement!.line, column: 'Amt' },
  };
};

/** What describes an entry besides its amounts and status: what orders it among entries without a reference. */
const traitsOf = (entry: XmlElement, row: StatementRow): string[] => [
  row.bookingDate ?? '',
  row.valueDate ?? '',
  textAt(entry, 'CdtDbtInd') ?? '',
  String(row.reversal ?? ''),
  row.net?.currency ?? '',
  row.category,
  row.description ?? '',
  canonicalJson(row.references),
  canonicalJson((row.details ?? []).map(({ counterparty, remittance }) => [counterparty ?? '', remittance ?? ''])),
];

const sequence = (element: XmlElement, name: string): bigint | undefined => {
  const value = textAt(element, name);
  if (value === undefined) return undefined;
  if (!/^\d{1,18}$/.test(value)) throw new EntryProblem(childAt(element, name)!.line, name, `${name} must be a number, got ${JSON.stringify(value)}`);
  return BigInt(value);
};

const accountOf = (statement: XmlElement): string | undefined =>
  textAt(statement, 'Acct', 'Id', 'IBAN') ?? textAt(statement, 'Acct', 'Id', 'Othr', 'Id');

/** A control sum: a decimal without currency, in the statement's. */
const declaredAmount = (element: XmlElement, currency: CurrencyCode): bigint => {
  try {
    return parseDecimalAmount(element.text.trim(), currency, { decimalSeparator: '.' });
  } catch (error) {
    if (error instanceof ValidationError) throw new EntryProblem(element.line, element.name, error.message);
    throw error;
  }
};

/**
 * The figures of one part of `TxsSummry`: `TtlNtries` (all entries: their count, the sum of their
 * unsigned amounts and their net), `TtlCdtNtries` or `TtlDbtNtries` (a count and a sum).
 */
const summaryFigures = (summary: XmlElement, part: string, direction: EntryDirection | undefined, currency: CurrencyCode): DeclaredFigure[] => {
  const element = childAt(summary, part);
  if (element === undefined) return [];
  const where = (child: XmlElement) => ({ line: child.line, column: child.name, declaredBy: part, ...optional('direction', direction) });
  const figures: DeclaredFigure[] = [];
  const count = childAt(element, 'NbOfNtries');
  const countText = textAt(element, 'NbOfNtries');
  if (count !== undefined && countText !== undefined) {
    if (!(/^\d+$/.test(countText) && Number.isSafeInteger(Number(countText)))) {
      throw new EntryProblem(count.line, 'NbOfNtries', `NbOfNtries must be a number of entries, got ${JSON.stringify(countText)}`);
    }
    figures.push({ kind: 'count', value: BigInt(countText), ...where(count) });
  }
  const sum = childAt(element, 'Sum');
  if (sum !== undefined) figures.push({ kind: 'sum', value: declaredAmount(sum, currency), ...where(sum) });
  // camt.053.001.02 writes the net as TtlNetNtryAmt beside a CdtDbtInd; later versions wrap both in TtlNetNtry.
  const net = childAt(element, 'TtlNetNtry');
  if (net !== undefined) {
    const amount = childAt(net, 'Amt');
    if (amount === undefined) throw new EntryProblem(net.line, 'Amt', 'TtlNetNtry has no Amt');
    figures.push({ kind: 'net', value: declaredAmount(amount, currency) * signOf(net, net), ...where(net) });
  }
  const legacyNet = childAt(element, 'TtlNetNtryAmt');
  if (legacyNet !== undefined) figures.push({ kind: 'net', value: declaredAmount(legacyNet, currency) * signOf(element, element), ...where(legacyNet) });
  return figures;
};

const SUMMARY_PARTS: readonly (readonly [string, EntryDirection | undefined])[] = [
  ['TtlNtries', undefined],
  ['TtlCdtNtries', 'credit'],
  ['TtlDbtNtries', 'debit'],
];

/**
 * What `TxsSummry` declares: the figures to hold against the entries, and the totals recorded
 * with the statement. Its sums carry no currency of their own; a statement that names none
 * (no `Acct/Ccy`, no balance) gives them its entries'.
 */
const transactionsSummary = (
  summary: XmlElement,
  currency: CurrencyCode | undefined,
): { declared: DeclaredEntryTotals; declaredTotals: NonNullable<ParsedStatementInfo['declaredTotals']> } | undefined => {
  const parts = SUMMARY_PARTS.filter(([part]) => childAt(summary, part) !== undefined);
  if (parts.length === 0) return undefined;
  if (currency === undefined) {
    throw new EntryProblem(summary.line, 'TxsSummry', 'the statement declares control totals but names no currency (Acct/Ccy or a balance) and has no entry to take one from');
  }
  const figures = parts.flatMap(([part, direction]) => summaryFigures(summary, part, direction, currency));
  if (figures.length === 0) return undefined;
  const figure = (kind: DeclaredFigure['kind'], direction?: EntryDirection) =>
    figures.find((candidate) => candidate.kind === kind && candidate.direction === direction)?.value;
  return {
    declared: { currency, decimalSeparator: '.', figures },
    declaredTotals: {
      currency,
      count: Number(figure('count') ?? (figure('count', 'credit') ?? 0n) + (figure('count', 'debit') ?? 0n)),
      credits: figure('sum', 'credit') ?? 0n,
      debits: figure('sum', 'debit') ?? 0n,
    },
  };
};

const toStatement = (
  statement: XmlElement,
  statementId: string,
  groupHeader: XmlElement | undefined,
  entryCurrency: CurrencyCode | undefined,
): { info: ParsedStatementInfo; declared?: DeclaredEntryTotals } => {
  const account = accountOf(statement);
  if (account === undefined) throw new EntryProblem(statement.line, 'Acct', 'the statement has no account (Acct/Id/IBAN or Acct/Id/Othr/Id)');
  const accountCurrency = textAt(statement, 'Acct', 'Ccy');
  const balances = childrenNamed(statement, 'Bal').map((balance) => {
    const type = textAt(balance, 'Tp', 'CdOrPrtry', 'Cd') ?? textAt(balance, 'Tp', 'CdOrPrtry', 'Prtry');
    if (type === undefined) throw new EntryProblem(balance.line, 'Tp', 'the balance has no type code');
    const money = amountOf(childAt(balance, 'Amt'), balance);
    return { type, ...money, amount: money.amount * signOf(balance, balance), ...optional('date', dateOf(childAt(balance, 'Dt'))) };
  });
  const currency = accountCurrency === undefined ? balances[0]?.currency : currencyOf(accountCurrency, childAt(statement, 'Acct', 'Ccy')!);
  const summary = childAt(statement, 'TxsSummry');
  const declared = summary === undefined ? undefined : transactionsSummary(summary, currency ?? entryCurrency);
  const pagination = childAt(statement, 'StmtPgntn') ?? childAt(groupHeader, 'MsgPgntn');
  const lastPage = textAt(pagination, 'LastPgInd');
  const info: ParsedStatementInfo = {
    statementId,
    ...optional('account', account),
    ...optional('currency', currency),
    ...optional('sequenceNumber', sequence(statement, 'ElctrncSeqNb')),
    ...optional('legalSequenceNumber', sequence(statement, 'LglSeqNb')),
    ...optional('pageNumber', pagination === undefined ? undefined : sequence(pagination, 'PgNb')),
    ...(lastPage === undefined ? {} : { lastPage: lastPage === 'true' }),
    ...optional('createdAt', checkedDate(textAt(statement, 'CreDtTm') ?? textAt(groupHeader, 'CreDtTm'), statement)),
    ...optional('periodStart', checkedDate(textAt(statement, 'FrToDt', 'FrDtTm'), childAt(statement, 'FrToDt'))),
    ...optional('periodEnd', checkedDate(textAt(statement, 'FrToDt', 'ToDtTm'), childAt(statement, 'FrToDt'))),
    balances,
    ...optional('declaredTotals', declared?.declaredTotals),
  };
  return { info, ...optional('declared', declared?.declared) };
};

const STATEMENT_PATH = ['Document', 'BkToCstmrStmt', 'Stmt'];
const samePath = (path: readonly string[], expected: readonly string[]) =>
  path.length === expected.length && path.every((name, index) => name === expected[index]);

export const camt053Importer: StatementImporter = {
  format: 'camt053',
  async *parse(text): AsyncGenerator<ParsedItem> {
    const issues = new StatementIssues('camt053');
    const queue: ParsedItem[] = [];
    let groupHeader: XmlElement | undefined;
    let statement: XmlElement | undefined;
    /** The open statement's id within the file, once its Id has been read. */
    let statementId: string | undefined;
    const statementIds = new Set<string>();
    /** The open statement's rows, held until it ends: an entry without a reference is numbered among its peers. */
    let entries: (ParsedRow | PeerRow)[] = [];
    /** The open statement's entries so far: how the previous version numbered an entry without a reference. */
    let ordinal = 0;
    let statements = 0;
    let tally = new EntryTally();
    let entriesRead = true;
    /**
     * The open statement's `Id`, made unique within the file: banks name the day's statement of each
     * account alike, and rows and totals go to the statement their id names.
     */
    const statementIdOf = (owner: XmlElement): string => {
      if (statementId === undefined) {
        const id = required(owner, 'Id', owner);
        let unique = id;
        for (let n = 2; statementIds.has(unique); n += 1) unique = `${id}#${n}`;
        statementIds.add(unique);
        statementId = unique;
      }
      return statementId;
    };
    /** Whether `work` went through; its problem is an issue of the file otherwise. */
    const guard = (work: () => void): boolean => {
      try {
        work();
        return true;
      } catch (error) {
        if (!(error instanceof EntryProblem)) throw error;
        issues.add({ line: error.line, column: error.column, reason: error.message });
        return false;
      }
    };
    yield* xmlElements(
      text,
      'camt053',
      {
        root: ({ name, uri, line }) => {
          if (name !== 'Document' || !NAMESPACE.test(uri)) {
            issues.fail({
              line,
              column: name,
              reason: `expected a camt.053 Document (namespace urn:iso:std:iso:20022:tech:xsd:camt.053.001.xx), got ${name} in ${JSON.stringify(uri)}`,
            });
          }
        },
        captures: (path) =>
          samePath(path, ['Document', 'BkToCstmrStmt', 'GrpHdr']) || samePath(path, STATEMENT_PATH) || samePath(path, [...STATEMENT_PATH, 'Ntry']),
        detaches: (path) => samePath(path, [...STATEMENT_PATH, 'Ntry']),
        started: (path, element) => {
          if (samePath(path, STATEMENT_PATH)) {
            statement = element;
            statementId = undefined;
            entries = [];
            ordinal = 0;
            tally = new EntryTally();
            entriesRead = true;
          }
        },
        element: (path, element) => {
          if (element.name === 'GrpHdr') {
            groupHeader = element;
          } else if (element.name === 'Ntry' && statement !== undefined) {
            ordinal += 1;
            const owner = statement;
            const entryOrdinal = ordinal;
            const read = guard(() => {
              const account = accountOf(owner) ?? '';
              const id = required(owner, 'Id', owner);
              // Several entries of one statement may each say NOTPROVIDED: that is no identity to key them on.
              const reference = referenceAt(element, 'AcctSvcrRef');
              const entryReference = referenceAt(element, 'NtryRef');
              // The pages of a statement are separate messages with the same Id, each counting its entries
              // from 1. The first page keeps the key entries had before pages were told apart, so a
              // statement imported then and sent again restates its rows instead of doubling them.
              const pageNumber = textAt(childAt(owner, 'StmtPgntn') ?? childAt(groupHeader, 'MsgPgntn'), 'PgNb');
              const page = pageNumber === undefined || /^0*1$/.test(pageNumber) ? undefined : pageNumber;
              const { row, booking } = toRow(element);
              const parsed = { statementId: statementIdOf(owner), row };
              if (reference !== undefined) entries.push({ rowKey: `${account}/${reference}`, ...parsed });
              else if (entryReference !== undefined) entries.push({ rowKey: `${account}/ntry:${entryReference}`, ...parsed });
              else {
                const tuple = `${account}/${id}${page === undefined ? '' : `/${page}`}`;
                const positional = { statement: tuple, rowKey: `${tuple}#${entryOrdinal}` };
                entries.push({ tuple, traits: traitsOf(element, row), parsed: { ...parsed, positional } });
              }
              tally.add(booking);
            });
            entriesRead &&= read;
          } else if (samePath(path, STATEMENT_PATH)) {
            statements += 1;
            for (const row of keyRows(entries, '~')) queue.push({ kind: 'row', row });
            guard(() => {
              const { info, declared } = toStatement(element, statementIdOf(element), groupHeader, tally.firstCurrency);
              // An entry that could not be read is an issue already; the totals would only disagree for want of it.
              const disagreements = declared === undefined || !entriesRead ? [] : tally.disagreements(declared);
              for (const issue of disagreements) issues.add(issue);
              if (disagreements.length === 0) queue.push({ kind: 'statement', statement: info });
            });
            statement = undefined;
          }
        },
      },
      () => queue.splice(0),
    );
    if (statements === 0) issues.fail({ line: 1, reason: 'the document has no statement (Stmt)' });
    issues.throwIfAny();
  },
};

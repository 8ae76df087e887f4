/** How statement rows and imports change the reconciliation: the provider's side. */
import { sortableBigint, statementCatalog, type RecordedEvent, type StatementRow } from '@folio/shared';
import { bankStatementSeen, reconcileBankSide } from './bankCreditMatching.js';
import { decodeTypeAndData } from './eventDecoding.js';
import { classifyStatement, sequenceGaps } from './classification.js';
import { waitForCapture } from './lateRowMatching.js';
import type { Evidence } from './discrepancies.js';
import type { PaymentSubject, RowSubject, Subject } from './reconciliationDocuments.js';
import type { RowFacts } from './reconciliationFacts.js';
import { matchKeysOf } from './rowMatching.js';
import { inTimeZone } from './zonedDates.js';
import { type Context, getSubject, money, putSubject, syncFindings } from './reconciliationContext.js';
import { matchRowByRules } from './ambiguousRows.js';
import { matchedDifferently, releaseRow, reofferPayment } from './rowRestatement.js';
import { statementSubjectIdOf } from './statementVersions.js';
import {
  type OrphanList,
  evaluatePayment,
  evaluatePayout,
  evaluateRow,
  matchRowToPayment,
  orphanListId,
  paymentSubjectId,
  providerRefId,
  rowSubjectId,
} from './subjectEvaluation.js';

export const rowFactsOf = (
  row: StatementRow,
  { provider, account, rowKey }: { provider: string; account?: string | undefined; rowKey: string },
  stream: string,
  evidence: Evidence,
): RowFacts => {
  const date = row.transactionDate ?? row.bookingDate ?? row.valueDate;
  const facts: RowFacts = { stream, provider, rowKey, category: row.category, references: row.references, evidence, duplicates: [] };
  if (account !== undefined) facts.account = account;
  const gross = money(row.gross);
  const fee = money(row.fee);
  const net = money(row.net);
  if (gross !== undefined) facts.gross = gross;
  if (fee !== undefined) facts.fee = fee;
  if (net !== undefined) facts.net = net;
  if (date !== undefined) facts.date = inTimeZone(date, row.timeZone);
  if (row.payoutId !== undefined) facts.payoutId = row.payoutId;
  return facts;
};

export const rowEvidence = (recorded: RecordedEvent, data: { fileHash: string; versionHash: string; row: StatementRow }): Evidence => ({
  kind: 'statement-row',
  stream: recorded.streamName,
  position: recorded.position.toString(),
  fileHash: data.fileHash,
  line: data.row.line,
  versionHash: data.versionHash,
});

/**
 * A reference outranks the rules: the charge rows the rules gave a payment that a charge row names
 * are given back, to be matched afresh once the row naming it has it.
 */
const releaseGuessedRows = async (context: Context, row: RowSubject, payment: PaymentSubject): Promise<RowSubject[]> => {
  const { chargeCategories } = context.rules;
  if (!chargeCategories.includes(row.facts.category)) return [];
  const released: RowSubject[] = [];
  for (const id of payment.rows) {
    const guessed = await getSubject<RowSubject>(context, id);
    if (guessed === undefined || guessed.facts.match?.by !== 'rule' || !chargeCategories.includes(guessed.facts.category)) continue;
    await releaseRow(context, guessed, guessed.facts);
    released.push(guessed);
  }
  return released;
};

/** Finds the payment a new row is for, among those made through its provider: its references first, then the rules. */
export const matchNewRow = async (context: Context, row: RowSubject): Promise<PaymentSubject | undefined> => {
  const lookups = context.collections.lookups!;
  const { provider } = row.facts;
  const keys = matchKeysOf(row.facts, context.rules);
  for (const key of keys) {
    const paymentId =
      key.by === 'payment_id'
        ? key.value
        : (await context.docs.get<{ _id: string; paymentId: string }>(lookups, providerRefId(provider, key.value)))?.paymentId;
    if (paymentId === undefined) continue;
    const payment = await getSubject<PaymentSubject>(context, paymentSubjectId(paymentId));
    // A payment id is ours, not the provider's: one made through another provider is not this row's.
    if (payment === undefined || payment.facts.provider !== provider) continue;
    const guessed = await releaseGuessedRows(context, row, payment);
    await matchRowToPayment(context, row, payment, key.by);
    for (const released of guessed) {
      const taken = await matchNewRow(context, released);
      await evaluateRow(context, released);
      if (taken !== undefined) await evaluatePayment(context, taken);
    }
    return payment;
  }
  const gross = row.facts.gross;
  // A row that names a payment of ours is that payment's, or nobody's: the rules never guess another.
  const namesPayment = keys.some(({ by }) => by === 'payment_id');
  if (gross !== undefined && !namesPayment && context.rules.chargeCategories.includes(row.facts.category)) {
    // Stored first: a capture it joins the waiting rows of reads it.
    putSubject(context, row);
    const payment = await matchRowByRules(context, row, gross);
    if (payment !== undefined) return payment;
  }
  if (row.facts.ambiguousCandidates === undefined) await waitForCapture(context, row);
  for (const key of keys) {
    const id = orphanListId(provider, key.value);
    const orphans = (await context.docs.get<OrphanList>(lookups, id)) ?? { _id: id, rows: [] };
    if (!orphans.rows.includes(row._id)) context.docs.put(lookups, { ...orphans, rows: [...orphans.rows, row._id] });
  }
  return undefined;
};

export const applyRowEvent = async (context: Context, recorded: RecordedEvent): Promise<void> => {
  if (recorded.type === 'StatementImported') return;
  const event = decodeTypeAndData(statementCatalog, recorded);
  if (event.type === 'StatementImported') return;
  const id = rowSubjectId(recorded.streamName);
  const sortable = sortableBigint(recorded.position);
  let row = await getSubject<RowSubject>(context, id);
  if (row !== undefined && row.sortableLastPosition >= sortable) return;
  const data = event.data;
  const evidence = rowEvidence(recorded, data);
  let payment: PaymentSubject | undefined;
  // A restatement's replaced version, and the payment it held when the new version is matched afresh.
  let previous: RowFacts | undefined;
  let released: PaymentSubject | undefined;
  if (event.type === 'StatementRowRecorded' || row === undefined) {
    row = {
      _id: id,
      kind: 'row',
      sortableLastPosition: sortable,
      findings: {},
      facts: rowFactsOf(data.row, data, recorded.streamName, evidence),
    };
    payment = await matchNewRow(context, row);
  } else if (event.type === 'StatementRowRestated') {
    previous = row.facts;
    const current = rowFactsOf(data.row, data, recorded.streamName, evidence);
    const previousGross = money(event.data.previous.gross);
    const previousFee = money(event.data.previous.fee);
    row = {
      ...row,
      sortableLastPosition: sortable,
      facts: {
        // A corrected delivery: the repeats of earlier files no longer repeat the row, and the
        // repeats of this version's file follow it on the row's stream.
        ...current,
        ...(row.facts.match === undefined ? {} : { match: row.facts.match }),
        ...(row.facts.ambiguousCandidates === undefined ? {} : { ambiguousCandidates: row.facts.ambiguousCandidates }),
        restated: {
          changedFields: event.data.changedFields,
          previous: row.facts.evidence,
          ...(previousGross === undefined ? {} : { previousGross }),
          ...(previousFee === undefined ? {} : { previousFee }),
        },
      },
    };
    if (matchedDifferently(previous, row.facts)) {
      released = await releaseRow(context, row, previous);
      payment = await matchNewRow(context, row);
    } else if (row.facts.match !== undefined) payment = await getSubject<PaymentSubject>(context, paymentSubjectId(row.facts.match.paymentId));
  } else if (event.type === 'StatementRowRedelivered') {
    // The same version from a file that repeats it otherwise: its repeats, which follow, replace the earlier file's.
    row = { ...row, sortableLastPosition: sortable, facts: { ...row.facts, evidence, duplicates: [] } };
  } else {
    row = { ...row, sortableLastPosition: sortable, facts: { ...row.facts, duplicates: [...row.facts.duplicates, evidence] } };
  }
  // The row is stored before its payment is judged: the payment reads it.
  putSubject(context, row);
  await evaluateRow(context, row);
  if (released !== undefined) await reofferPayment(context, released);
  if (payment !== undefined && payment._id !== released?._id) await evaluatePayment(context, payment);
  if (event.type === 'StatementRowRecorded' || event.type === 'StatementRowRestated') {
    await evaluatePayout(context, row, previous);
    await reconcileBankSide(context, row, data.row, data.format, previous);
  }
};

export const applyStatementImported = async (context: Context, recorded: RecordedEvent): Promise<void> => {
  if (recorded.type !== 'StatementImported') return;
  const event = decodeTypeAndData(statementCatalog, recorded);
  if (event.type !== 'StatementImported') return;
  const { provider, fileHash } = event.data;
  for (const statement of event.data.statements) {
    const evidence: Evidence = {
      kind: 'statement',
      stream: recorded.streamName,
      position: recorded.position.toString(),
      fileHash,
      statementId: statement.statementId,
    };
    await bankStatementSeen(context, provider, event.data.format, statement);
    const id = await statementSubjectIdOf(context, provider, fileHash, statement);
    const sortable = sortableBigint(recorded.position);
    const existing = await getSubject<Subject>(context, id);
    if (existing !== undefined && existing.sortableLastPosition >= sortable) continue;
    const subject: Subject = { _id: id, kind: 'statement', sortableLastPosition: sortable, findings: existing?.findings ?? {} };
    const currency = statement.currency ?? statement.balances[0]?.currency ?? null;
    await syncFindings(context, subject, classifyStatement(statement, evidence), provider, currency);
    putSubject(context, subject);

    if (statement.account === undefined || statement.sequenceNumber === undefined) continue;
    const sequenceId = `sequence:${provider}:${statement.account}`;
    const sequence = (await getSubject<Subject & { numbers?: string[]; evidence?: Evidence[] }>(context, sequenceId)) ?? {
      _id: sequenceId,
      kind: 'statement' as const,
      sortableLastPosition: sortable,
      findings: {},
      numbers: [],
      evidence: [],
    };
    const number = statement.sequenceNumber.toString();
    if (sequence.numbers!.includes(number)) continue;
    const numbers = [...sequence.numbers!, number];
    const seen = [...(sequence.evidence ?? []), evidence];
    const gaps = sequenceGaps(numbers.map(BigInt)).map((missing) => ({
      code: 'STATEMENT_GAP' as const,
      key: missing.toString(),
      explanation: `Statement ${missing} of account ${statement.account} was never imported (numbers ${numbers.length} seen).`,
      detail: { account: statement.account!, missingSequenceNumber: missing.toString() },
      evidence: seen,
    }));
    const next = { ...sequence, sortableLastPosition: sortable, numbers, evidence: seen };
    await syncFindings(context, next, gaps, provider, currency);
    putSubject(context, next);
  }
};

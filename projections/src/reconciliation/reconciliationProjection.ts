import { createHash } from 'node:crypto';
import {
  paymentCatalog,
  reconciliationCatalog,
  sortableBigint,
  statementCatalog,
  type DocumentSession,
  type PaymentCatalogEvent,
  type RecordedEvent,
  type ReconciliationEvent,
  type StatementEvent,
  type StatementRow,
} from '@folio/shared';
import type { ProjectionDefinition } from '../runtime/projection.js';
import { BatchDocuments } from './batchDocuments.js';
import { classifyPayment, classifyPayout, classifyRow, classifyStatement, sequenceGaps } from './classification.js';
import { suggestedActions, type Evidence, type Finding } from './discrepancies.js';
import type {
  ClockDocument,
  Contribution,
  DiscrepancyDocument,
  DueBucket,
  DueChunk,
  PaymentSubject,
  RowSubject,
  Subject,
  SummaryDocument,
} from './reconciliationDocuments.js';
import type { MoneyFact, PayoutFacts, RowFacts } from './reconciliationFacts.js';
import { defaultReconciliationRules, reconciliationRulesSchema, type ReconciliationRules } from './reconciliationRules.js';
import { matchByRules, matchKeysOf, type RuleCandidate } from './rowMatching.js';

export const RECONCILIATION_PROJECTION = 'reconciliation';

const DUE_CHUNK_SIZE = 500;

/** The id of a discrepancy: stable across rebuilds, as it is derived from what it is about. */
export const discrepancyIdOf = (subject: string, code: string, key = ''): string =>
  createHash('sha256').update(`${subject}|${code}|${key}`).digest('hex').slice(0, 32);

const money = (value: { amount: bigint; currency: string } | undefined): MoneyFact | undefined =>
  value === undefined ? undefined : { amount: value.amount.toString(), currency: value.currency };

const minuteOf = (iso: string): string => iso.slice(0, 16);
const minuteEnd = (minute: string): string => new Date(Date.parse(`${minute}:00.000Z`) + 60_000).toISOString();

interface Context {
  docs: BatchDocuments;
  collections: Readonly<Record<string, string>>;
  rules: ReconciliationRules;
  clock: ClockDocument;
  /** Position and time of the event being applied. */
  position: string;
}

const emptySummary = (provider: string, currency: string): SummaryDocument => ({
  _id: `${provider}:${currency}`,
  provider,
  currency,
  payments: 0,
  matched: 0,
  awaitingSettlement: 0,
  statementRows: 0,
  ledgerTotal: '0',
  providerTotal: '0',
  delta: '0',
  open: {},
});

const summaryOf = async (context: Context, provider: string, currency: string): Promise<SummaryDocument> =>
  (await context.docs.get<SummaryDocument>(context.collections.summary!, `${provider}:${currency}`)) ?? emptySummary(provider, currency);

const putSummary = (context: Context, summary: SummaryDocument): void => {
  summary.delta = (BigInt(summary.ledgerTotal) - BigInt(summary.providerTotal)).toString();
  context.docs.put(context.collections.summary!, summary);
};

const addContribution = async (context: Context, contribution: Contribution | undefined, sign: 1 | -1): Promise<void> => {
  if (contribution === undefined) return;
  const summary = await summaryOf(context, contribution.provider, contribution.currency);
  const next: SummaryDocument = {
    ...summary,
    payments: summary.payments + sign * contribution.payments,
    matched: summary.matched + sign * contribution.matched,
    awaitingSettlement: summary.awaitingSettlement + sign * contribution.awaitingSettlement,
    statementRows: summary.statementRows + sign * contribution.rows,
    ledgerTotal: (BigInt(summary.ledgerTotal) + BigInt(sign) * BigInt(contribution.ledger)).toString(),
    providerTotal: (BigInt(summary.providerTotal) + BigInt(sign) * BigInt(contribution.statement)).toString(),
  };
  putSummary(context, next);
};

const sameContribution = (a: Contribution | undefined, b: Contribution | undefined): boolean =>
  JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

const countOpen = async (context: Context, discrepancy: DiscrepancyDocument, sign: 1 | -1): Promise<void> => {
  const summary = await summaryOf(context, discrepancy.provider, discrepancy.currency ?? '');
  const count = (summary.open[discrepancy.code] ?? 0) + sign;
  const open = { ...summary.open };
  if (count === 0) delete open[discrepancy.code];
  else open[discrepancy.code] = count;
  putSummary(context, { ...summary, open });
};

/**
 * Brings the discrepancies of a subject in line with its latest findings: new ones open, ones
 * no longer found are cleared (unless resolved), found-again ones reopen.
 */
const syncFindings = async (
  context: Context,
  subject: Subject,
  findings: readonly (Finding & { key?: string })[],
  provider: string,
  currency: string | null,
): Promise<void> => {
  const collection = context.collections.discrepancies!;
  const now: Record<string, DiscrepancyDocument['code']> = {};
  for (const finding of findings) {
    const id = discrepancyIdOf(subject._id, finding.code, finding.key);
    now[id] = finding.code;
    const existing = await context.docs.get<DiscrepancyDocument>(collection, id);
    const content = {
      provider,
      currency,
      explanation: finding.explanation,
      detail: finding.detail,
      evidence: finding.evidence,
      rulesVersion: context.rules.version,
    };
    if (existing === undefined) {
      const created: DiscrepancyDocument = {
        _id: id,
        code: finding.code,
        status: 'open',
        stage: 'new',
        assignee: null,
        subject: subject._id,
        ...content,
        suggestedAction: suggestedActions[finding.code],
        foundAt: context.clock.now,
        foundPosition: context.position,
        sortablePosition: sortableBigint(BigInt(context.position)),
        updatedAt: context.clock.now,
        history: [],
      };
      context.docs.put(collection, created);
      await countOpen(context, created, 1);
      continue;
    }
    const reopened = existing.status === 'cleared';
    const stored = {
      provider: existing.provider,
      currency: existing.currency,
      explanation: existing.explanation,
      detail: existing.detail,
      evidence: existing.evidence,
      rulesVersion: existing.rulesVersion,
    };
    if (!reopened && JSON.stringify(content) === JSON.stringify(stored)) continue;
    const next: DiscrepancyDocument = { ...existing, ...content, status: reopened ? 'open' : existing.status, updatedAt: context.clock.now };
    context.docs.put(collection, next);
    if (reopened) await countOpen(context, next, 1);
    else if (existing.status === 'open' && (existing.provider !== next.provider || existing.currency !== next.currency)) {
      await countOpen(context, existing, -1);
      await countOpen(context, next, 1);
    }
  }
  for (const [id] of Object.entries(subject.findings)) {
    if (id in now) continue;
    const existing = await context.docs.get<DiscrepancyDocument>(collection, id);
    if (existing === undefined || existing.status !== 'open') continue;
    context.docs.put(collection, { ...existing, status: 'cleared', updatedAt: context.clock.now });
    await countOpen(context, existing, -1);
  }
  subject.findings = now;
};

const putSubject = (context: Context, subject: Subject): void => context.docs.put(context.collections.subjects!, subject);
const getSubject = <S extends Subject>(context: Context, id: string): Promise<S | undefined> =>
  context.docs.get<S>(context.collections.subjects!, id);

const schedule = async (context: Context, subjectId: string, at: string): Promise<void> => {
  const lookups = context.collections.lookups!;
  const minute = minuteOf(at);
  const bucket = (await context.docs.get<DueBucket>(lookups, `due:${minute}`)) ?? { _id: `due:${minute}`, chunks: 0 };
  let chunk = bucket.chunks === 0 ? undefined : await context.docs.get<DueChunk>(lookups, `due:${minute}:${bucket.chunks - 1}`);
  if (chunk === undefined || chunk.subjects.length >= DUE_CHUNK_SIZE) {
    chunk = { _id: `due:${minute}:${bucket.chunks}`, subjects: [] };
    context.docs.put(lookups, { ...bucket, chunks: bucket.chunks + 1 });
  }
  // The chunk belongs to this batch's cache: grown in place, written once at the end.
  chunk.subjects.push(subjectId);
  context.docs.put(lookups, chunk);
  if (context.clock.dueMinutes[context.clock.dueMinutes.length - 1] !== minute && !context.clock.dueMinutes.includes(minute)) {
    context.clock.dueMinutes = [...context.clock.dueMinutes, minute].sort();
  }
};

/** Re-judges a payment against its rows, and the summary with it. */
const evaluatePayment = async (context: Context, payment: PaymentSubject): Promise<void> => {
  const rows: RowFacts[] = [];
  for (const id of payment.rows) {
    const row = await getSubject<RowSubject>(context, id);
    if (row !== undefined) rows.push(row.facts);
  }
  const { findings, nextDeadline } = classifyPayment(payment.facts, rows, context.rules, context.clock.now);
  const facts = payment.facts;
  await syncFindings(context, payment, findings, facts.provider, facts.currency);
  const captured = facts.captured !== undefined && facts.state !== 'FAILED';
  const hasCharge = rows.some((row) => context.rules.chargeCategories.includes(row.category));
  const contribution: Contribution = {
    key: `${facts.provider}:${facts.currency}`,
    provider: facts.provider,
    currency: facts.currency,
    payments: captured ? 1 : 0,
    matched: captured && hasCharge ? 1 : 0,
    awaitingSettlement: captured && !hasCharge && !findings.some((finding) => finding.code === 'INTERNAL_UNMATCHED') ? 1 : 0,
    ledger: captured ? (BigInt(facts.captured!) - BigInt(facts.refunded)).toString() : '0',
    rows: 0,
    statement: '0',
  };
  if (!sameContribution(payment.contribution, contribution)) {
    await addContribution(context, payment.contribution, -1);
    await addContribution(context, contribution, 1);
    payment.contribution = contribution;
  }
  if (nextDeadline !== undefined) await schedule(context, payment._id, nextDeadline);
  putSubject(context, payment);
};

const evaluateRow = async (context: Context, row: RowSubject): Promise<void> => {
  const facts = row.facts;
  await syncFindings(context, row, classifyRow(facts, context.rules), facts.provider, facts.gross?.currency ?? facts.net?.currency ?? null);
  const amount = facts.gross ?? facts.net;
  const contribution: Contribution | undefined =
    amount === undefined
      ? undefined
      : {
          key: `${facts.provider}:${amount.currency}`,
          provider: facts.provider,
          currency: amount.currency,
          payments: 0,
          matched: 0,
          awaitingSettlement: 0,
          ledger: '0',
          rows: 1,
          // Only money for payments is compared with the ledger's payments.
          statement: [...context.rules.chargeCategories, ...context.rules.refundCategories, ...context.rules.reversalCategories].includes(facts.category)
            ? amount.amount
            : '0',
        };
  if (!sameContribution(row.contribution, contribution)) {
    await addContribution(context, row.contribution, -1);
    await addContribution(context, contribution, 1);
    if (contribution === undefined) delete row.contribution;
    else row.contribution = contribution;
  }
  putSubject(context, row);
};

const paymentSubjectId = (paymentId: string) => `payment:${paymentId}`;
const ruleKey = (currency: string, amount: bigint) => `amount:${currency}:${amount}`;

interface CandidateList {
  _id: string;
  candidates: RuleCandidate[];
}

const withoutCandidate = async (context: Context, payment: PaymentSubject): Promise<void> => {
  if (payment.facts.captured === undefined) return;
  const lookups = context.collections.lookups!;
  const id = ruleKey(payment.facts.currency, BigInt(payment.facts.captured));
  const list = await context.docs.get<CandidateList>(lookups, id);
  if (list === undefined) return;
  const candidates = list.candidates.filter((candidate) => candidate.paymentId !== payment.facts.paymentId);
  if (candidates.length === list.candidates.length) return;
  if (candidates.length === 0) context.docs.delete(lookups, id);
  else context.docs.put(lookups, { ...list, candidates });
};

const matchRowToPayment = async (context: Context, row: RowSubject, payment: PaymentSubject, by: NonNullable<RowFacts['match']>['by']) => {
  row.facts.match = { paymentId: payment.facts.paymentId, by };
  delete row.facts.ambiguousCandidates;
  if (!payment.rows.includes(row._id)) payment.rows = [...payment.rows, row._id];
  if (context.rules.chargeCategories.includes(row.facts.category)) await withoutCandidate(context, payment);
};

interface OrphanList {
  _id: string;
  rows: string[];
}

/** Rows that arrived before the payment they name: claimed when it appears. */
const claimOrphans = async (context: Context, payment: PaymentSubject, value: string, by: 'reference' | 'payment_id') => {
  const lookups = context.collections.lookups!;
  const orphans = await context.docs.get<OrphanList>(lookups, `orphan:${value}`);
  if (orphans === undefined) return;
  context.docs.delete(lookups, orphans._id);
  for (const id of orphans.rows) {
    const row = await getSubject<RowSubject>(context, id);
    if (row === undefined || row.facts.match !== undefined) continue;
    await matchRowToPayment(context, row, payment, by);
    await evaluateRow(context, row);
  }
};

const ledgerEvidence = (recorded: RecordedEvent): Evidence => ({
  kind: 'ledger-event',
  stream: recorded.streamName,
  position: recorded.position.toString(),
  type: recorded.type,
});

const applyPaymentEvent = async (context: Context, recorded: RecordedEvent): Promise<void> => {
  const event = paymentCatalog.decode(recorded) as PaymentCatalogEvent;
  if (!('paymentId' in event.data)) return;
  const id = paymentSubjectId(event.data.paymentId);
  const sortable = sortableBigint(recorded.position);
  let payment = await getSubject<PaymentSubject>(context, id);
  if (payment !== undefined && payment.sortableLastPosition >= sortable) return;
  if (event.type === 'PaymentCreated') {
    const data = event.data;
    payment = {
      _id: id,
      kind: 'payment',
      sortableLastPosition: sortable,
      findings: {},
      rows: [],
      facts: {
        paymentId: data.paymentId,
        provider: data.provider,
        currency: data.currency,
        amount: data.amount.toString(),
        state: 'CREATED',
        refunded: '0',
        evidence: [ledgerEvidence(recorded)],
      },
    };
    await claimOrphans(context, payment, data.paymentId, 'payment_id');
    await evaluatePayment(context, payment);
    return;
  }
  if (payment === undefined) return;
  const facts = { ...payment.facts };
  switch (event.type) {
    case 'PaymentSubmitted':
      facts.state = 'PENDING';
      facts.providerRef = event.data.providerRef;
      facts.submittedAt = event.data.submittedAt;
      context.docs.put(context.collections.lookups!, { _id: `ref:${event.data.providerRef}`, paymentId: facts.paymentId });
      break;
    case 'PaymentCaptured':
      facts.state = 'PAID';
      facts.captured = event.data.amount.toString();
      facts.capturedAt = event.data.capturedAt;
      break;
    case 'PaymentSettled':
      facts.state = 'SETTLED';
      facts.fee = event.data.fee.toString();
      break;
    case 'PaymentFailed':
      facts.state = 'FAILED';
      break;
    case 'PaymentRefunded':
      facts.refunded = event.data.refundedTotal.toString();
      if (event.data.fullyRefunded) facts.state = 'REFUNDED';
      break;
    default:
      return;
  }
  payment = { ...payment, facts: { ...facts, evidence: [...facts.evidence, ledgerEvidence(recorded)] }, sortableLastPosition: sortable };
  if (event.type === 'PaymentSubmitted') await claimOrphans(context, payment, event.data.providerRef, 'reference');
  const hasCharge = payment.rows.length > 0;
  if (event.type === 'PaymentCaptured' && !hasCharge) {
    const lookups = context.collections.lookups!;
    const key = ruleKey(facts.currency, BigInt(facts.captured!));
    const list = (await context.docs.get<CandidateList>(lookups, key)) ?? { _id: key, candidates: [] };
    context.docs.put(lookups, {
      ...list,
      candidates: [...list.candidates, { paymentId: facts.paymentId, amount: facts.captured!, currency: facts.currency, capturedAt: facts.capturedAt! }],
    });
  }
  if (event.type === 'PaymentFailed') await withoutCandidate(context, payment);
  await evaluatePayment(context, payment);
};

const rowFactsOf = (row: StatementRow, provider: string, rowKey: string, stream: string, evidence: Evidence): RowFacts => {
  const date = row.transactionDate ?? row.bookingDate ?? row.valueDate;
  const facts: RowFacts = { stream, provider, rowKey, category: row.category, references: row.references, evidence, duplicates: [] };
  const gross = money(row.gross);
  const fee = money(row.fee);
  const net = money(row.net);
  if (gross !== undefined) facts.gross = gross;
  if (fee !== undefined) facts.fee = fee;
  if (net !== undefined) facts.net = net;
  if (date !== undefined) facts.date = date;
  if (row.payoutId !== undefined) facts.payoutId = row.payoutId;
  return facts;
};

const rowEvidence = (recorded: RecordedEvent, data: { fileHash: string; versionHash: string; row: StatementRow }): Evidence => ({
  kind: 'statement-row',
  stream: recorded.streamName,
  position: recorded.position.toString(),
  fileHash: data.fileHash,
  line: data.row.line,
  versionHash: data.versionHash,
});

/** Finds the payment a new row is for: its references first, then the rules. */
const matchNewRow = async (context: Context, row: RowSubject): Promise<PaymentSubject | undefined> => {
  const lookups = context.collections.lookups!;
  const keys = matchKeysOf(row.facts, context.rules);
  for (const key of keys) {
    const paymentId =
      key.by === 'payment_id' ? key.value : (await context.docs.get<{ _id: string; paymentId: string }>(lookups, `ref:${key.value}`))?.paymentId;
    if (paymentId === undefined) continue;
    const payment = await getSubject<PaymentSubject>(context, paymentSubjectId(paymentId));
    if (payment === undefined) continue;
    await matchRowToPayment(context, row, payment, key.by);
    return payment;
  }
  const gross = row.facts.gross;
  if (gross !== undefined && context.rules.chargeCategories.includes(row.facts.category)) {
    const candidates: RuleCandidate[] = [];
    const tolerance = BigInt(context.rules.amountToleranceMinorUnits);
    for (let amount = BigInt(gross.amount) - tolerance; amount <= BigInt(gross.amount) + tolerance; amount++) {
      const list = await context.docs.get<CandidateList>(lookups, ruleKey(gross.currency, amount));
      if (list !== undefined) candidates.push(...list.candidates);
    }
    const match = matchByRules(row.facts, candidates, context.rules);
    if (match.kind === 'one') {
      const payment = (await getSubject<PaymentSubject>(context, paymentSubjectId(match.paymentId)))!;
      await matchRowToPayment(context, row, payment, 'rule');
      return payment;
    }
    if (match.kind === 'ambiguous') row.facts.ambiguousCandidates = match.paymentIds;
  }
  for (const key of keys) {
    const id = `orphan:${key.value}`;
    const orphans = (await context.docs.get<OrphanList>(lookups, id)) ?? { _id: id, rows: [] };
    if (!orphans.rows.includes(row._id)) context.docs.put(lookups, { ...orphans, rows: [...orphans.rows, row._id] });
  }
  return undefined;
};

const applyRowEvent = async (context: Context, recorded: RecordedEvent): Promise<void> => {
  const event = statementCatalog.decode(recorded) as StatementEvent;
  if (event.type === 'StatementImported') return;
  const id = `row:${recorded.streamName}`;
  const sortable = sortableBigint(recorded.position);
  let row = await getSubject<RowSubject>(context, id);
  if (row !== undefined && row.sortableLastPosition >= sortable) return;
  const data = event.data;
  const evidence = rowEvidence(recorded, data);
  let payment: PaymentSubject | undefined;
  if (event.type === 'StatementRowRecorded' || row === undefined) {
    row = {
      _id: id,
      kind: 'row',
      sortableLastPosition: sortable,
      findings: {},
      facts: rowFactsOf(data.row, data.provider, data.rowKey, recorded.streamName, evidence),
    };
    payment = await matchNewRow(context, row);
  } else if (event.type === 'StatementRowRestated') {
    const current = rowFactsOf(data.row, data.provider, data.rowKey, recorded.streamName, evidence);
    const previousGross = money(event.data.previous.gross);
    const previousFee = money(event.data.previous.fee);
    row = {
      ...row,
      sortableLastPosition: sortable,
      facts: {
        ...current,
        duplicates: row.facts.duplicates,
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
    if (row.facts.match !== undefined) payment = await getSubject<PaymentSubject>(context, paymentSubjectId(row.facts.match.paymentId));
  } else {
    row = { ...row, sortableLastPosition: sortable, facts: { ...row.facts, duplicates: [...row.facts.duplicates, evidence] } };
  }
  // The row is stored before its payment is judged: the payment reads it.
  putSubject(context, row);
  await evaluateRow(context, row);
  if (payment !== undefined) await evaluatePayment(context, payment);
  if (event.type !== 'StatementRowDuplicated') await evaluatePayout(context, row);
};

type PayoutSubject = Subject & { payout: PayoutFacts };

/** A row paid out in a batch, or the batch's payout row: the batch is judged again. */
const evaluatePayout = async (context: Context, row: RowSubject): Promise<void> => {
  const facts = row.facts;
  const isPayout = context.rules.payoutCategories.includes(facts.category);
  const payoutId = facts.payoutId ?? (isPayout ? facts.references[0]?.value : undefined);
  const net = facts.net ?? facts.gross;
  if (payoutId === undefined || net === undefined) return;
  const id = `payout:${facts.provider}:${payoutId}`;
  const subject = (await getSubject<PayoutSubject>(context, id)) ?? {
    _id: id,
    kind: 'statement' as const,
    sortableLastPosition: row.sortableLastPosition,
    findings: {},
    payout: { provider: facts.provider, payoutId, lines: {}, lineEvidence: [] },
  };
  const payout: PayoutFacts = { ...subject.payout, lines: { ...subject.payout.lines } };
  if (isPayout) payout.payout = { net, evidence: facts.evidence };
  else {
    payout.lines[facts.stream] = net;
    payout.lineEvidence = [...payout.lineEvidence.filter((evidence) => evidence.stream !== facts.stream), facts.evidence];
  }
  const next: PayoutSubject = { ...subject, sortableLastPosition: row.sortableLastPosition, payout };
  await syncFindings(context, next, classifyPayout(payout), facts.provider, net.currency);
  putSubject(context, next);
};

const applyStatementImported = async (context: Context, recorded: RecordedEvent): Promise<void> => {
  const event = statementCatalog.decode(recorded) as StatementEvent;
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
    const id = `statement:${provider}:${fileHash}:${statement.statementId}`;
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

const applyWorkflow = async (context: Context, recorded: RecordedEvent): Promise<void> => {
  const event = reconciliationCatalog.decode(recorded) as ReconciliationEvent;
  const collection = context.collections.discrepancies!;
  const discrepancy = await context.docs.get<DiscrepancyDocument>(collection, event.data.discrepancyId);
  if (discrepancy === undefined) return;
  const position = recorded.position.toString();
  if (discrepancy.history.some((entry) => entry.position === position)) return;
  const base = { by: event.data.by, reason: event.data.reason, position };
  let next: DiscrepancyDocument;
  switch (event.type) {
    case 'DiscrepancyAcknowledged':
      next = {
        ...discrepancy,
        stage: discrepancy.stage === 'new' ? 'acknowledged' : discrepancy.stage,
        history: [...discrepancy.history, { action: 'acknowledged', ...base, at: event.data.acknowledgedAt }],
      };
      break;
    case 'DiscrepancyAssigned':
      next = {
        ...discrepancy,
        stage: discrepancy.stage === 'resolved' ? 'resolved' : 'assigned',
        assignee: event.data.assignee,
        history: [...discrepancy.history, { action: 'assigned', ...base, assignee: event.data.assignee, at: event.data.assignedAt }],
      };
      break;
    case 'DiscrepancyResolved':
      next = {
        ...discrepancy,
        stage: 'resolved',
        status: 'resolved',
        history: [
          ...discrepancy.history,
          {
            action: 'resolved',
            ...base,
            resolution: event.data.resolution,
            ...(event.data.journalId === undefined ? {} : { journalId: event.data.journalId }),
            at: event.data.resolvedAt,
          },
        ],
      };
      if (discrepancy.status === 'open') await countOpen(context, discrepancy, -1);
      break;
  }
  context.docs.put(collection, { ...next, updatedAt: context.clock.now });
};

/** Looks again at subjects whose grace period ended before `now`. */
const sweepDue = async (context: Context): Promise<void> => {
  const lookups = context.collections.lookups!;
  while (context.clock.dueMinutes.length > 0 && minuteEnd(context.clock.dueMinutes[0]!) <= context.clock.now) {
    const minute = context.clock.dueMinutes[0]!;
    context.clock.dueMinutes = context.clock.dueMinutes.slice(1);
    const bucket = await context.docs.get<DueBucket>(lookups, `due:${minute}`);
    if (bucket === undefined) continue;
    context.docs.delete(lookups, bucket._id);
    for (let index = 0; index < bucket.chunks; index++) {
      const chunk = await context.docs.get<DueChunk>(lookups, `due:${minute}:${index}`);
      if (chunk === undefined) continue;
      context.docs.delete(lookups, chunk._id);
      for (const subjectId of new Set(chunk.subjects)) {
        const payment = await getSubject<PaymentSubject>(context, subjectId);
        if (payment !== undefined) await evaluatePayment(context, payment);
      }
    }
  }
};

/**
 * Reconciliation: the ledger's payments against the providers' statement rows, continuously.
 * Rows are matched by provider reference first, then by the versioned rules; every gap is a
 * discrepancy with its evidence. Time comes from the log (the recorded time of the latest event),
 * and grace periods are checked event by event, so a rebuild finds exactly what the live
 * projection found whatever the batches.
 */
export const createReconciliationProjection = (rules: ReconciliationRules = defaultReconciliationRules): ProjectionDefinition => {
  const checked = reconciliationRulesSchema.parse(rules);
  return {
    name: RECONCILIATION_PROJECTION,
    version: 1,
    filter: { streamNamePrefixes: ['payment-', 'statement-', 'statementrow-', 'reconciliation-'] },
    roles: ['subjects', 'lookups', 'discrepancies', 'summary'],
    // Every role has an index, so each collection exists from the first batch on (a rebuild
    // swaps in every role, read any events or not).
    indexes: {
      subjects: [['kind']],
      lookups: [['paymentId']],
      summary: [['provider']],
      discrepancies: [
        ['sortablePosition'],
        ['status', 'sortablePosition'],
        ['code', 'sortablePosition'],
        ['provider', 'sortablePosition'],
      ],
    },
    create: ({ collections }) => ({
      async handle(events: readonly RecordedEvent[], session: DocumentSession): Promise<void> {
        const docs = new BatchDocuments(session);
        const clock = (await docs.get<ClockDocument>(collections.lookups!, 'clock')) ?? { _id: 'clock', now: '', dueMinutes: [] };
        const context: Context = { docs, collections, rules: checked, clock: { ...clock }, position: '0' };
        for (const recorded of events) {
          const at = recorded.created.toISOString();
          if (at > context.clock.now) context.clock.now = at;
          context.position = recorded.position.toString();
          await sweepDue(context);
          const stream = recorded.streamName;
          if (stream.startsWith('payment-')) await applyPaymentEvent(context, recorded);
          else if (stream.startsWith('statementrow-')) await applyRowEvent(context, recorded);
          else if (stream.startsWith('statement-')) await applyStatementImported(context, recorded);
          else if (stream.startsWith('reconciliation-')) await applyWorkflow(context, recorded);
        }
        docs.put(collections.lookups!, context.clock);
        await docs.flush();
      },
    }),
  };
};

export const reconciliationProjection = createReconciliationProjection();

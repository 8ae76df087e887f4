/**
 * What every part of the reconciliation projection works with: the batch's documents, the log's
 * time, the grace-period schedule, and the bookkeeping of discrepancies and summaries.
 */
import { createHash } from 'node:crypto';
import { sortableBigint } from '@folio/shared';
import { BatchDocuments } from './batchDocuments.js';
import { suggestedActions, type DiscrepancyCode, type Finding } from './discrepancies.js';
import type { ClockDocument, Contribution, DiscrepancyDocument, DueBucket, DueChunk, Subject, SummaryDocument } from './reconciliationDocuments.js';
import type { RuleCandidate } from './rowMatching.js';
import type { MoneyFact } from './reconciliationFacts.js';
import type { ReconciliationRules } from './reconciliationRules.js';

export const DUE_CHUNK_SIZE = 500;

/** The id of a discrepancy: stable across rebuilds, as it is derived from what it is about. */
export const discrepancyIdOf = (subject: string, code: string, key = ''): string =>
  createHash('sha256').update(`${subject}|${code}|${key}`).digest('hex').slice(0, 32);

export const money = (value: { amount: bigint; currency: string } | undefined): MoneyFact | undefined =>
  value === undefined ? undefined : { amount: value.amount.toString(), currency: value.currency };

export const minuteOf = (iso: string): string => iso.slice(0, 16);
const minuteEnds = new Map<string, number>();
/** When a minute has passed, in milliseconds; asked for every event while anything is due. */
export const minuteEndMs = (minute: string): number => {
  let end = minuteEnds.get(minute);
  if (end === undefined) {
    end = Date.parse(`${minute}:00.000Z`) + 60_000;
    if (minuteEnds.size >= 1024) minuteEnds.clear();
    minuteEnds.set(minute, end);
  }
  return end;
};

/** A summary as a batch works on it: counted in place, written once at the end of the batch. */
export interface WorkingSummary {
  provider: string;
  currency: string;
  payments: number;
  matched: number;
  awaitingSettlement: number;
  statementRows: number;
  ledgerTotal: bigint;
  providerTotal: bigint;
  open: Partial<Record<DiscrepancyCode, number>>;
  changed: boolean;
}

export interface Context {
  docs: BatchDocuments;
  collections: Readonly<Record<string, string>>;
  rules: ReconciliationRules;
  clock: ClockDocument;
  /** The clock's time in milliseconds. */
  nowMs: number;
  /** Position and time of the event being applied. */
  position: string;
  /** The summaries the batch touched, by provider and currency. */
  summaries: Map<string, WorkingSummary>;
  /**
   * Payments captured in this batch still waiting for a row, by rule key, in capture order: added
   * to their stored candidate lists at the end of the batch, so one matched within the batch
   * never costs a read or write of its list.
   */
  newCandidates: Map<string, RuleCandidate[]>;
  /** Payments whose first capture is in this batch. */
  firstCapturedInBatch: Set<string>;
  /** Payments no longer candidates for rules, with the ambiguous rows that listed them. */
  withdrawnCandidates: Map<string, string[]>;
  /** Waiting rows just matched or restated, with the payments whose captures they fitted among others. */
  takenWaitingRows: Map<string, string[]>;
}

export const summaryKey = (provider: string, currency: string): string => `${provider}:${currency}`;

const loadSummary = async (context: Context, provider: string, currency: string): Promise<WorkingSummary> => {
  const key = summaryKey(provider, currency);
  const stored = await context.docs.get<SummaryDocument>(context.collections.summary!, key);
  const summary: WorkingSummary =
    stored === undefined
      ? { provider, currency, payments: 0, matched: 0, awaitingSettlement: 0, statementRows: 0, ledgerTotal: 0n, providerTotal: 0n, open: {}, changed: false }
      : {
          provider,
          currency,
          payments: stored.payments,
          matched: stored.matched,
          awaitingSettlement: stored.awaitingSettlement,
          statementRows: stored.statementRows,
          ledgerTotal: BigInt(stored.ledgerTotal),
          providerTotal: BigInt(stored.providerTotal),
          open: { ...stored.open },
          changed: false,
        };
  context.summaries.set(key, summary);
  return summary;
};

export const summaryOf = (context: Context, provider: string, currency: string): WorkingSummary | Promise<WorkingSummary> =>
  context.summaries.get(summaryKey(provider, currency)) ?? loadSummary(context, provider, currency);

/** The summaries the batch changed, as documents. */
export const putSummaries = (context: Context): void => {
  for (const summary of context.summaries.values()) {
    if (!summary.changed) continue;
    const document: SummaryDocument = {
      _id: summaryKey(summary.provider, summary.currency),
      provider: summary.provider,
      currency: summary.currency,
      payments: summary.payments,
      matched: summary.matched,
      awaitingSettlement: summary.awaitingSettlement,
      statementRows: summary.statementRows,
      ledgerTotal: summary.ledgerTotal.toString(),
      providerTotal: summary.providerTotal.toString(),
      delta: (summary.ledgerTotal - summary.providerTotal).toString(),
      open: summary.open,
    };
    context.docs.put(context.collections.summary!, document);
    summary.changed = false;
  }
};

const shift = (summary: WorkingSummary, contribution: Contribution, sign: 1 | -1): void => {
  summary.payments += sign * contribution.payments;
  summary.matched += sign * contribution.matched;
  summary.awaitingSettlement += sign * contribution.awaitingSettlement;
  summary.statementRows += sign * contribution.rows;
  if (contribution.ledger !== '0') summary.ledgerTotal += BigInt(sign) * BigInt(contribution.ledger);
  if (contribution.statement !== '0') summary.providerTotal += BigInt(sign) * BigInt(contribution.statement);
  summary.changed = true;
};

/**
 * Moves a subject's share of the summaries from what it added before to what it adds now;
 * a promise only when a summary has to be read first.
 */
export const moveContribution = (context: Context, before: Contribution | undefined, after: Contribution | undefined): Promise<void> | undefined => {
  const from = before === undefined ? undefined : context.summaries.get(before.key);
  const to = after === undefined ? undefined : context.summaries.get(after.key);
  if ((before !== undefined && from === undefined) || (after !== undefined && to === undefined)) {
    return (async () => {
      if (before !== undefined) await summaryOf(context, before.provider, before.currency);
      if (after !== undefined) await summaryOf(context, after.provider, after.currency);
      moveContribution(context, before, after);
    })();
  }
  if (before !== undefined) shift(from!, before, -1);
  if (after !== undefined) shift(to!, after, 1);
  return undefined;
};

export const sameContribution = (a: Contribution | undefined, b: Contribution | undefined): boolean =>
  a === undefined || b === undefined
    ? a === b
    : a.key === b.key &&
      a.provider === b.provider &&
      a.currency === b.currency &&
      a.payments === b.payments &&
      a.matched === b.matched &&
      a.awaitingSettlement === b.awaitingSettlement &&
      a.ledger === b.ledger &&
      a.rows === b.rows &&
      a.statement === b.statement;

export const countOpen = async (context: Context, discrepancy: DiscrepancyDocument, sign: 1 | -1): Promise<void> => {
  const summary = await summaryOf(context, discrepancy.provider, discrepancy.currency ?? '');
  const count = (summary.open[discrepancy.code] ?? 0) + sign;
  if (count === 0) delete summary.open[discrepancy.code];
  else summary.open[discrepancy.code] = count;
  summary.changed = true;
};

const hasFindings = (subject: Subject): boolean => {
  for (const _ in subject.findings) return true;
  return false;
};

/**
 * Brings the discrepancies of a subject in line with its latest findings: new ones open, ones
 * no longer found are cleared (unless resolved), found-again ones reopen.
 */
export const syncFindings = (
  context: Context,
  subject: Subject,
  findings: readonly (Finding & { key?: string })[],
  provider: string,
  currency: string | null,
): Promise<void> | undefined =>
  // The common case, nothing found now or before, needs no promise.
  findings.length === 0 && !hasFindings(subject) ? undefined : syncChangedFindings(context, subject, findings, provider, currency);

const syncChangedFindings = async (
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

export const putSubject = (context: Context, subject: Subject): void => context.docs.put(context.collections.subjects!, subject);
/** A subject; from the batch's copy without a promise when it has one. */
export const getSubject = <S extends Subject>(context: Context, id: string): S | undefined | Promise<S | undefined> => {
  const cached = context.docs.peek<S>(context.collections.subjects!, id);
  return cached === null ? context.docs.get<S>(context.collections.subjects!, id) : cached;
};

/** Has the subject looked at again once `at` has passed; a promise only when the schedule has to be read first. */
export const schedule = (context: Context, subjectId: string, at: string): Promise<void> | undefined => {
  const lookups = context.collections.lookups!;
  const minute = minuteOf(at);
  const bucket = context.docs.peek<DueBucket>(lookups, `due:${minute}`);
  const chunk = bucket === null || bucket === undefined || bucket.chunks === 0 ? undefined : context.docs.peek<DueChunk>(lookups, `due:${minute}:${bucket.chunks - 1}`);
  if (bucket === null || chunk === null) return scheduleAfterReading(context, subjectId, minute);
  addToSchedule(context, subjectId, minute, bucket ?? { _id: `due:${minute}`, chunks: 0 }, chunk);
  return undefined;
};

const scheduleAfterReading = async (context: Context, subjectId: string, minute: string): Promise<void> => {
  const lookups = context.collections.lookups!;
  const bucket = (await context.docs.get<DueBucket>(lookups, `due:${minute}`)) ?? { _id: `due:${minute}`, chunks: 0 };
  const chunk = bucket.chunks === 0 ? undefined : await context.docs.get<DueChunk>(lookups, `due:${minute}:${bucket.chunks - 1}`);
  addToSchedule(context, subjectId, minute, bucket, chunk);
};

const addToSchedule = (context: Context, subjectId: string, minute: string, bucket: DueBucket, last: DueChunk | undefined): void => {
  const lookups = context.collections.lookups!;
  let chunk = last;
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

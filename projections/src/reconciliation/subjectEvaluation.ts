/** Judging payments, rows and payouts again when their facts change, and tying rows to payments. */
import { classifyPayment, classifyPayout, classifyRow, isPaymentMoney } from './classification.js';
import type { Contribution, PaymentSubject, RowSubject, Subject } from './reconciliationDocuments.js';
import type { MoneyFact, PayoutFacts, RowFacts } from './reconciliationFacts.js';
import type { ReconciliationRules } from './reconciliationRules.js';
import type { RuleCandidate } from './rowMatching.js';
import { type Context, getSubject, moveContribution, putSubject, sameContribution, schedule, syncFindings } from './reconciliationContext.js';

/** Re-judges a payment against its rows, and the summary with it. */
export const evaluatePayment = async (context: Context, payment: PaymentSubject): Promise<void> => {
  const rows: RowFacts[] = [];
  for (const id of payment.rows) {
    const found = getSubject<RowSubject>(context, id);
    const row = found instanceof Promise ? await found : found;
    if (row !== undefined) rows.push(row.facts);
  }
  const { findings, nextDeadline } = classifyPayment(payment.facts, rows, context.rules, context.clock.now);
  const facts = payment.facts;
  const syncing = syncFindings(context, payment, findings, facts.provider, facts.currency);
  if (syncing !== undefined) await syncing;
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
    const moving = moveContribution(context, payment.contribution, contribution);
    if (moving !== undefined) await moving;
    payment.contribution = contribution;
  }
  if (nextDeadline !== undefined) {
    const scheduling = schedule(context, payment._id, nextDeadline);
    if (scheduling !== undefined) await scheduling;
  }
  putSubject(context, payment);
};

export const evaluateRow = async (context: Context, row: RowSubject): Promise<void> => {
  const facts = row.facts;
  const syncing = syncFindings(context, row, classifyRow(facts, context.rules), facts.provider, facts.gross?.currency ?? facts.net?.currency ?? null);
  if (syncing !== undefined) await syncing;
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
          statement: isPaymentMoney(facts.category, context.rules) ? amount.amount : '0',
        };
  if (!sameContribution(row.contribution, contribution)) {
    const moving = moveContribution(context, row.contribution, contribution);
    if (moving !== undefined) await moving;
    if (contribution === undefined) delete row.contribution;
    else row.contribution = contribution;
  }
  putSubject(context, row);
};

export const paymentSubjectId = (paymentId: string) => `payment:${paymentId}`;
export const rowSubjectId = (rowStream: string) => `row:${rowStream}`;
/**
 * The rows of a provider that named a payment (by its id or provider reference) before it appeared.
 * Lookups by reference or amount are each provider's own: a reference is unique only within its
 * provider, and a row may only be matched to a payment made through its provider.
 */
export const orphanListId = (provider: string, value: string) => `orphan:${provider}:${value}`;
/** The payment a provider's reference names. */
export const providerRefId = (provider: string, providerRef: string) => `ref:${provider}:${providerRef}`;
export const ruleKey = (provider: string, currency: string, amount: bigint) => `amount:${provider}:${currency}:${amount}`;
/**
 * A provider's payout batch. Batch numbers are unique only within an account (Adyen numbers them
 * per merchant account), so a batch is keyed by its statement's account when the format names
 * one; escaped, the account holds no `:` and the key stays unambiguous.
 */
export const payoutKeyOf = (row: Pick<RowFacts, 'provider' | 'account'>, payoutId: string): string =>
  row.account === undefined ? `${row.provider}:${payoutId}` : `${row.provider}@${encodeURIComponent(row.account)}:${payoutId}`;

export interface CandidateList {
  _id: string;
  candidates: RuleCandidate[];
}

/** A captured payment becomes a candidate for rows no reference ties to a payment. */
export const addCandidate = (context: Context, candidate: RuleCandidate): void => {
  const key = ruleKey(candidate.provider, candidate.currency, BigInt(candidate.amount));
  const added = context.newCandidates.get(key);
  if (added === undefined) context.newCandidates.set(key, [candidate]);
  else added.push(candidate);
};

/** The payments the rules may match a charge row to: those captured through its provider for its amount, within the tolerance. */
export const ruleCandidatesOf = async (context: Context, provider: string, gross: { amount: string; currency: string }): Promise<RuleCandidate[]> => {
  const candidates: RuleCandidate[] = [];
  const tolerance = BigInt(context.rules.amountToleranceMinorUnits);
  for (let amount = BigInt(gross.amount) - tolerance; amount <= BigInt(gross.amount) + tolerance; amount++) {
    candidates.push(...(await candidatesOf(context, ruleKey(provider, gross.currency, amount))));
  }
  return candidates;
};

/** The candidates for a rule key: the stored ones, then this batch's. */
export const candidatesOf = async (context: Context, key: string): Promise<RuleCandidate[]> => {
  const list = await context.docs.get<CandidateList>(context.collections.lookups!, key);
  return [...(list?.candidates ?? []), ...(context.newCandidates.get(key) ?? [])];
};

/** Adds the batch's remaining candidates to their stored lists, in capture order. */
export const putNewCandidates = async (context: Context): Promise<void> => {
  const lookups = context.collections.lookups!;
  for (const [key, added] of context.newCandidates) {
    if (added.length === 0) continue;
    const list = (await context.docs.get<CandidateList>(lookups, key)) ?? { _id: key, candidates: [] };
    context.docs.put(lookups, { ...list, candidates: [...list.candidates, ...added] });
  }
  context.newCandidates.clear();
};

export const withoutCandidate = async (context: Context, payment: PaymentSubject): Promise<void> => {
  if (payment.facts.captured === undefined) return;
  if (payment.ambiguousFor !== undefined) {
    context.withdrawnCandidates.set(payment.facts.paymentId, payment.ambiguousFor);
    delete payment.ambiguousFor;
  }
  const lookups = context.collections.lookups!;
  const id = ruleKey(payment.facts.provider, payment.facts.currency, BigInt(payment.facts.captured));
  const added = context.newCandidates.get(id);
  if (added !== undefined) {
    const kept = added.filter((candidate) => candidate.paymentId !== payment.facts.paymentId);
    if (kept.length !== added.length) context.newCandidates.set(id, kept);
  }
  // First captured in this batch: no stored list names it yet.
  if (context.firstCapturedInBatch.has(payment.facts.paymentId)) return;
  const list = await context.docs.get<CandidateList>(lookups, id);
  if (list === undefined) return;
  const candidates = list.candidates.filter((candidate) => candidate.paymentId !== payment.facts.paymentId);
  if (candidates.length === list.candidates.length) return;
  if (candidates.length === 0) context.docs.delete(lookups, id);
  else context.docs.put(lookups, { ...list, candidates });
};

/** Whether one of the payment's rows is its charge: a refund or dispute row naming it first is not. */
export const hasChargeRow = async (context: Context, payment: PaymentSubject): Promise<boolean> => {
  for (const id of payment.rows) {
    const row = await getSubject<RowSubject>(context, id);
    if (row !== undefined && context.rules.chargeCategories.includes(row.facts.category)) return true;
  }
  return false;
};

export const matchRowToPayment = async (context: Context, row: RowSubject, payment: PaymentSubject, by: NonNullable<RowFacts['match']>['by']) => {
  row.facts.match = { paymentId: payment.facts.paymentId, by };
  delete row.facts.ambiguousCandidates;
  if (row.ambiguousFor !== undefined) {
    context.takenWaitingRows.set(row._id, row.ambiguousFor.filter((paymentId) => paymentId !== payment.facts.paymentId));
    delete row.ambiguousFor;
  }
  if (!payment.rows.includes(row._id)) payment.rows = [...payment.rows, row._id];
  if (context.rules.chargeCategories.includes(row.facts.category)) await withoutCandidate(context, payment);
};

export interface OrphanList {
  _id: string;
  rows: string[];
}

export type PayoutSubject = Subject & { payout: PayoutFacts };

/** Where a version of a row counts in a payout batch: as the batch's payout row or as one of its lines. */
interface PayoutPlace {
  id: string;
  payoutId: string;
  isPayout: boolean;
  net: MoneyFact;
}

/** The payout a payout row is: its payout id, else the first reference of a kind that names it. */
export const payoutIdOfPayoutRow = (facts: Pick<RowFacts, 'payoutId' | 'references'>, rules: ReconciliationRules): string | undefined => {
  if (facts.payoutId !== undefined) return facts.payoutId;
  for (const kind of rules.payoutReferenceKinds) {
    const reference = facts.references.find((candidate) => candidate.kind === kind);
    if (reference !== undefined) return reference.value;
  }
  return undefined;
};

const payoutPlaceOf = (context: Context, facts: RowFacts): PayoutPlace | undefined => {
  const isPayout = context.rules.payoutCategories.includes(facts.category);
  const payoutId = isPayout ? payoutIdOfPayoutRow(facts, context.rules) : facts.payoutId;
  const net = facts.net ?? facts.gross;
  if (payoutId === undefined || net === undefined) return undefined;
  return { id: `payout:${payoutKeyOf(facts, payoutId)}`, payoutId, isPayout, net };
};

/** A batch is judged in its payout row's currency, whichever of its rows came last; it finds nothing without one. */
const judgePayout = async (context: Context, subject: PayoutSubject, row: RowSubject): Promise<void> => {
  subject.sortableLastPosition = row.sortableLastPosition;
  await syncFindings(context, subject, classifyPayout(subject.payout), row.facts.provider, subject.payout.payout?.net.currency ?? null);
  putSubject(context, subject);
};

/**
 * A row paid out in a batch, or the batch's payout row: the batch is judged again. A restated row
 * (`previous` its last version) first leaves the batch it no longer counts in.
 */
export const evaluatePayout = async (context: Context, row: RowSubject, previous?: RowFacts): Promise<void> => {
  const place = payoutPlaceOf(context, row.facts);
  const left = previous === undefined ? undefined : payoutPlaceOf(context, previous);
  if (left !== undefined && (left.id !== place?.id || left.isPayout !== place.isPayout)) await leavePayout(context, row, left);
  if (place !== undefined) await joinPayout(context, row, place);
};

const joinPayout = async (context: Context, row: RowSubject, { id, payoutId, isPayout, net }: PayoutPlace): Promise<void> => {
  const facts = row.facts;
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
  await judgePayout(context, { ...subject, payout }, row);
};

/** Takes a row's last version out of the batch it counted in. */
const leavePayout = async (context: Context, row: RowSubject, { id, isPayout }: PayoutPlace): Promise<void> => {
  const subject = await getSubject<PayoutSubject>(context, id);
  if (subject === undefined) return;
  const { stream } = row.facts;
  const payout: PayoutFacts = { ...subject.payout, lines: { ...subject.payout.lines } };
  // Another row may have become the batch's payout row since: only this row's is taken out.
  if (isPayout && payout.payout?.evidence.stream === stream) delete payout.payout;
  if (!isPayout) {
    delete payout.lines[stream];
    payout.lineEvidence = payout.lineEvidence.filter((evidence) => evidence.stream !== stream);
  }
  await judgePayout(context, { ...subject, payout }, row);
};

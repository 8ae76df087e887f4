/**
 * A charge row that several captured payments fit is reported as ambiguous and takes none. Each
 * of those payments remembers the row; once one is taken by another row (or fails), the row is
 * matched again against the payments still free: it may now fit exactly one, or none. The same
 * the other way: a capture that several waiting rows fitted looks again once one is taken, and a
 * row that fits only such a capture joins the rows it is ambiguous between instead of taking it.
 */
import { claimWaitingRow, waitForCapture } from './lateRowMatching.js';
import type { PaymentSubject, RowSubject } from './reconciliationDocuments.js';
import { type Context, getSubject, putSubject } from './reconciliationContext.js';
import { matchByRules, matchKeysOf, type RuleCandidate } from './rowMatching.js';
import { evaluatePayment, evaluateRow, hasChargeRow, matchRowToPayment, paymentSubjectId, ruleCandidatesOf } from './subjectEvaluation.js';

/** Records that `row` fits all of `paymentIds`, on the row and on each payment. */
export const markAmbiguous = async (context: Context, row: RowSubject, paymentIds: string[]): Promise<void> => {
  row.facts.ambiguousCandidates = paymentIds;
  for (const paymentId of paymentIds) {
    const payment = await getSubject<PaymentSubject>(context, paymentSubjectId(paymentId));
    if (payment === undefined || payment.ambiguousFor?.includes(row._id)) continue;
    payment.ambiguousFor = [...(payment.ambiguousFor ?? []), row._id];
    putSubject(context, payment);
  }
};

/**
 * The candidates a row's provider references do not rule out: a row naming a reference that is not
 * a payment's own is for another payment (one not seen yet, which claims it), not that one.
 */
const uncontradicted = async (context: Context, row: RowSubject, candidates: RuleCandidate[]): Promise<RuleCandidate[]> => {
  const named = matchKeysOf(row.facts, context.rules).map(({ value }) => value);
  if (named.length === 0) return candidates;
  const kept: RuleCandidate[] = [];
  for (const candidate of candidates) {
    const providerRef = (await getSubject<PaymentSubject>(context, paymentSubjectId(candidate.paymentId)))?.facts.providerRef;
    if (providerRef === undefined || named.includes(providerRef)) kept.push(candidate);
  }
  return kept;
};

/**
 * Matches a stored row (in the batch) by the rules; answers the payment it took. A capture that
 * several waiting rows already fit is theirs to share: the row waits with them and the capture
 * reports it among its candidates, rather than the rules guessing it is this row's.
 */
export const matchRowByRules = async (context: Context, row: RowSubject, gross: { amount: string; currency: string }): Promise<PaymentSubject | undefined> => {
  const match = matchByRules(row.facts, await uncontradicted(context, row, await ruleCandidatesOf(context, row.facts.provider, gross)), context.rules);
  if (match.kind === 'ambiguous') await markAmbiguous(context, row, match.paymentIds);
  if (match.kind !== 'one') return undefined;
  const payment = await getSubject<PaymentSubject>(context, paymentSubjectId(match.paymentId));
  if (payment === undefined) return undefined;
  if (payment.facts.ambiguousRows === undefined) {
    await matchRowToPayment(context, row, payment, 'rule');
    return payment;
  }
  await waitForCapture(context, row);
  await claimWaitingRow(context, payment);
  await evaluatePayment(context, payment);
  return undefined;
};

/** Matches a row that was ambiguous again, by the rules, against the payments still free. */
const rematch = async (context: Context, row: RowSubject): Promise<void> => {
  delete row.facts.ambiguousCandidates;
  const payment = row.facts.gross === undefined ? undefined : await matchRowByRules(context, row, row.facts.gross);
  if (payment === undefined && row.facts.ambiguousCandidates === undefined) await waitForCapture(context, row);
  putSubject(context, row);
  await evaluateRow(context, row);
  if (payment !== undefined) await evaluatePayment(context, payment);
};

/** Looks again at the ambiguous rows of every payment that stopped being a candidate, until none is left. */
export const refreshAmbiguousRows = async (context: Context): Promise<void> => {
  for (const [paymentId, rowIds] of context.withdrawnCandidates) {
    context.withdrawnCandidates.delete(paymentId);
    for (const id of rowIds) {
      const row = await getSubject<RowSubject>(context, id);
      if (row === undefined || row.facts.match !== undefined || !(row.facts.ambiguousCandidates ?? []).includes(paymentId)) continue;
      await rematch(context, row);
    }
  }
};

/**
 * Looks again at every capture that several waiting rows fitted, once one of those rows was
 * matched: it may now take the one left.
 */
export const refreshAmbiguousCaptures = async (context: Context): Promise<void> => {
  for (const [rowId, paymentIds] of context.takenWaitingRows) {
    context.takenWaitingRows.delete(rowId);
    for (const paymentId of paymentIds) {
      const payment = await getSubject<PaymentSubject>(context, paymentSubjectId(paymentId));
      if (payment === undefined || payment.facts.ambiguousRows === undefined || (await hasChargeRow(context, payment))) continue;
      await claimWaitingRow(context, payment);
      await evaluatePayment(context, payment);
    }
  }
};

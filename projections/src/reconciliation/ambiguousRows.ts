/**
 * A charge row that several captured payments fit is reported as ambiguous and takes none. Each
 * of those payments remembers the row; once one is taken by another row (or fails), the row is
 * matched again against the payments still free: it may now fit exactly one, or none. The same
 * the other way: a capture that several waiting rows fitted looks again once one is taken.
 */
import { claimWaitingRow, waitForCapture } from './lateRowMatching.js';
import type { PaymentSubject, RowSubject } from './reconciliationDocuments.js';
import { type Context, getSubject, putSubject } from './reconciliationContext.js';
import { matchByRules } from './rowMatching.js';
import { evaluatePayment, evaluateRow, matchRowToPayment, paymentSubjectId, ruleCandidatesOf } from './subjectEvaluation.js';

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

/** Matches a row that was ambiguous again, by the rules, against the payments still free. */
const rematch = async (context: Context, row: RowSubject): Promise<void> => {
  delete row.facts.ambiguousCandidates;
  const match = row.facts.gross === undefined ? undefined : matchByRules(row.facts, await ruleCandidatesOf(context, row.facts.provider, row.facts.gross), context.rules);
  let payment: PaymentSubject | undefined;
  if (match?.kind === 'one') {
    payment = await getSubject<PaymentSubject>(context, paymentSubjectId(match.paymentId));
    if (payment !== undefined) await matchRowToPayment(context, row, payment, 'rule');
  } else if (match?.kind === 'ambiguous') await markAmbiguous(context, row, match.paymentIds);
  else await waitForCapture(context, row);
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
      if (payment === undefined || payment.rows.length > 0 || payment.facts.ambiguousRows === undefined) continue;
      await claimWaitingRow(context, payment);
      await evaluatePayment(context, payment);
    }
  }
};

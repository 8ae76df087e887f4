/**
 * A provider row restated into a version that is matched by something else (references, amount,
 * currency, date or category): what its last version held is given back first (its payment, the
 * payments it was ambiguous between, the captures it was ambiguous for, its place in the waiting
 * and orphan lists), so the new version is matched as a new row would be and neither the row nor a
 * payment is taken twice.
 */
import { addCandidate, evaluatePayment, hasChargeRow, orphanListId, paymentSubjectId, type OrphanList } from './subjectEvaluation.js';
import { claimWaitingRow, stopWaiting } from './lateRowMatching.js';
import type { PaymentSubject, RowSubject } from './reconciliationDocuments.js';
import type { RowFacts } from './reconciliationFacts.js';
import { type Context, getSubject, putSubject } from './reconciliationContext.js';
import { matchKeysOf } from './rowMatching.js';

const sameReferences = (a: RowFacts['references'], b: RowFacts['references']): boolean =>
  a.length === b.length && a.every((reference, index) => reference.kind === b[index]!.kind && reference.value === b[index]!.value);

/** Whether the new version of a row can be matched by anything its last version could not. */
export const matchedDifferently = (previous: RowFacts, current: RowFacts): boolean =>
  previous.category !== current.category ||
  previous.date !== current.date ||
  previous.gross?.amount !== current.gross?.amount ||
  previous.gross?.currency !== current.gross?.currency ||
  !sameReferences(previous.references, current.references);

/** A captured payment the rules may give a row to, when it has no charge row. */
const mayTakeRow = (payment: PaymentSubject): boolean => payment.facts.captured !== undefined && payment.facts.capturedAt !== undefined && payment.facts.state !== 'FAILED';

/**
 * Gives back what the row's last version (`previous`) held; the row keeps only its new facts.
 * Answers the payment it was matched to, which is stored once it has been judged again.
 */
export const releaseRow = async (context: Context, row: RowSubject, previous: RowFacts): Promise<PaymentSubject | undefined> => {
  const released = await unmatch(context, row, previous);
  await leaveAmbiguity(context, row);
  await stopWaiting(context, row._id, previous);
  const lookups = context.collections.lookups!;
  for (const key of matchKeysOf(previous, context.rules)) {
    const id = orphanListId(previous.provider, key.value);
    const orphans = await context.docs.get<OrphanList>(lookups, id);
    if (orphans === undefined || !orphans.rows.includes(row._id)) continue;
    const rows = orphans.rows.filter((orphan) => orphan !== row._id);
    if (rows.length === 0) context.docs.delete(lookups, id);
    else context.docs.put(lookups, { ...orphans, rows });
  }
  return released;
};

const unmatch = async (context: Context, row: RowSubject, previous: RowFacts): Promise<PaymentSubject | undefined> => {
  const match = row.facts.match;
  if (match === undefined) return undefined;
  delete row.facts.match;
  const payment = await getSubject<PaymentSubject>(context, paymentSubjectId(match.paymentId));
  if (payment === undefined) return undefined;
  payment.rows = payment.rows.filter((id) => id !== row._id);
  // A capture left without its charge may be taken by the rules again: by this row's new version first.
  if (context.rules.chargeCategories.includes(previous.category) && mayTakeRow(payment) && !(await hasChargeRow(context, payment))) {
    const { paymentId, provider, captured, currency, capturedAt } = payment.facts;
    addCandidate(context, { paymentId, provider, amount: captured!, currency, capturedAt: capturedAt! });
  }
  return payment;
};

/** The payments the row was ambiguous between forget it; the captures it was ambiguous for look again. */
const leaveAmbiguity = async (context: Context, row: RowSubject): Promise<void> => {
  for (const paymentId of row.facts.ambiguousCandidates ?? []) {
    const payment = await getSubject<PaymentSubject>(context, paymentSubjectId(paymentId));
    if (payment?.ambiguousFor === undefined) continue;
    const rows = payment.ambiguousFor.filter((id) => id !== row._id);
    if (rows.length === 0) delete payment.ambiguousFor;
    else payment.ambiguousFor = rows;
    putSubject(context, payment);
  }
  delete row.facts.ambiguousCandidates;
  if (row.ambiguousFor !== undefined) {
    context.takenWaitingRows.set(row._id, row.ambiguousFor);
    delete row.ambiguousFor;
  }
};

/**
 * The payment the row's last version was matched to, once the new version has been matched: left
 * without a charge, it takes the waiting row that fits it, as a capture does; then it is judged again.
 */
export const reofferPayment = async (context: Context, payment: PaymentSubject): Promise<void> => {
  if (mayTakeRow(payment) && !(await hasChargeRow(context, payment))) await claimWaitingRow(context, payment);
  await evaluatePayment(context, payment);
};

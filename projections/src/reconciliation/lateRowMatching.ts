/**
 * A provider row that reached reconciliation before its payment's capture: with no reference to
 * tie it to the payment (those are claimed by reference when the payment appears), it waits
 * under its provider and amount, and the capture through that provider that fits it takes it, by
 * the same rules as a row arriving after. A row fitting several payments stays reported as
 * ambiguous; a capture that several waiting rows fit takes none of them and reports them as its
 * ambiguous candidates.
 */
import type { PaymentSubject, RowSubject } from './reconciliationDocuments.js';
import type { RowFacts } from './reconciliationFacts.js';
import { type Context, getSubject, putSubject } from './reconciliationContext.js';
import { matchByRules, matchKeysOf } from './rowMatching.js';
import { evaluateRow, matchRowToPayment } from './subjectEvaluation.js';

interface WaitingRows {
  _id: string;
  rows: string[];
}

const waitingKey = (provider: string, currency: string, amount: bigint) => `waiting-rows:${provider}:${currency}:${amount}`;

/**
 * The list a charge row's version waits in for its capture, if it waits. A row with a reference
 * waits for the payment it names instead: another capture of the same amount must not take it.
 */
const waitingListOf = (context: Context, facts: RowFacts): string | undefined => {
  const gross = facts.gross;
  if (gross === undefined || facts.date === undefined || !context.rules.chargeCategories.includes(facts.category)) return undefined;
  if (matchKeysOf(facts, context.rules).length > 0) return undefined;
  return waitingKey(facts.provider, gross.currency, BigInt(gross.amount));
};

/** Lists a charge row that matched no payment, for a capture still to come. */
export const waitForCapture = async (context: Context, row: RowSubject): Promise<void> => {
  const id = waitingListOf(context, row.facts);
  if (id === undefined) return;
  const lookups = context.collections.lookups!;
  const waiting = (await context.docs.get<WaitingRows>(lookups, id)) ?? { _id: id, rows: [] };
  if (!waiting.rows.includes(row._id)) context.docs.put(lookups, { ...waiting, rows: [...waiting.rows, row._id] });
};

/** Takes a row out of the list its version `facts` waited in: a capture must not take it for that version. */
export const stopWaiting = async (context: Context, rowId: string, facts: RowFacts): Promise<void> => {
  const id = waitingListOf(context, facts);
  if (id === undefined) return;
  const lookups = context.collections.lookups!;
  const waiting = await context.docs.get<WaitingRows>(lookups, id);
  if (waiting === undefined || !waiting.rows.includes(rowId)) return;
  const rows = waiting.rows.filter((waitingId) => waitingId !== rowId);
  if (rows.length === 0) context.docs.delete(lookups, id);
  else context.docs.put(lookups, { ...waiting, rows });
};

/** A payment just captured with no row yet: takes the one waiting row that fits it, if exactly one does. */
export const claimWaitingRow = async (context: Context, payment: PaymentSubject): Promise<void> => {
  const { captured, capturedAt, currency, paymentId, provider } = payment.facts;
  if (captured === undefined || capturedAt === undefined) return;
  const lookups = context.collections.lookups!;
  const tolerance = BigInt(context.rules.amountToleranceMinorUnits);
  const candidate = [{ paymentId, provider, amount: captured, currency, capturedAt }];
  const fitting: { row: RowSubject; list: WaitingRows }[] = [];
  for (let amount = BigInt(captured) - tolerance; amount <= BigInt(captured) + tolerance; amount++) {
    const list = await context.docs.get<WaitingRows>(lookups, waitingKey(provider, currency, amount));
    if (list === undefined) continue;
    const stillWaiting: string[] = [];
    for (const id of list.rows) {
      const row = await getSubject<RowSubject>(context, id);
      if (row === undefined || row.facts.match !== undefined) continue;
      stillWaiting.push(id);
      // A row that fitted several payments is reported as ambiguous: one more does not settle it.
      if (row.facts.ambiguousCandidates === undefined && matchByRules(row.facts, candidate, context.rules).kind === 'one') fitting.push({ row, list });
    }
    if (stillWaiting.length !== list.rows.length) context.docs.put(lookups, { ...list, rows: stillWaiting });
  }
  // Several rows fit: the payment reports them all and takes none (a row reports itself unmatched);
  // each row remembers the payment, which looks again once one of them is taken.
  if (fitting.length > 1) {
    payment.facts.ambiguousRows = fitting.map(({ row: waiting }) => ({ rowKey: waiting.facts.rowKey, evidence: waiting.facts.evidence }));
    for (const { row: waiting } of fitting) {
      if (waiting.ambiguousFor?.includes(paymentId)) continue;
      waiting.ambiguousFor = [...(waiting.ambiguousFor ?? []), paymentId];
      putSubject(context, waiting);
    }
  } else delete payment.facts.ambiguousRows;
  if (fitting.length !== 1) return;
  const { row } = fitting[0]!;
  const list = (await context.docs.get<WaitingRows>(lookups, fitting[0]!.list._id))!;
  const rest = list.rows.filter((id) => id !== row._id);
  if (rest.length === 0) context.docs.delete(lookups, list._id);
  else context.docs.put(lookups, { ...list, rows: rest });
  await matchRowToPayment(context, row, payment, 'rule');
  await evaluateRow(context, row);
};

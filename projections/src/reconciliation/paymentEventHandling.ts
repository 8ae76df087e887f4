/** How payment events change the reconciliation: the ledger's side. */
import { paymentCatalog, sortableBigint, type PaymentCatalogEvent, type RecordedEvent } from '@folio/shared';
import { decodeTypeAndData } from './eventDecoding.js';
import type { Evidence } from './discrepancies.js';
import { claimWaitingRow } from './lateRowMatching.js';
import type { PaymentSubject, RowSubject } from './reconciliationDocuments.js';
import { type Context, getSubject } from './reconciliationContext.js';
import {
  type OrphanList,
  addCandidate,
  evaluatePayment,
  evaluateRow,
  hasChargeRow,
  matchRowToPayment,
  orphanListId,
  paymentSubjectId,
  providerRefId,
  withoutCandidate,
} from './subjectEvaluation.js';

/** Rows of the payment's provider that arrived before the payment they name: claimed when it appears. */
export const claimOrphans = async (context: Context, payment: PaymentSubject, value: string, by: 'reference' | 'payment_id') => {
  const lookups = context.collections.lookups!;
  const orphans = await context.docs.get<OrphanList>(lookups, orphanListId(payment.facts.provider, value));
  if (orphans === undefined) return;
  context.docs.delete(lookups, orphans._id);
  for (const id of orphans.rows) {
    const row = await getSubject<RowSubject>(context, id);
    if (row === undefined || row.facts.match !== undefined) continue;
    await matchRowToPayment(context, row, payment, by);
    await evaluateRow(context, row);
  }
};

export const ledgerEvidence = (recorded: RecordedEvent): Evidence => ({
  kind: 'ledger-event',
  stream: recorded.streamName,
  position: recorded.position.toString(),
  type: recorded.type,
});

/** The payment events that change what reconciliation knows; others (callbacks, refund requests) are skipped undecoded. */
const appliedTypes: ReadonlySet<string> = new Set<PaymentCatalogEvent['type']>([
  'PaymentCreated',
  'PaymentSubmitted',
  'PaymentCaptured',
  'PaymentSettled',
  'PaymentFailed',
  'PaymentRefunded',
]);

export const applyPaymentEvent = async (context: Context, recorded: RecordedEvent): Promise<void> => {
  if (!appliedTypes.has(recorded.type)) return;
  const event = decodeTypeAndData(paymentCatalog, recorded);
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
  const previouslyCaptured = facts.captured;
  switch (event.type) {
    case 'PaymentSubmitted':
      facts.state = 'PENDING';
      facts.providerRef = event.data.providerRef;
      facts.submittedAt = event.data.submittedAt;
      context.docs.put(context.collections.lookups!, { _id: providerRefId(facts.provider, event.data.providerRef), paymentId: facts.paymentId });
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
  if (event.type === 'PaymentCaptured') {
    if (!(await hasChargeRow(context, payment))) await claimWaitingRow(context, payment);
    if (previouslyCaptured === undefined) context.firstCapturedInBatch.add(facts.paymentId);
    if (!(await hasChargeRow(context, payment)))
      addCandidate(context, { paymentId: facts.paymentId, provider: facts.provider, amount: facts.captured!, currency: facts.currency, capturedAt: facts.capturedAt! });
  }
  if (event.type === 'PaymentFailed') await withoutCandidate(context, payment);
  await evaluatePayment(context, payment);
};

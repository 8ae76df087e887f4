import type { DocumentSession, RecordedEvent } from '@folio/shared';
import type { ProjectionDefinition } from '../runtime/projection.js';
import { refreshAmbiguousCaptures, refreshAmbiguousRows } from './ambiguousRows.js';
import { BatchDocuments } from './batchDocuments.js';
import { subjectCodec } from './subjectStorage.js';
import type { ClockDocument, DueBucket, DueChunk, PaymentSubject } from './reconciliationDocuments.js';
import { defaultReconciliationRules, reconciliationRulesSchema, type ReconciliationRules } from './reconciliationRules.js';
import { applyPaymentEvent } from './paymentEventHandling.js';
import { applyPayoutEvent } from './payoutEventHandling.js';
import { type Context, getSubject, minuteEndMs, putSummaries } from './reconciliationContext.js';
import { applyRowEvent, applyStatementImported } from './statementEventHandling.js';
import { evaluatePayment, orphanListId, paymentSubjectId, putNewCandidates, rowSubjectId } from './subjectEvaluation.js';
import { applyWorkflow } from './workflowEventHandling.js';

export const RECONCILIATION_PROJECTION = 'reconciliation';

const PAYMENT_STREAM_PREFIX = 'payment-';

/**
 * The subjects a batch's payment and row events are about, and the orphan lists a new payment
 * claims from, read in one go before the batch is handled: their ids follow from stream names
 * (and a new payment's provider), and most of them do not exist yet while a log is caught up.
 */
const prefetchSubjects = async (docs: BatchDocuments, collections: Record<string, string>, events: readonly RecordedEvent[]): Promise<void> => {
  const subjects: string[] = [];
  const orphanLists: string[] = [];
  for (const { streamName, type, data } of events) {
    if (streamName.startsWith(PAYMENT_STREAM_PREFIX)) {
      const paymentId = streamName.slice(PAYMENT_STREAM_PREFIX.length);
      subjects.push(paymentSubjectId(paymentId));
      if (type === 'PaymentCreated' && typeof data.provider === 'string') orphanLists.push(orphanListId(data.provider, paymentId));
    } else if (streamName.startsWith('statementrow-')) subjects.push(rowSubjectId(streamName));
  }
  await docs.prefetch(collections.subjects!, subjects);
  await docs.prefetch(collections.lookups!, orphanLists);
};

/**
 * Whether a grace period ended before `now`. Asked before `sweepDue` is called: while a log is
 * caught up some minute is nearly always pending, and an async call per event costs a promise.
 */
const somethingDue = (context: Context): boolean =>
  context.clock.dueMinutes.length > 0 && minuteEndMs(context.clock.dueMinutes[0]!) <= context.nowMs;

/** Looks again at subjects whose grace period ended before `now`. */
const sweepDue = async (context: Context): Promise<void> => {
  const lookups = context.collections.lookups!;
  while (somethingDue(context)) {
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
 * Bank credits are matched to the payouts that sent them (providers' and Folio's own).
 * Rows are matched by provider reference first, then by the versioned rules; every gap is a
 * discrepancy with its evidence. Time comes from the log (the recorded time of the latest event),
 * and grace periods are checked event by event, so a rebuild finds exactly what the live
 * projection found whatever the batches.
 */
export const createReconciliationProjection = (rules: ReconciliationRules = defaultReconciliationRules): ProjectionDefinition => {
  const checked = reconciliationRulesSchema.parse(rules);
  return {
    name: RECONCILIATION_PROJECTION,
    // 3: payouts and bank credits, rows waiting for their capture, subjects stored compactly;
    // 4: a row naming a payment is never matched to another one; 5: a bank credit or payout restated
    // away gives back what it had consumed; 6: a capture or a payout that several waiting rows or
    // credits fit reports them as ambiguous; 7: an ambiguous row or bank credit is matched again once
    // one of its candidates is taken; 8: a row is matched only to payments made through its provider
    // (references, orphans and amounts looked up per provider), and a payout batch is its statement
    // account's; 9: a restated row leaves the payout it was in and is matched again when what it is
    // matched by changed, and a won dispute or a partial capture counts at the provider's net (rules 3);
    // 10: a reference outranks a rule match, a capture or payout already ambiguous is joined rather than
    // taken, a payout is judged after its credit is looked for and in its payout row's currency (rules 4)
    // 11: only a charge row is a capture's charge; PayPal withdrawals are payouts; row dates in their file's zone (rules 5)
    // 12: a duplicate charge and a superseded status name the money at issue; a payment's charge is the one for its capture
    // 13: a credit naming a payout another credit took is given no other payout by amount, whichever arrives first;
    // a credit restated into a version matched by something else gives back its payout and is matched afresh, and a
    // payout restated so gives back its credit unless the credit names it
    // 14: a statement sent again in another file is judged as its earlier version, whose balance break it clears or updates;
    // a bank credit showing a batch number is not given an account's batch by it (other accounts number theirs alike)
    // 15: a payout is known at the bank only by the references that name it, not by its account's name (rules 6)
    // 16: a row restated in a file that does not repeat it no longer counts its repeats in earlier files
    // 17: a row delivered unchanged by a file that repeats it otherwise counts only that file's repeats
    // (each a rebuild into new collections).
    version: 17,
    filter: { streamNamePrefixes: ['payment-', 'payout-', 'statement-', 'statementrow-', 'reconciliation-'] },
    roles: ['subjects', 'lookups', 'discrepancies', 'summary'],
    // Only what the query side filters or sorts by: subjects and lookups are read by id alone,
    // and every index costs each of their writes a B-tree insert.
    indexes: {
      summary: [['provider']],
      discrepancies: [
        ['sortablePosition'],
        ['status', 'sortablePosition'],
        ['code', 'sortablePosition'],
        ['provider', 'sortablePosition'],
      ],
    },
    create: ({ collections }) => {
      const codecs = new Map([[collections.subjects!, subjectCodec]]);
      return {
        async handle(events: readonly RecordedEvent[], session: DocumentSession): Promise<void> {
          const docs = new BatchDocuments(session, codecs);
          const clock = (await docs.get<ClockDocument>(collections.lookups!, 'clock')) ?? { _id: 'clock', now: '', dueMinutes: [] };
          const context: Context = {
            docs,
            collections,
            rules: checked,
            clock: { ...clock },
            nowMs: clock.now === '' ? -Infinity : Date.parse(clock.now),
            position: '0',
            summaries: new Map(),
            newCandidates: new Map(),
            firstCapturedInBatch: new Set(),
            withdrawnCandidates: new Map(),
            takenWaitingRows: new Map(),
          };
          await prefetchSubjects(docs, collections, events);
          for (const recorded of events) {
            const at = recorded.created.getTime();
            if (at > context.nowMs) {
              context.nowMs = at;
              context.clock.now = recorded.created.toISOString();
            }
            context.position = recorded.position.toString();
            if (somethingDue(context)) await sweepDue(context);
            const stream = recorded.streamName;
            if (stream.startsWith(PAYMENT_STREAM_PREFIX)) await applyPaymentEvent(context, recorded);
            else if (stream.startsWith('payout-')) await applyPayoutEvent(context, recorded);
            else if (stream.startsWith('statementrow-')) await applyRowEvent(context, recorded);
            else if (stream.startsWith('statement-')) await applyStatementImported(context, recorded);
            else if (stream.startsWith('reconciliation-')) await applyWorkflow(context, recorded);
            while (context.withdrawnCandidates.size > 0 || context.takenWaitingRows.size > 0) {
              await refreshAmbiguousRows(context);
              await refreshAmbiguousCaptures(context);
            }
          }
          await putNewCandidates(context);
          putSummaries(context);
          docs.put(collections.lookups!, context.clock);
          await docs.flush();
        },
      };
    },
  };
};

export const reconciliationProjection = createReconciliationProjection();

/** The exception workflow's events on the discrepancies they name. */
import { reconciliationCatalog, type RecordedEvent } from '@folio/shared';
import { decodeTypeAndData } from './eventDecoding.js';
import type { DiscrepancyDocument } from './reconciliationDocuments.js';
import { type Context, countOpen } from './reconciliationContext.js';

export const applyWorkflow = async (context: Context, recorded: RecordedEvent): Promise<void> => {
  const event = decodeTypeAndData(reconciliationCatalog, recorded);
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
    case 'DiscrepancyResolutionStarted':
    case 'DiscrepancyResolutionFailed':
      // A resolution is recorded once its correcting journal is posted; one that failed leaves the discrepancy as it was.
      return;
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

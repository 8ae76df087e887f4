import type { DocumentStore, ReconciliationTotals } from '@folio/shared';
import { liveCollections } from '../runtime/projection.js';
import type { SummaryDocument } from './reconciliationDocuments.js';
import { reconciliationProjection } from './reconciliationProjection.js';

/** Open discrepancies by class and the deltas per provider and currency, from the summaries. */
export const readReconciliationTotals = async (documents: DocumentStore): Promise<ReconciliationTotals> => {
  const collection = liveCollections(reconciliationProjection).summary!;
  const open: Record<string, number> = {};
  const deltas: ReconciliationTotals['deltas'] = [];
  let after: string | undefined;
  do {
    const page = await documents.find<SummaryDocument & { [key: string]: never }>(collection, { limit: 1000, ...(after === undefined ? {} : { after }) });
    for (const summary of page.items) {
      for (const [code, count] of Object.entries(summary.open)) open[code] = (open[code] ?? 0) + (count ?? 0);
      deltas.push({ provider: summary.provider, currency: summary.currency, minorUnits: BigInt(summary.delta) });
    }
    after = page.nextCursor;
  } while (after !== undefined);
  return { open, deltas };
};

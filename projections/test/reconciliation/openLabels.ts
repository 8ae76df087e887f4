import type { DocumentStore } from '@folio/shared';
import type { DiscrepancyDocument } from '../../src/reconciliation/reconciliationDocuments.js';
import { reconciliationProjection } from '../../src/reconciliation/reconciliationProjection.js';
import { liveCollections } from '../../src/runtime/projection.js';
import { labelOf } from './reconciliationScenario.js';

/** `<code> <what it is about>` of every discrepancy with `status`, sorted. */
export const discrepancyLabels = async (documents: DocumentStore, status = 'open'): Promise<string[]> =>
  ((await documents.find<DiscrepancyDocument & { [key: string]: never }>(liveCollections(reconciliationProjection).discrepancies!, { limit: 1000 })).items as DiscrepancyDocument[])
    .filter((discrepancy) => discrepancy.status === status)
    .map(labelOf)
    .sort();

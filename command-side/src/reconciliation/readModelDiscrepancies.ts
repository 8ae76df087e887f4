import type { DocumentStore } from '@folio/shared';
import { createServedReadModels, discrepancyCodes, discrepancyStatuses, reconciliationProjection, type Projections } from '@folio/projections';
import { z } from 'zod';
import type { DiscrepancyLookup } from './discrepancyLookup.js';

/** The fields of a stored discrepancy that the workflow checks; the rest is the read side's. */
const knownDiscrepancySchema = z.object({
  code: z.enum(discrepancyCodes),
  status: z.enum(discrepancyStatuses),
  provider: z.string(),
  currency: z.string().nullable(),
});

export interface ReadModelDiscrepanciesOptions {
  documents: DocumentStore;
  /** The projectors' progress: in-process, or as their stored checkpoints tell. */
  progress: Pick<Projections, 'waitFor' | 'status'>;
}

/**
 * Discrepancies as the reconciliation read model holds them, in the version the query side reads
 * (the newest that has caught up): the workflow acts on the discrepancies operators see.
 */
export const readModelDiscrepancies = ({ documents, progress }: ReadModelDiscrepanciesOptions): DiscrepancyLookup => {
  const readModels = createServedReadModels({ documents, projections: progress });
  return async (discrepancyId) => {
    const { collections } = await readModels.serving(reconciliationProjection);
    const stored = await documents.get(collections.discrepancies!, discrepancyId);
    return stored === undefined ? undefined : knownDiscrepancySchema.parse(stored);
  };
};

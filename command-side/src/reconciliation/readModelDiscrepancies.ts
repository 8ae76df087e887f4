import type { DocumentStore } from '@folio/shared';
import {
  createServedReadModels,
  discrepancyCodes,
  discrepancyStatuses,
  reconciliationProjection,
  waitForHead,
  type ReadModelProgress,
  type WaitLog,
} from '@folio/projections';
import { z } from 'zod';
import type { DiscrepancyLookup } from './discrepancyLookup.js';

/** The fields of a stored discrepancy that the workflow checks; the rest is the read side's. */
const knownDiscrepancySchema = z.object({
  code: z.enum(discrepancyCodes),
  status: z.enum(discrepancyStatuses),
  provider: z.string(),
  currency: z.string().nullable(),
  detail: z.record(z.string(), z.string()),
});

export interface ReadModelDiscrepanciesOptions {
  documents: DocumentStore;
  /** The projectors' progress: in-process, or as their stored checkpoints tell. */
  progress: ReadModelProgress;
  /** The log whose head a lookup waits for. */
  log: WaitLog;
  /** How long a lookup waits for the read model to reach the head (`FOLIO_READ_WAIT_MS`). */
  waitMs: number;
}

/**
 * Discrepancies as the reconciliation read model holds them, in the version the query side reads
 * (the newest that has caught up): the workflow acts on the discrepancies operators see. A lookup
 * first waits until that version reflects the head of the log, so that a discrepancy a later event
 * cleared or changed is judged as it is now; past `waitMs` it throws `ReadModelBehindError`.
 */
export const readModelDiscrepancies = ({ documents, progress, log, waitMs }: ReadModelDiscrepanciesOptions): DiscrepancyLookup => {
  const readModels = createServedReadModels({ documents, projections: progress });
  const names = [reconciliationProjection.name];
  return async (discrepancyId) => {
    await waitForHead(readModels, log, waitMs, names, 'a step judged on them now could act on a discrepancy that later events changed or cleared');
    const { collections } = await readModels.serving(reconciliationProjection);
    const stored = await documents.get(collections.discrepancies!, discrepancyId);
    return stored === undefined ? undefined : knownDiscrepancySchema.parse(stored);
  };
};

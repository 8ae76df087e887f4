import type { FolioError } from '@folio/shared';
import type { Correction } from './discrepancyDecider.js';
import { CorrectionMismatchError, DiscrepancyNotFoundError, DiscrepancyNotOpenError } from './discrepancyErrors.js';
import type { KnownDiscrepancy } from './discrepancyLookup.js';

/**
 * Why a step of the workflow (`move`) is refused on a discrepancy as the read model knows it, if it
 * is: one it does not know, one no longer open (resolved, or cleared by later events), or a
 * correction in another currency or through another provider than the discrepancy's. A
 * discrepancy whose evidence names no currency takes a correction in any.
 */
export const admissionRefusal = (
  discrepancyId: string,
  known: KnownDiscrepancy | undefined,
  move: string,
  correction?: Correction,
): FolioError | undefined => {
  if (known === undefined) return new DiscrepancyNotFoundError(discrepancyId);
  if (known.status !== 'open') return new DiscrepancyNotOpenError(discrepancyId, known.status, move);
  if (correction === undefined) return undefined;
  if (known.currency !== null && correction.currency !== known.currency)
    return new CorrectionMismatchError(discrepancyId, 'currency', known.currency, correction.currency);
  if (correction.provider !== known.provider) return new CorrectionMismatchError(discrepancyId, 'provider', known.provider, correction.provider);
  return undefined;
};

import type { FolioError } from '@folio/shared';
import type { Correction } from './discrepancyDecider.js';
import { amountAtIssue } from './amountAtIssue.js';
import { CorrectionExceedsDiscrepancyError, CorrectionMismatchError, DiscrepancyNotFoundError, DiscrepancyNotOpenError } from './discrepancyErrors.js';
import type { KnownDiscrepancy } from './discrepancyLookup.js';

/**
 * Why a step of the workflow (`move`) is refused on a discrepancy as the read model knows it, if it
 * is: one it does not know, one no longer open (resolved, or cleared by later events), a
 * correction in another currency or through another provider than the discrepancy's, or one
 * larger than the amount the discrepancy leaves unexplained (`amountAtIssue`; a smaller one writes
 * off part of it). A discrepancy whose evidence names no currency, or no amount, takes any.
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
  const atIssue = amountAtIssue(known);
  if (atIssue !== undefined && correction.amount > atIssue)
    return new CorrectionExceedsDiscrepancyError(discrepancyId, known.code, atIssue, known.currency, correction.amount);
  return undefined;
};

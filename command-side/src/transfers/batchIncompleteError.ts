import { FolioError } from '@folio/shared';
import type { BatchItemResult } from './transferRoutes.js';

/**
 * A batch in which some item failed for a reason other than a business rejection (the store was
 * unreachable, a conflict outlasted its retries). Such a failure is not an answer to remember: the
 * batch is answered with every item's result so far and not recorded under its idempotency key,
 * and a retry with the same key runs it again. The items keep their transfer ids, so the ones that
 * completed answer with their outcome and move no money twice.
 */
export class BatchIncompleteError extends FolioError {
  readonly type = 'batch-incomplete';
  readonly status = 503;
  override readonly retryAfterSeconds = 1;

  constructor(
    readonly results: readonly BatchItemResult[],
    incomplete: readonly number[],
  ) {
    super(`transfers ${incomplete.join(', ')} of the batch could not be completed now; retry the batch with the same Idempotency-Key`);
  }

  override problemExtensions(): Record<string, unknown> {
    return { results: this.results };
  }
}

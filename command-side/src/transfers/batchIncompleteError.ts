import type { JsonValue } from '@folio/shared';
import { PartlyAnsweredError } from '../idempotency/index.js';
import type { BatchItemResult } from './transferRoutes.js';

/**
 * A batch in which some item failed for a reason other than a business rejection (the store was
 * unreachable, a conflict outlasted its retries). Such a failure is not an answer to remember: the
 * batch is answered with every item's result so far, and a retry with the same key runs it again.
 * The items keep their transfer ids, so the ones that completed answer with their outcome and move
 * no money twice. The items rejected (4xx) are final: the client may act on them (send that
 * transfer again under a new key), so a retry must not run them again and perhaps complete them.
 * They are this answer's `finalParts`, which the idempotency store records under the batch's key
 * (the request fingerprint guarding against another body) before the client sees them.
 */
export class BatchIncompleteError extends PartlyAnsweredError {
  readonly type = 'batch-incomplete';
  readonly status = 503;
  override readonly retryAfterSeconds = 1;
  /** The rejected items' results, by index. */
  readonly finalParts: Readonly<Record<string, JsonValue>>;

  constructor(
    readonly results: readonly BatchItemResult[],
    incomplete: readonly number[],
  ) {
    super(`transfers ${incomplete.join(', ')} of the batch could not be completed now; retry the batch with the same Idempotency-Key`);
    const unfinished = new Set(incomplete);
    this.finalParts = Object.fromEntries(
      results.filter((result) => result.status >= 400 && !unfinished.has(result.index)).map((result) => [String(result.index), result]),
    );
  }

  override problemExtensions(): Record<string, unknown> {
    return { results: this.results };
  }
}

/**
 * How many events a projector puts in one transaction while the document store refuses some for
 * their size or duration (`TransactionLimitExceededError`): a refused batch is read again with
 * half as many events, down to one. The cap then grows back, doubling once `growAfter` full
 * batches have committed at it (a partial batch tells nothing). A size the store refused is tried again with twice the patience each
 * time it is refused anew (up to `maxPatience` batches between two tries): a store whose limit
 * holds refuses rarely, one whose limit was passing soon gets its full batches back.
 */
export interface BatchSizing {
  /** Events per transaction at most: `configured`, or fewer while the store refuses that many. */
  limit(configured: number): number;
  /** A transaction of `events` events was refused. False when it held one event or none: there is nothing smaller to try. */
  refused(events: number): boolean;
  /** A transaction of `events` events committed. */
  committed(events: number): void;
}

export interface BatchSizingOptions {
  /** The largest batch the projector makes: once the cap grows back to it, it is lifted. */
  largest: number;
  /** Full batches that commit at the cap before it doubles. */
  growAfter?: number;
  /** The most full batches that commit before a size refused again and again is tried once more. */
  maxPatience?: number;
}

export const createBatchSizing = (options: BatchSizingOptions): BatchSizing => {
  const { largest, growAfter = 4, maxPatience = 64 } = options;
  /** Events per transaction at most; undefined while nothing is refused. */
  let cap: number | undefined;
  /** The size last refused. */
  let refusedAt: number | undefined;
  /** Full batches that committed at the cap since it last changed. */
  let streak = 0;
  let patience = growAfter;
  /** Whether the cap grew since the last refusal: refused then, a try of a larger size failed. */
  let grown = false;

  return {
    limit: (configured) => (cap === undefined || cap >= configured ? configured : cap),

    refused(events) {
      // Checkpoints alone: no fewer events to try.
      if (events < 1) return false;
      if (grown) patience = Math.min(maxPatience, patience * 2);
      grown = false;
      streak = 0;
      refusedAt = events;
      cap = Math.max(1, Math.floor(events / 2));
      return events > 1;
    },

    committed(events) {
      if (cap === undefined || events < cap) return;
      // A size once refused commits now: the store allows more than it did.
      if (refusedAt !== undefined && events >= refusedAt) patience = growAfter;
      streak += 1;
      if (streak < patience) return;
      streak = 0;
      grown = true;
      cap *= 2;
      if (cap >= largest) {
        cap = undefined;
        refusedAt = undefined;
        grown = false;
        patience = growAfter;
      }
    },
  };
};

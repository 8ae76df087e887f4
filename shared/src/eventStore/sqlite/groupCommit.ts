/**
 * Group commit: requests that arrive within one turn of the event loop are handed together to
 * `commitBatch`, which runs them in one transaction (one fsync). Each request keeps its own
 * outcome: `commitBatch` returns, per request, either a result or the error that request alone
 * failed with. If the whole batch throws (a write or the commit failed), every request gets that error.
 */
export type BatchOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface GroupCommitter<Q, R> {
  submit(request: Q): Promise<R>;
}

interface Pending<Q, R> {
  request: Q;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

export const createGroupCommitter = <Q, R>(
  commitBatch: (requests: readonly Q[]) => BatchOutcome<R>[],
  afterCommit: () => void,
): GroupCommitter<Q, R> => {
  let queue: Pending<Q, R>[] = [];

  const flush = (): void => {
    const batch = queue;
    queue = [];
    let outcomes: BatchOutcome<R>[];
    try {
      outcomes = commitBatch(batch.map((pending) => pending.request));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    batch.forEach((pending, index) => {
      const outcome = outcomes[index]!;
      if (outcome.ok) pending.resolve(outcome.value);
      else pending.reject(outcome.error);
    });
    afterCommit();
  };

  return {
    submit: (request) =>
      new Promise<R>((resolve, reject) => {
        queue.push({ request, resolve, reject });
        // setImmediate runs after pending I/O callbacks and microtasks, so every writer that is
        // ready in this turn joins the batch.
        if (queue.length === 1) setImmediate(flush);
      }),
  };
};

/**
 * Group commit: requests queue while the previous batch commits, then go together to
 * `commitBatch`, which runs them in one transaction (one fsync). With one batch in flight at a
 * time, batches grow with the load instead of commits multiplying. Each request keeps its own
 * outcome: `commitBatch` returns, per request, either a result or the error that request alone
 * failed with. If the whole batch fails (a write or the commit failed), every request gets that error.
 */
export type BatchOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface GroupCommitter<Q, R> {
  submit(request: Q): Promise<R>;
  /** Resolves once every request submitted so far is settled. */
  idle(): Promise<void>;
}

interface Pending<Q, R> {
  request: Q;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

export const createGroupCommitter = <Q, R>(
  commitBatch: (requests: readonly Q[]) => Promise<BatchOutcome<R>[]>,
  afterCommit: () => void,
): GroupCommitter<Q, R> => {
  let queue: Pending<Q, R>[] = [];
  /** A flush is scheduled or its batch is being committed. */
  let busy = false;
  let idleWaiters: (() => void)[] = [];

  const schedule = (): void => {
    if (busy || queue.length === 0) return;
    busy = true;
    // setImmediate runs after pending I/O callbacks and microtasks, so every writer that is ready
    // in this turn, the ones the last batch's answers woke included, joins the batch.
    setImmediate(() => void flush());
  };

  const flush = async (): Promise<void> => {
    const batch = queue;
    queue = [];
    try {
      const outcomes = await commitBatch(batch.map((pending) => pending.request));
      batch.forEach((pending, index) => {
        const outcome = outcomes[index]!;
        if (outcome.ok) pending.resolve(outcome.value);
        else pending.reject(outcome.error);
      });
      afterCommit();
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    }
    busy = false;
    schedule();
    if (!busy) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  };

  return {
    submit: (request) =>
      new Promise<R>((resolve, reject) => {
        queue.push({ request, resolve, reject });
        schedule();
      }),
    idle: () => (busy ? new Promise<void>((resolve) => idleWaiters.push(resolve)) : Promise.resolve()),
  };
};

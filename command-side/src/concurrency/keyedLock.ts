/**
 * Runs work for one key at a time, in arrival order, within this process. A payment's steps
 * (check its state, move its money, record the move) must not interleave with another step of
 * the same payment: a failure racing a capture could otherwise leave money on a failed payment.
 */
export const createKeyedLock = () => {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const previous = tails.get(key) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return run;
  };
};

export type KeyedLock = ReturnType<typeof createKeyedLock>;

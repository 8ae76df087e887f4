/**
 * An iterator that can read its source ahead of the consumer while the consumer waits. A
 * projector spends part of each batch waiting for the search index, written on its own thread;
 * reading and decoding the next events of the log then fill that wait instead of following it.
 *
 * Values come out in the source's order, and a failure of the source comes out after every value
 * read before it. One `next()` at a time.
 */
export interface ReadAhead<T> {
  next(): Promise<IteratorResult<T>>;
  /**
   * Reads ahead, up to the capacity, until `waiting` settles; resolves then (or sooner, when
   * the source has nothing more to give now). Never waits for the source beyond `waiting`.
   */
  readWhile(waiting: Promise<unknown>): Promise<void>;
}

/** Size read between two turns of the event loop while reading ahead, so the wait's end is seen. */
const TURN = 256;

export interface ReadAheadOptions<T> {
  /** Called on each value as it is read, before the consumer takes it; what it throws is ignored. */
  prepare?: (value: T) => void;
  /** What a value counts for against the capacity (a run of messages: its length); 1 by default. */
  sizeOf?: (value: T) => number;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export const readAhead = <T>(source: AsyncIterator<T>, capacity: number, options: ReadAheadOptions<T> = {}): ReadAhead<T> => {
  const { prepare, sizeOf = () => 1 } = options;
  if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  // A queue with a moving head: shifting a long array would copy it on every take.
  let queue: IteratorResult<T>[] = [];
  let head = 0;
  /** The size of the values queued and not taken. */
  let queuedSize = 0;
  /** The size read ahead since the last turn of the event loop. */
  let sinceTurn = 0;
  let ended = false;
  let failure: { reason: unknown } | undefined;
  /** A read into the queue under way. */
  let inFlight: Promise<void> | undefined;
  /** A read straight to the consumer under way (nothing was read ahead). */
  let direct: Promise<unknown> | undefined;

  const prepared = (result: IteratorResult<T>): IteratorResult<T> => {
    if (prepare !== undefined && !result.done) {
      try {
        prepare(result.value);
      } catch {
        // Best effort: the consumer meets the same failure when it reads the value.
      }
    }
    if (result.done) ended = true;
    return result;
  };

  /** Reads one value into the queue, after any read under way, so the order holds. */
  const pull = (): Promise<void> => {
    inFlight ??= (async () => {
      try {
        // Its failure is the consumer's to meet, from that read.
        if (direct !== undefined) await direct.then(undefined, () => undefined);
        // Awaited first: `queue` may be another array by the time the value comes.
        const result = await source.next();
        queue.push(prepared(result));
        if (!result.done) {
          const size = sizeOf(result.value);
          queuedSize += size;
          sinceTurn += size;
        }
      } catch (error) {
        failure = { reason: error };
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };

  const take = (): IteratorResult<T> => {
    const result = queue[head]!;
    head += 1;
    if (!result.done) queuedSize -= sizeOf(result.value);
    // Taken values are dropped once they are half the array: one copy per as many takes.
    if (head * 2 >= queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    return result;
  };

  const next = (): Promise<IteratorResult<T>> => {
    if (head < queue.length) return Promise.resolve(take());
    if (failure !== undefined) return Promise.reject(failure.reason);
    if (inFlight !== undefined) return inFlight.then(next);
    // Nothing read ahead and nothing being read: straight from the source, without a queue.
    const read: Promise<IteratorResult<T>> = source.next().then(
      (result) => {
        direct = undefined;
        return prepared(result);
      },
      (error: unknown) => {
        direct = undefined;
        throw error;
      },
    );
    direct = read;
    return read;
  };

  return {
    next,
    async readWhile(waiting: Promise<unknown>): Promise<void> {
      let settled = false;
      const over = waiting.then(
        () => {
          settled = true;
        },
        () => {
          settled = true;
        },
      );
      while (!settled && !ended && failure === undefined && queuedSize < capacity) {
        // A live source may wait long for its next value: the wait's end comes first.
        await Promise.race([pull(), over]);
        if (sinceTurn >= TURN) {
          sinceTurn = 0;
          await nextTurn();
        }
      }
    },
  };
};

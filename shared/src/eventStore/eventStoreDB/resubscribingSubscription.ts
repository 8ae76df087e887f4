import { InvalidArgumentError, StoreUnavailableError, SubscriptionDroppedError } from '../errors.js';
import { runsOfOne, type GlobalPosition, type Subscription, type SubscriptionMessage } from '../eventStore.js';

/** Where a subscription starts; a position is exclusive. */
export type SubscriptionStart = 'start' | 'end' | GlobalPosition;

/** One connection's worth of messages. `unsubscribe`, when there is one, stops it. */
export type UnderlyingSubscription = AsyncIterable<SubscriptionMessage> & { unsubscribe?(): Promise<void> };

export interface ResubscribeOptions {
  /** Resubscribes allowed in a row without any message in between; unlimited by default, 0 never resubscribes. */
  maxAttempts?: number;
  /** Backoff before the first resubscribe; it doubles on each further attempt. Default 100 ms. */
  initialDelayMs?: number;
  /** Ceiling of the backoff. Default 5 s. */
  maxDelayMs?: number;
}

export interface ResubscribingSubscriptionOptions extends ResubscribeOptions {
  fromPosition: SubscriptionStart;
  /** Opens an underlying subscription delivering what comes after `fromPosition`. */
  connect(fromPosition: SubscriptionStart): UnderlyingSubscription;
  /**
   * Pins `'end'` to the current head before the first connection, so that a resubscribe before
   * anything was delivered cannot skip events committed in between.
   */
  resolveEnd?(): Promise<GlobalPosition | undefined>;
  /** Which failures are worth a resubscribe. Default: `StoreUnavailableError`. */
  isTransient?(error: unknown): boolean;
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
  random?(): number;
}

const sleepUnlessAborted = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });

/** Exponential backoff with jitter: uniformly in the upper half of `initial · 2^(attempt−1)`, capped. */
export const backoffDelay = (attempt: number, initialDelayMs: number, maxDelayMs: number, random: () => number): number => {
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
  return ceiling / 2 + (random() * ceiling) / 2;
};

const requireAttempts = (value: number): number => {
  if (value !== Infinity && !(Number.isSafeInteger(value) && value >= 0)) {
    throw new InvalidArgumentError(`maxAttempts must be a non-negative integer or Infinity, got ${value}`);
  }
  return value;
};

const requireDelay = (value: number, name: string): number => {
  if (!Number.isSafeInteger(value) || value <= 0) throw new InvalidArgumentError(`${name} must be a positive integer, got ${value}`);
  return value;
};

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const STOPPED = Symbol('stopped');

/**
 * A subscription that survives transient drops: it reconnects with backoff from the last position
 * it delivered, exclusive, so the consumer sees neither a gap nor a duplicate. A delivered
 * checkpoint is as good a resume point as an event, since it says everything wanted up to it was
 * delivered. A failure that is not transient, or too many attempts, ends iteration with
 * `SubscriptionDroppedError`; `unsubscribe()` ends it without one.
 */
export const createResubscribingSubscription = (options: ResubscribingSubscriptionOptions): Subscription => {
  const maxAttempts = requireAttempts(options.maxAttempts ?? Infinity);
  const initialDelayMs = requireDelay(options.initialDelayMs ?? 100, 'initialDelayMs');
  const maxDelayMs = requireDelay(options.maxDelayMs ?? 5_000, 'maxDelayMs');
  const isTransient = options.isTransient ?? ((error: unknown) => error instanceof StoreUnavailableError);
  const sleep = options.sleep ?? sleepUnlessAborted;
  const random = options.random ?? Math.random;

  const stop = new AbortController();
  const stopped = new Promise<typeof STOPPED>((resolve) => {
    stop.signal.addEventListener('abort', () => resolve(STOPPED), { once: true });
  });
  const untilStopped = <T>(promise: Promise<T>): Promise<T | typeof STOPPED> => Promise.race([promise, stopped]);

  let current: { subscription: UnderlyingSubscription; iterator: AsyncIterator<SubscriptionMessage> } | undefined;
  /** Iteration does not wait for this: a source that hangs while closing must not hang the consumer. */
  const closeCurrent = async (): Promise<void> => {
    const closing = current;
    current = undefined;
    if (closing === undefined) return;
    void closing.iterator.return?.().catch(() => undefined);
    await closing.subscription.unsubscribe?.().catch(() => undefined);
  };

  async function* run(): AsyncGenerator<SubscriptionMessage> {
    let start = options.fromPosition;
    /** The latest position delivered, by an event or a checkpoint: where a resubscribe resumes. */
    let resumeAfter: GlobalPosition | undefined;
    let lastEvent: GlobalPosition | undefined;
    let live = false;
    let attempts = 0;
    try {
      while (!stop.signal.aborted) {
        let failure: unknown;
        try {
          if (start === 'end' && options.resolveEnd) {
            const head = await untilStopped(options.resolveEnd());
            if (head === STOPPED) return;
            start = head ?? 'start';
          }
          const subscription = options.connect(resumeAfter ?? start);
          const iterator = subscription[Symbol.asyncIterator]();
          current = { subscription, iterator };
          for (;;) {
            const next = await untilStopped(iterator.next());
            if (next === STOPPED) return;
            if (next.done) {
              failure = new Error('the underlying subscription ended without being unsubscribed');
              break;
            }
            attempts = 0;
            const message = next.value;
            switch (message.kind) {
              case 'event': {
                const { position } = message.event;
                if (lastEvent !== undefined && position <= lastEvent) continue;
                lastEvent = position;
                if (resumeAfter === undefined || position > resumeAfter) resumeAfter = position;
                yield message;
                break;
              }
              case 'checkpoint':
                if (resumeAfter !== undefined && message.position <= resumeAfter) continue;
                resumeAfter = message.position;
                yield message;
                break;
              case 'caughtUp':
                if (live) continue;
                live = true;
                yield { kind: 'caughtUp', position: lastEvent };
                break;
              case 'fellBehind':
                if (!live) continue;
                live = false;
                yield message;
                break;
            }
            if (stop.signal.aborted) return;
          }
        } catch (error) {
          if (stop.signal.aborted) return;
          if (!isTransient(error)) {
            throw new SubscriptionDroppedError(`the subscription was dropped: ${messageOf(error)}`, { cause: error });
          }
          failure = error;
        } finally {
          void closeCurrent();
        }

        attempts += 1;
        if (attempts > maxAttempts) {
          throw new SubscriptionDroppedError(
            `the subscription was dropped and not resumed (${maxAttempts} resubscribe attempts allowed): ${messageOf(failure)}`,
            { cause: failure },
          );
        }
        if (live) {
          // The consumer is no longer live until the new connection catches up.
          live = false;
          yield { kind: 'fellBehind' };
        }
        await untilStopped(sleep(backoffDelay(attempts, initialDelayMs, maxDelayMs, random), stop.signal));
      }
    } finally {
      stop.abort();
      void closeCurrent();
    }
  }

  const iterator = run();
  return {
    [Symbol.asyncIterator]: () => iterator,
    runs: () => runsOfOne(iterator),
    async unsubscribe() {
      stop.abort();
      await closeCurrent();
    },
  };
};

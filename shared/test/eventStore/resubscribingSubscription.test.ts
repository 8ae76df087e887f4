import { expect } from 'chai';
import { StoreUnavailableError, SubscriptionDroppedError } from '../../src/eventStore/errors.js';
import type { RecordedEvent, SubscriptionMessage } from '../../src/eventStore/eventStore.js';
import {
  backoffDelay,
  createResubscribingSubscription,
  type ResubscribingSubscriptionOptions,
  type SubscriptionStart,
  type UnderlyingSubscription,
} from '../../src/eventStore/eventStoreDB/resubscribingSubscription.js';

const eventAt = (position: bigint): SubscriptionMessage => {
  const event: RecordedEvent = {
    streamName: 'account-1',
    id: `00000000-0000-4000-8000-${position.toString().padStart(12, '0')}`,
    type: 'Deposited',
    revision: position / 10n,
    position,
    created: new Date(0),
    data: {},
    metadata: undefined,
  };
  return { kind: 'event', event };
};

const checkpointAt = (position: bigint): SubscriptionMessage => ({ kind: 'checkpoint', position });

/** What a fake source does after its messages: fail, or wait until it is unsubscribed. */
type Ending = Error | 'wait';

/** A fake underlying subscription: plays `messages`, then ends as told. */
const fakeSource = (messages: readonly SubscriptionMessage[], ending: Ending) => {
  let release: (() => void) | undefined;
  const source = {
    unsubscribed: false,
    async *[Symbol.asyncIterator](): AsyncGenerator<SubscriptionMessage> {
      yield* messages;
      if (ending !== 'wait') throw ending;
      await new Promise<void>((resolve) => {
        release = resolve;
        if (source.unsubscribed) resolve();
      });
    },
    async unsubscribe() {
      source.unsubscribed = true;
      release?.();
    },
  };
  return source;
};

/** Every connection the subscription opens, with where it asked to start. */
const scriptedConnections = (script: readonly ((from: SubscriptionStart) => UnderlyingSubscription)[]) => {
  const starts: SubscriptionStart[] = [];
  const sources: UnderlyingSubscription[] = [];
  const connect = (from: SubscriptionStart): UnderlyingSubscription => {
    starts.push(from);
    const next = script[Math.min(starts.length, script.length) - 1]!;
    const source = next(from);
    sources.push(source);
    return source;
  };
  return { starts, sources, connect };
};

const instantSleep = () => {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => void delays.push(ms) };
};

const positionsOf = (messages: readonly SubscriptionMessage[]): string[] =>
  messages.map((m) =>
    m.kind === 'event'
      ? `event ${m.event.position}`
      : m.kind === 'checkpoint'
        ? `checkpoint ${m.position}`
        : m.kind === 'caughtUp'
          ? `caughtUp ${m.position}`
          : 'fellBehind',
  );

/** Reads `count` messages, failing instead of hanging if they do not come. */
const take = async (iterator: AsyncIterator<SubscriptionMessage>, count: number): Promise<SubscriptionMessage[]> => {
  const taken: SubscriptionMessage[] = [];
  while (taken.length < count) {
    const next = await Promise.race([
      iterator.next(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`only ${taken.length} messages came`)), 2_000)),
    ]);
    if (next.done) throw new Error(`iteration ended after ${taken.length} messages`);
    taken.push(next.value);
  }
  return taken;
};

const iterationError = async (iterator: AsyncIterator<SubscriptionMessage>): Promise<unknown> => {
  try {
    for (let next = await iterator.next(); !next.done; next = await iterator.next());
  } catch (error) {
    return error;
  }
  throw new Error('iteration ended without an error');
};

const subscribe = (options: Partial<ResubscribingSubscriptionOptions> & Pick<ResubscribingSubscriptionOptions, 'connect'>) =>
  createResubscribingSubscription({ fromPosition: 'start', random: () => 0.5, ...options });

describe('resubscribing subscription', () => {
  it('resubscribes after a transient drop from the last delivered position, with no duplicate and no gap', async () => {
    const log = [10n, 20n, 30n, 40n, 50n];
    const after = (from: SubscriptionStart) => log.filter((p) => from === 'start' || (typeof from === 'bigint' && p > from));
    const { starts, connect } = scriptedConnections([
      (from) => fakeSource(after(from).slice(0, 2).map(eventAt), new StoreUnavailableError('connection reset')),
      (from) => fakeSource([...after(from).map(eventAt), { kind: 'caughtUp', position: undefined }], 'wait'),
    ]);
    const { delays, sleep } = instantSleep();
    const subscription = subscribe({ connect, sleep });
    const iterator = subscription[Symbol.asyncIterator]();

    const messages = await take(iterator, 6);
    await subscription.unsubscribe();

    expect(positionsOf(messages)).to.deep.equal([
      'event 10',
      'event 20',
      'event 30',
      'event 40',
      'event 50',
      'caughtUp 50',
    ]);
    expect(starts).to.deep.equal(['start', 20n]);
    expect(delays).to.have.length(1);
  });

  it('hands the same messages over in runs of one, across a resubscription, and ends when unsubscribed', async () => {
    const log = [10n, 20n, 30n];
    const after = (from: SubscriptionStart) => log.filter((p) => from === 'start' || (typeof from === 'bigint' && p > from));
    const { connect, sources } = scriptedConnections([
      (from) => fakeSource(after(from).slice(0, 1).map(eventAt), new StoreUnavailableError('connection reset')),
      (from) => fakeSource([...after(from).map(eventAt), { kind: 'caughtUp', position: undefined }], 'wait'),
    ]);
    const subscription = subscribe({ connect, sleep: instantSleep().sleep });
    const runs = subscription.runs();
    const taken: (readonly SubscriptionMessage[])[] = [];
    for await (const run of runs) {
      taken.push(run);
      if (run.some((message) => message.kind === 'caughtUp')) break;
    }
    expect(taken.map((run) => run.length)).to.deep.equal([1, 1, 1, 1]);
    expect(positionsOf(taken.flat())).to.deep.equal(['event 10', 'event 20', 'event 30', 'caughtUp 30']);
    expect((await runs.next()).done, 'leaving the loop ended the subscription').to.equal(true);
    expect((sources.at(-1) as unknown as { unsubscribed: boolean }).unsubscribed, 'its connection closed').to.equal(true);
  });

  it('skips events a new connection delivers again', async () => {
    const { connect } = scriptedConnections([
      () => fakeSource([eventAt(10n), eventAt(20n)], new StoreUnavailableError('reset')),
      () => fakeSource([eventAt(20n), eventAt(30n)], 'wait'),
    ]);
    const subscription = subscribe({ connect, sleep: instantSleep().sleep });

    const messages = await take(subscription[Symbol.asyncIterator](), 3);
    await subscription.unsubscribe();

    expect(positionsOf(messages)).to.deep.equal(['event 10', 'event 20', 'event 30']);
  });

  it('resumes from a delivered checkpoint and never lets checkpoints go backwards', async () => {
    const { starts, connect } = scriptedConnections([
      () => fakeSource([eventAt(10n), checkpointAt(100n)], new StoreUnavailableError('reset')),
      () => fakeSource([checkpointAt(100n), checkpointAt(90n), eventAt(120n), checkpointAt(150n)], 'wait'),
    ]);
    const subscription = subscribe({ connect, sleep: instantSleep().sleep });

    const messages = await take(subscription[Symbol.asyncIterator](), 4);
    await subscription.unsubscribe();

    expect(positionsOf(messages)).to.deep.equal(['event 10', 'checkpoint 100', 'event 120', 'checkpoint 150']);
    expect(starts).to.deep.equal(['start', 100n]);
  });

  it('says fellBehind when a live subscription drops, and caughtUp once the new connection catches up', async () => {
    const { connect } = scriptedConnections([
      () => fakeSource([eventAt(10n), { kind: 'caughtUp', position: undefined }], new StoreUnavailableError('reset')),
      () => fakeSource([eventAt(20n), { kind: 'caughtUp', position: undefined }], 'wait'),
    ]);
    const subscription = subscribe({ connect, sleep: instantSleep().sleep });

    const messages = await take(subscription[Symbol.asyncIterator](), 5);
    await subscription.unsubscribe();

    expect(positionsOf(messages)).to.deep.equal(['event 10', 'caughtUp 10', 'fellBehind', 'event 20', 'caughtUp 20']);
  });

  it("pins 'end' to the head once, so a drop before any delivery resumes from there", async () => {
    const { starts, connect } = scriptedConnections([
      () => fakeSource([], new StoreUnavailableError('reset')),
      () => fakeSource([eventAt(80n)], 'wait'),
    ]);
    let headReads = 0;
    const subscription = subscribe({
      fromPosition: 'end',
      connect,
      resolveEnd: async () => {
        headReads += 1;
        return 70n;
      },
      sleep: instantSleep().sleep,
    });

    await take(subscription[Symbol.asyncIterator](), 1);
    await subscription.unsubscribe();

    expect(starts).to.deep.equal([70n, 70n]);
    expect(headReads).to.equal(1);
  });

  it('gives up with SubscriptionDroppedError on a non-transient error, keeping the cause', async () => {
    const denied = new Error('access denied');
    const { starts, connect } = scriptedConnections([() => fakeSource([eventAt(10n)], denied)]);
    const { delays, sleep } = instantSleep();
    const iterator = subscribe({ connect, sleep })[Symbol.asyncIterator]();

    expect(positionsOf(await take(iterator, 1))).to.deep.equal(['event 10']);
    const error = await iterationError(iterator);

    expect(error).to.be.instanceOf(SubscriptionDroppedError);
    expect((error as Error).cause).to.equal(denied);
    expect(starts, 'no resubscribe').to.have.length(1);
    expect(delays).to.deep.equal([]);
  });

  it('backs off exponentially with jitter up to the ceiling, then gives up after maxAttempts', async () => {
    const unavailable = new StoreUnavailableError('server down');
    const { starts, connect } = scriptedConnections([() => fakeSource([], unavailable)]);
    const { delays, sleep } = instantSleep();
    const iterator = subscribe({ connect, sleep, maxAttempts: 8 })[Symbol.asyncIterator]();

    const error = await iterationError(iterator);

    expect(error).to.be.instanceOf(SubscriptionDroppedError);
    expect((error as Error).cause).to.equal(unavailable);
    expect(starts, 'the first connection and 8 resubscribes').to.have.length(9);
    // random() = 0.5 puts each delay at 3/4 of 100 ms doubled per attempt, capped at 5 s.
    expect(delays).to.deep.equal([75, 150, 300, 600, 1_200, 2_400, 3_750, 3_750]);
  });

  it('keeps every backoff delay within the upper half of its ceiling', () => {
    for (const random of [0, 0.25, 0.999]) {
      for (let attempt = 1; attempt <= 12; attempt++) {
        const ceiling = Math.min(5_000, 100 * 2 ** (attempt - 1));
        const delay = backoffDelay(attempt, 100, 5_000, () => random);
        expect(delay).to.be.within(ceiling / 2, ceiling);
      }
    }
  });

  it('counts attempts afresh once a connection delivers again', async () => {
    const reset = () => fakeSource([], new StoreUnavailableError('reset'));
    const { starts, connect } = scriptedConnections([
      reset,
      reset,
      () => fakeSource([eventAt(10n)], new StoreUnavailableError('reset')),
      reset,
      () => fakeSource([eventAt(20n)], 'wait'),
    ]);
    const { delays, sleep } = instantSleep();
    const subscription = subscribe({ connect, sleep, maxAttempts: 2 });

    const messages = await take(subscription[Symbol.asyncIterator](), 2);
    await subscription.unsubscribe();

    expect(positionsOf(messages)).to.deep.equal(['event 10', 'event 20']);
    expect(starts, 'four drops in all, never more than two in a row').to.have.length(5);
    expect(delays).to.deep.equal([75, 150, 75, 150]);
  });

  it('with maxAttempts 0, a transient drop ends iteration at once', async () => {
    const { starts, connect } = scriptedConnections([() => fakeSource([], new StoreUnavailableError('reset'))]);
    const iterator = subscribe({ connect, sleep: instantSleep().sleep, maxAttempts: 0 })[Symbol.asyncIterator]();

    expect(await iterationError(iterator)).to.be.instanceOf(SubscriptionDroppedError);
    expect(starts).to.have.length(1);
  });

  it('treats a source that ends by itself as a drop', async () => {
    const { starts, connect } = scriptedConnections([
      () => ({ async *[Symbol.asyncIterator]() { yield eventAt(10n); } }),
      () => fakeSource([eventAt(20n)], 'wait'),
    ]);
    const subscription = subscribe({ connect, sleep: instantSleep().sleep });

    const messages = await take(subscription[Symbol.asyncIterator](), 2);
    await subscription.unsubscribe();

    expect(positionsOf(messages)).to.deep.equal(['event 10', 'event 20']);
    expect(starts).to.deep.equal(['start', 10n]);
  });

  it('unsubscribe ends a waiting iteration cleanly and stops the source', async () => {
    const { sources, connect } = scriptedConnections([() => fakeSource([eventAt(10n)], 'wait')]);
    const subscription = subscribe({ connect });
    const iterator = subscription[Symbol.asyncIterator]();
    await take(iterator, 1);

    const pending = iterator.next();
    await subscription.unsubscribe();

    expect(await pending).to.deep.equal({ done: true, value: undefined });
    expect((sources[0] as ReturnType<typeof fakeSource>).unsubscribed).to.equal(true);
    expect(await iterator.next(), 'stays ended').to.deep.equal({ done: true, value: undefined });
  });

  it('unsubscribe during the backoff ends iteration without waiting it out', async () => {
    const { starts, connect } = scriptedConnections([() => fakeSource([], new StoreUnavailableError('reset'))]);
    let sleeping: (() => void) | undefined;
    const subscription = subscribe({
      connect,
      sleep: (_ms, signal) =>
        new Promise<void>((resolve) => {
          sleeping = resolve;
          signal.addEventListener('abort', () => resolve());
        }),
    });
    const pending = subscription[Symbol.asyncIterator]().next();
    while (sleeping === undefined) await new Promise((resolve) => setImmediate(resolve));

    await subscription.unsubscribe();

    expect(await pending).to.deep.equal({ done: true, value: undefined });
    expect(starts).to.have.length(1);
  });

  it('ends at once when unsubscribed before iterating', async () => {
    const { starts, connect } = scriptedConnections([() => fakeSource([eventAt(10n)], 'wait')]);
    const subscription = subscribe({ connect });

    await subscription.unsubscribe();

    expect(await subscription[Symbol.asyncIterator]().next()).to.deep.equal({ done: true, value: undefined });
    expect(starts).to.deep.equal([]);
  });
});

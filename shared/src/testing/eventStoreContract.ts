import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToEventLoop, setTimeout as pause } from 'node:timers/promises';
import { expect } from 'chai';
import {
  InvalidArgumentError,
  StreamDeletedError,
  StreamNotFoundError,
  SubscriptionDroppedError,
  WrongExpectedRevisionError,
} from '../eventStore/errors.js';
import {
  collect,
  type AppendResult,
  type EventFilter,
  type EventStore,
  type EventToAppend,
  type GlobalPosition,
  type JsonObject,
  type RecordedEvent,
  type Subscription,
  type SubscriptionMessage,
} from '../eventStore/eventStore.js';
import type { EventStoreContractFactory } from './eventStoreContractFactory.js';
import { rejectionOf } from './rejectionOf.js';

/** Upper bound on any single wait for a subscription message. */
const WAIT_MS = 5_000;

/**
 * Every test works in its own streams under a fresh prefix, because against a real server the
 * log is shared and never empty.
 */
const uniquePrefix = (): string => `contract-${randomUUID().replaceAll('-', '')}`;

const newEvent = (type: string, data: JsonObject = {}, metadata?: JsonObject): EventToAppend =>
  metadata === undefined ? { id: randomUUID(), type, data } : { id: randomUUID(), type, data, metadata };

const newEvents = (count: number, type = 'Counted'): EventToAppend[] =>
  Array.from({ length: count }, (_, i) => newEvent(type, { i }));

/** Kept apart from the store's own errors, so a stalled subscription is never taken for a dropped one. */
class WaitTimeoutError extends Error {}

const withTimeout = async <T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WaitTimeoutError(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
};


const expectFailure = async <E extends Error>(
  promise: Promise<unknown>,
  errorType: new (...args: never[]) => E,
  what: string,
): Promise<E> => {
  const error = await rejectionOf(promise, what);
  expect(error, `${what} failed with ${String(error)}`).to.be.instanceOf(errorType);
  return error as E;
};

const expectRecordedTypes = (event: RecordedEvent): void => {
  expect(typeof event.revision, `revision of ${event.id}`).to.equal('bigint');
  expect(typeof event.position, `position of ${event.id}`).to.equal('bigint');
  expect(event.created, `created of ${event.id}`).to.be.instanceOf(Date);
  expect(Number.isNaN(event.created.getTime()), `created of ${event.id} is a valid date`).to.equal(false);
};

const expectStrictlyIncreasing = (positions: readonly bigint[], what: string): void => {
  positions.slice(1).forEach((position, i) => {
    expect(position > positions[i]!, `${what}: ${position} after ${positions[i]}`).to.equal(true);
  });
};

const ids = (events: readonly { id: string }[]): string[] => events.map((e) => e.id);

const eventsOf = (messages: readonly SubscriptionMessage[]): RecordedEvent[] =>
  messages.flatMap((m) => (m.kind === 'event' ? [m.event] : []));

type SubscriptionReading = 'one at a time' | 'in runs';

/**
 * Pulls a subscription one message at a time so every wait is bounded and the full message
 * sequence (events, caughtUp, checkpoints) can be asserted afterwards.
 */
class SubscriptionReader {
  readonly messages: SubscriptionMessage[] = [];
  /** How many messages each run held, when read in runs. */
  readonly runLengths: number[] = [];
  private readonly iterator: AsyncIterator<SubscriptionMessage>;
  private ended = false;

  constructor(
    private readonly subscription: Subscription,
    private readonly label: string,
    way: SubscriptionReading = 'one at a time',
  ) {
    this.iterator = way === 'one at a time' ? subscription[Symbol.asyncIterator]() : this.flatten(subscription.runs());
  }

  private async *flatten(runs: AsyncIterableIterator<readonly SubscriptionMessage[]>): AsyncGenerator<SubscriptionMessage> {
    for await (const run of runs) {
      this.runLengths.push(run.length);
      yield* run;
    }
  }

  get events(): RecordedEvent[] {
    return eventsOf(this.messages);
  }

  hasCaughtUp(): boolean {
    return this.messages.some((m) => m.kind === 'caughtUp');
  }

  /**
   * Reads until `done()` holds. `slow` yields to the event loop after each message, like a
   * consumer doing I/O, so that concurrent appends commit while the subscription catches up.
   */
  async readUntil(done: () => boolean, what: string, slow = false): Promise<void> {
    while (!done()) {
      if (slow) await yieldToEventLoop();
      if (!(await this.pull(what))) throw new Error(`${this.label} ended while waiting for ${what}`);
    }
  }

  readEvents(count: number, what: string): Promise<void> {
    return this.readUntil(() => this.events.length >= count, what);
  }

  readUntilEvent(id: string, what: string): Promise<void> {
    return this.readUntil(() => this.events.some((e) => e.id === id), what);
  }

  /** Reads until iteration ends; returns what it threw, or `undefined` when it just ended. */
  async readToEnd(what: string): Promise<unknown> {
    try {
      while (await this.pull(what));
      return undefined;
    } catch (error) {
      if (error instanceof WaitTimeoutError) throw error;
      return error;
    }
  }

  /** Records the next message; `false` when iteration has ended. */
  private async pull(what: string): Promise<boolean> {
    let result: IteratorResult<SubscriptionMessage>;
    try {
      result = await withTimeout(this.iterator.next(), `${this.label}: ${what}`);
    } catch (error) {
      if (!(error instanceof WaitTimeoutError)) this.ended = true;
      throw error;
    }
    if (result.done) {
      this.ended = true;
      return false;
    }
    if (result.value.kind === 'event') expectRecordedTypes(result.value.event);
    this.messages.push(result.value);
    return true;
  }

  async unsubscribe(): Promise<void> {
    this.ended = true;
    await this.subscription.unsubscribe();
  }

  /** Cleanup for `finally`: a subscription that already ended needs no unsubscribe. */
  async close(): Promise<void> {
    if (!this.ended) await this.unsubscribe();
  }
}

/** A tiny fold for the time-travel tests: a balance and the number of movements. */
interface Balance {
  balance: number;
  movements: number;
}

const foldBalance = (events: readonly RecordedEvent[]): Balance =>
  events.reduce<Balance>(
    (state, event) => ({ balance: state.balance + Number(event.data.amount), movements: state.movements + 1 }),
    { balance: 0, movements: 0 },
  );

/**
 * Registers the event store contract: the semantics of the `EventStore` port that every adapter
 * must share (EventStoreDB's, see the port's doc comments), run against the adapter `factory`
 * builds. Safe to run against a shared, non-empty server log.
 */
export const describeEventStoreContract = (factory: EventStoreContractFactory): void => {
  describe(`event store contract: ${factory.name}`, () => {
    let store: EventStore;

    before(async () => {
      store = await factory.create();
    });

    after(async () => {
      await store?.close();
    });

    const readStream = (name: string, options?: Parameters<EventStore['readStream']>[1]) =>
      collect(store.readStream(name, options));

    const readRevisions = async (
      name: string,
      options?: Parameters<EventStore['readStream']>[1],
    ): Promise<bigint[]> => (await readStream(name, options)).map((e) => e.revision);

    /** The position to subscribe or read from so that only events appended afterwards count. */
    const startingPoint = async (): Promise<GlobalPosition | 'start'> => (await store.headPosition()) ?? 'start';

    const subscribe = (
      label: string,
      fromPosition: GlobalPosition | 'start' | 'end',
      filter: EventFilter,
      checkpointInterval?: number,
      way?: SubscriptionReading,
    ): SubscriptionReader =>
      new SubscriptionReader(
        store.subscribeToAll(
          checkpointInterval === undefined ? { fromPosition, filter } : { fromPosition, filter, checkpointInterval },
        ),
        label,
        way,
      );

    const expectStreamNotFound = async (name: string, what: string): Promise<void> => {
      const iterable = store.readStream(name);
      const error = await expectFailure(collect(iterable), StreamNotFoundError, what);
      expect(error.streamName).to.equal(name);
    };

    describe('append and read back', () => {
      it('round-trips event types, data and metadata as JSON', async () => {
        const name = `${uniquePrefix()}-a`;
        const occurredAt = new Date('2024-02-29T12:34:56.789Z');
        // The port types data as JSON; a Date slips through in practice and must come back as JSON would.
        const withDate = { occurredAt, amount: 12.5 } as unknown as JsonObject;
        const nested = { account: { id: 'acc-1', tags: ['a', 'b'], limits: { daily: 100, flag: true, none: null } } };
        const metadata = { $correlationId: 'corr-1', $causationId: 'cause-1', actor: { id: 'u1' } };
        const sent = [newEvent('Deposited', withDate, metadata), newEvent('Tagged', nested)];

        await store.appendToStream(name, sent, { expectedRevision: 'no_stream' });
        const read = await readStream(name);

        expect(read).to.have.length(2);
        read.forEach(expectRecordedTypes);
        expect(read.map((e) => [e.streamName, e.id, e.type])).to.deep.equal([
          [name, sent[0]!.id, 'Deposited'],
          [name, sent[1]!.id, 'Tagged'],
        ]);
        expect(read[0]!.data).to.deep.equal({ occurredAt: '2024-02-29T12:34:56.789Z', amount: 12.5 });
        expect(read[0]!.metadata).to.deep.equal(metadata);
        expect(read[1]!.data).to.deep.equal(nested);
        expect(read[1]!.metadata, 'metadata of an event appended without any').to.equal(undefined);
      });

      it('returns fresh objects: neither the appended input nor an earlier read aliases the stored event', async () => {
        const name = `${uniquePrefix()}-a`;
        const data = { list: [1, 2], inner: { x: 1 } };
        await store.appendToStream(name, [newEvent('Shaped', data)]);
        data.list.push(3);
        data.inner.x = 99;

        const first = await readStream(name);
        (first[0]!.data.inner as JsonObject).x = 42;
        const second = await readStream(name);

        expect(second[0]!.data).to.deep.equal({ list: [1, 2], inner: { x: 1 } });
      });

      it('numbers revisions from 0 without gaps and gives increasing bigint positions within and across appends', async () => {
        const name = `${uniquePrefix()}-a`;
        const first = await store.appendToStream(name, newEvents(3));
        const second = await store.appendToStream(name, newEvents(2));

        const read = await readStream(name);

        expect(read.map((e) => e.revision)).to.deep.equal([0n, 1n, 2n, 3n, 4n]);
        expectStrictlyIncreasing(read.map((e) => e.position), 'positions in a stream');
        expect(second.position > first.position, 'second append after the first').to.equal(true);
        read.slice(1).forEach((event, i) => {
          expect(event.created.getTime(), 'created never decreases').to.be.at.least(read[i]!.created.getTime());
        });
      });

      it("returns the last event's revision and position from an append", async () => {
        const name = `${uniquePrefix()}-a`;
        const first = await store.appendToStream(name, newEvents(3));
        const second = await store.appendToStream(name, newEvents(2));

        const read = await readStream(name);

        for (const result of [first, second]) {
          expect(typeof result.nextExpectedRevision).to.equal('bigint');
          expect(typeof result.position).to.equal('bigint');
        }
        expect(first.nextExpectedRevision).to.equal(2n);
        expect(first.position).to.equal(read[2]!.position);
        expect(second.nextExpectedRevision).to.equal(4n);
        expect(second.position).to.equal(read[4]!.position);
      });

      it('orders positions across streams in commit order', async () => {
        const prefix = uniquePrefix();
        const a = await store.appendToStream(`${prefix}-a`, newEvents(1));
        const b = await store.appendToStream(`${prefix}-b`, newEvents(1));
        const c = await store.appendToStream(`${prefix}-a`, newEvents(1));

        expectStrictlyIncreasing([a.position, b.position, c.position], 'positions across streams');
      });

      it('writes a multi-event append atomically: all of its events, or none when one is invalid', async () => {
        const name = `${uniquePrefix()}-a`;
        const batch = newEvents(5);
        await store.appendToStream(name, batch);
        expect(ids(await readStream(name))).to.deep.equal(ids(batch));

        const bad = [...newEvents(2), { ...newEvent('Bad'), id: 'not-a-uuid' }];
        await expectFailure(store.appendToStream(name, bad), InvalidArgumentError, 'a batch ending with an invalid id');
        expect(ids(await readStream(name)), 'nothing of the invalid batch is written').to.deep.equal(ids(batch));
      });
    });

    describe('expected revision', () => {
      const expectConflict = async (
        promise: Promise<unknown>,
        expected: { streamName: string; expectedRevision: unknown; actualRevision: unknown },
      ): Promise<void> => {
        const error = await expectFailure(promise, WrongExpectedRevisionError, 'the append');
        expect({
          streamName: error.streamName,
          expectedRevision: error.expectedRevision,
          actualRevision: error.actualRevision,
        }).to.deep.equal(expected);
      };

      it("'any' appends whether or not the stream exists", async () => {
        const name = `${uniquePrefix()}-a`;
        const created = await store.appendToStream(name, newEvents(1), { expectedRevision: 'any' });
        const extended = await store.appendToStream(name, newEvents(1), { expectedRevision: 'any' });
        const defaulted = await store.appendToStream(name, newEvents(1));

        expect([created, extended, defaulted].map((r) => r.nextExpectedRevision)).to.deep.equal([0n, 1n, 2n]);
      });

      it("'no_stream' succeeds on a missing stream and fails with the current revision on an existing one", async () => {
        const name = `${uniquePrefix()}-a`;
        const result = await store.appendToStream(name, newEvents(2), { expectedRevision: 'no_stream' });
        expect(result.nextExpectedRevision).to.equal(1n);

        await expectConflict(store.appendToStream(name, newEvents(1), { expectedRevision: 'no_stream' }), {
          streamName: name,
          expectedRevision: 'no_stream',
          actualRevision: 1n,
        });
        expect(await readRevisions(name)).to.deep.equal([0n, 1n]);
      });

      it("'stream_exists' fails with actual 'no_stream' on a missing stream and succeeds on an existing one", async () => {
        const name = `${uniquePrefix()}-a`;
        await expectConflict(store.appendToStream(name, newEvents(1), { expectedRevision: 'stream_exists' }), {
          streamName: name,
          expectedRevision: 'stream_exists',
          actualRevision: 'no_stream',
        });
        await expectStreamNotFound(name, 'reading the stream after the failed append');

        await store.appendToStream(name, newEvents(1));
        const result = await store.appendToStream(name, newEvents(1), { expectedRevision: 'stream_exists' });
        expect(result.nextExpectedRevision).to.equal(1n);
      });

      it('an exact revision succeeds only when it is the current revision', async () => {
        const name = `${uniquePrefix()}-a`;
        await store.appendToStream(name, newEvents(2));

        await expectConflict(store.appendToStream(name, newEvents(1), { expectedRevision: 0n }), {
          streamName: name,
          expectedRevision: 0n,
          actualRevision: 1n,
        });
        await expectConflict(store.appendToStream(name, newEvents(1), { expectedRevision: 5n }), {
          streamName: name,
          expectedRevision: 5n,
          actualRevision: 1n,
        });
        expect(await readRevisions(name), 'failed appends write nothing').to.deep.equal([0n, 1n]);

        const result = await store.appendToStream(name, newEvents(1), { expectedRevision: 1n });
        expect(result.nextExpectedRevision).to.equal(2n);
      });

      it("an exact revision on a missing stream fails with actual 'no_stream'", async () => {
        const name = `${uniquePrefix()}-a`;
        await expectConflict(store.appendToStream(name, newEvents(1), { expectedRevision: 0n }), {
          streamName: name,
          expectedRevision: 0n,
          actualRevision: 'no_stream',
        });
        await expectStreamNotFound(name, 'reading the stream after the failed append');
      });

      it('lets exactly one of several concurrent appends at the same revision win', async () => {
        const name = `${uniquePrefix()}-a`;
        await store.appendToStream(name, newEvents(1));

        const outcomes = await Promise.allSettled(
          Array.from({ length: 5 }, () => store.appendToStream(name, newEvents(1), { expectedRevision: 0n })),
        );

        const winners = outcomes.filter((o) => o.status === 'fulfilled');
        const losers = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
        expect(winners, 'successful appends').to.have.length(1);
        losers.forEach((reason) => expect(reason).to.be.instanceOf(WrongExpectedRevisionError));
        expect(await readRevisions(name)).to.deep.equal([0n, 1n]);
      });

      it('rejects a negative expected revision, or one past 2^63 - 1, without writing', async () => {
        const name = `${uniquePrefix()}-a`;
        for (const expectedRevision of [-1n, 2n ** 63n, 2n ** 64n - 1n]) {
          await expectFailure(
            store.appendToStream(name, newEvents(1), { expectedRevision }),
            InvalidArgumentError,
            `an append expecting revision ${expectedRevision}`,
          );
        }
        await expectStreamNotFound(name, 'reading the stream after the rejected append');
      });

      it('rejects an empty batch', async () => {
        const name = `${uniquePrefix()}-a`;
        await expectFailure(store.appendToStream(name, []), InvalidArgumentError, 'an empty append');
        await expectStreamNotFound(name, 'reading the stream after the rejected append');
      });

      it('rejects data that is not JSON (a bigint) without writing any event of the batch', async () => {
        const name = `${uniquePrefix()}-a`;
        // Deliberately outside the JSON type: callers holding bigint amounts must convert them first.
        const bigintData = { amount: 10n } as unknown as JsonObject;
        await expectFailure(
          store.appendToStream(name, [newEvent('Fine'), newEvent('Deposited', bigintData)]),
          InvalidArgumentError,
          'an append with a bigint in its data',
        );
        await expectStreamNotFound(name, 'reading the stream after the rejected append');
      });

      it('rejects an event id that is not a UUID', async () => {
        const name = `${uniquePrefix()}-a`;
        await expectFailure(
          store.appendToStream(name, [{ ...newEvent('Deposited'), id: 'order-42' }]),
          InvalidArgumentError,
          'an append with a non-UUID id',
        );
        await expectStreamNotFound(name, 'reading the stream after the rejected append');
      });
    });

    describe('idempotent appends', () => {
      const expectSameResult = (actual: AppendResult, original: AppendResult): void => {
        expect(actual.nextExpectedRevision).to.equal(original.nextExpectedRevision);
        expect(actual.position).to.equal(original.position);
      };

      it('a retry with the same ids at the same exact revision returns the original result and writes nothing', async () => {
        const name = `${uniquePrefix()}-a`;
        await store.appendToStream(name, newEvents(2));
        const batch = newEvents(2);
        const original = await store.appendToStream(name, batch, { expectedRevision: 1n });

        const retried = await store.appendToStream(name, batch, { expectedRevision: 1n });

        expectSameResult(retried, original);
        expect(await readRevisions(name)).to.deep.equal([0n, 1n, 2n, 3n]);
      });

      it("a retry with the same ids and 'no_stream' returns the original result and writes nothing", async () => {
        const name = `${uniquePrefix()}-a`;
        const batch = newEvents(3);
        const original = await store.appendToStream(name, batch, { expectedRevision: 'no_stream' });

        const retried = await store.appendToStream(name, batch, { expectedRevision: 'no_stream' });

        expectSameResult(retried, original);
        expect(ids(await readStream(name))).to.deep.equal(ids(batch));
      });

      it('a partially matching retry fails with WrongExpectedRevisionError and writes nothing', async () => {
        const name = `${uniquePrefix()}-a`;
        await store.appendToStream(name, newEvents(1));
        const batch = newEvents(2);
        await store.appendToStream(name, batch, { expectedRevision: 0n });

        await expectFailure(
          store.appendToStream(name, [batch[0]!, newEvent('Other')], { expectedRevision: 0n }),
          WrongExpectedRevisionError,
          'a retry whose second id differs',
        );
        await expectFailure(
          store.appendToStream(name, [...batch, newEvent('Extra')], { expectedRevision: 0n }),
          WrongExpectedRevisionError,
          'a retry with one id more than the original',
        );
        expect(await readRevisions(name)).to.deep.equal([0n, 1n, 2n]);
      });

      it('the same ids in another stream are new events', async () => {
        const prefix = uniquePrefix();
        const batch = newEvents(2);
        const first = await store.appendToStream(`${prefix}-a`, batch, { expectedRevision: 'no_stream' });

        const second = await store.appendToStream(`${prefix}-b`, batch, { expectedRevision: 'no_stream' });

        expect(second.nextExpectedRevision).to.equal(1n);
        expect(second.position > first.position, 'written anew after the first stream').to.equal(true);
        expect(ids(await readStream(`${prefix}-b`))).to.deep.equal(ids(batch));
      });
    });

    describe('read boundaries and maxCount', () => {
      let name: string;
      let prefix: string;
      let events: RecordedEvent[];

      before(async () => {
        prefix = uniquePrefix();
        name = `${prefix}-a`;
        await store.appendToStream(name, newEvents(8), { expectedRevision: 'no_stream' });
        events = await readStream(name);
      });

      it('readStream forwards from a revision includes that revision', async () => {
        expect(await readRevisions(name, { fromRevision: 1n })).to.deep.equal([1n, 2n, 3n, 4n, 5n, 6n, 7n]);
        expect(await readRevisions(name, { fromRevision: 7n })).to.deep.equal([7n]);
      });

      it('readStream backwards from a revision includes that revision', async () => {
        expect(await readRevisions(name, { fromRevision: 1n, direction: 'backwards' })).to.deep.equal([1n, 0n]);
        expect(await readRevisions(name, { fromRevision: 'end', direction: 'backwards' })).to.deep.equal(
          [7n, 6n, 5n, 4n, 3n, 2n, 1n, 0n],
        );
      });

      it("readStream from a revision past the end, or forwards from 'end', gives no events", async () => {
        expect(await readRevisions(name, { fromRevision: 8n })).to.deep.equal([]);
        expect(await readRevisions(name, { fromRevision: 1000n })).to.deep.equal([]);
        expect(await readRevisions(name, { fromRevision: 'end' })).to.deep.equal([]);
      });

      it('maxCount limits the number of events returned', async () => {
        expect(await readRevisions(name, { maxCount: 3 })).to.deep.equal([0n, 1n, 2n]);
        expect(await readRevisions(name, { fromRevision: 2n, maxCount: 2 })).to.deep.equal([2n, 3n]);
        expect(await readRevisions(name, { fromRevision: 5n, direction: 'backwards', maxCount: 2 })).to.deep.equal([
          5n,
          4n,
        ]);
      });

      it("backwards from 'end' with maxCount 1 gives the last event", async () => {
        const [last] = await readStream(name, { fromRevision: 'end', direction: 'backwards', maxCount: 1 });
        expect(last?.id).to.equal(events[7]!.id);
        const [byDefault] = await readStream(name, { direction: 'backwards', maxCount: 1 });
        expect(byDefault?.id, "backwards starts from 'end' by default").to.equal(events[7]!.id);
      });

      it("readAll forwards from an event's position includes that event", async () => {
        const [atPosition] = await collect(store.readAll({ fromPosition: events[3]!.position, maxCount: 1 }));
        expect(atPosition?.id).to.equal(events[3]!.id);

        const rest = await collect(
          store.readAll({ fromPosition: events[3]!.position, filter: { streamNamePrefixes: [prefix] } }),
        );
        expect(ids(rest)).to.deep.equal(ids(events.slice(3)));
      });

      it("readAll backwards from an event's position includes that event", async () => {
        const read = await collect(
          store.readAll({
            fromPosition: events[3]!.position,
            direction: 'backwards',
            maxCount: 2,
            filter: { streamNamePrefixes: [prefix] },
          }),
        );
        expect(ids(read)).to.deep.equal([events[3]!.id, events[2]!.id]);
      });

      it('readAll returns the same recorded events as readStream, in position order', async () => {
        const all = await collect(
          store.readAll({ fromPosition: events[0]!.position, filter: { streamNamePrefixes: [prefix] } }),
        );
        all.forEach(expectRecordedTypes);
        expect(all.map((e) => [e.streamName, e.id, e.revision, e.position, e.type, e.created.getTime()])).to.deep.equal(
          events.map((e) => [e.streamName, e.id, e.revision, e.position, e.type, e.created.getTime()]),
        );
        expect(all.map((e) => e.data)).to.deep.equal(events.map((e) => e.data));

        const [latest] = await collect(
          store.readAll({
            fromPosition: 'end',
            direction: 'backwards',
            maxCount: 1,
            filter: { streamNamePrefixes: [prefix] },
          }),
        );
        expect(latest?.id, "the latest event of the prefix read backwards from 'end'").to.equal(events[7]!.id);
      });
    });

    describe('missing, deleted and tombstoned streams', () => {
      it('reading a missing stream throws StreamNotFoundError while iterating', async () => {
        await expectStreamNotFound(`${uniquePrefix()}-missing`, 'reading a missing stream');
      });

      it('a soft-deleted stream reads as not found', async () => {
        const name = `${uniquePrefix()}-a`;
        await store.appendToStream(name, newEvents(3));

        await store.deleteStream(name);

        await expectStreamNotFound(name, 'reading a soft-deleted stream');
      });

      it('deleteStream checks the expected revision', async () => {
        const name = `${uniquePrefix()}-a`;
        await store.appendToStream(name, newEvents(3));

        await expectFailure(
          store.deleteStream(name, { expectedRevision: 0n }),
          WrongExpectedRevisionError,
          'deleting with a stale revision',
        );
        expect(await readRevisions(name)).to.deep.equal([0n, 1n, 2n]);
        await expectFailure(
          store.deleteStream(name, { expectedRevision: 'no_stream' }),
          WrongExpectedRevisionError,
          "deleting a stream that exists with 'no_stream'",
        );
        expect(await readRevisions(name)).to.deep.equal([0n, 1n, 2n]);

        await store.deleteStream(name, { expectedRevision: 2n });
        await expectStreamNotFound(name, 'reading the deleted stream');
      });

      it("appending to a soft-deleted stream recreates it ('no_stream' holds) with revisions after the old last", async () => {
        const name = `${uniquePrefix()}-a`;
        await store.appendToStream(name, newEvents(3));
        await store.deleteStream(name);

        const recreated = newEvents(1);
        const result = await store.appendToStream(name, recreated, { expectedRevision: 'no_stream' });

        expect(result.nextExpectedRevision > 2n, `revision ${result.nextExpectedRevision} continues after 2`).to.equal(
          true,
        );
        const read = await readStream(name);
        expect(ids(read), 'only the events appended after the delete are visible').to.deep.equal(ids(recreated));
        expect(read[0]!.revision).to.equal(result.nextExpectedRevision);

        const next = await store.appendToStream(name, newEvents(1), { expectedRevision: result.nextExpectedRevision });
        expect(next.nextExpectedRevision).to.equal(result.nextExpectedRevision + 1n);
      });

      it('a tombstoned stream can be neither read nor appended to', async () => {
        const name = `${uniquePrefix()}-a`;
        await store.appendToStream(name, newEvents(2));

        await store.tombstoneStream(name);

        const readError = await expectFailure(
          collect(store.readStream(name)),
          StreamDeletedError,
          'reading a tombstoned stream',
        );
        expect(readError.streamName).to.equal(name);
        for (const expectedRevision of ['any', 'no_stream', 1n] as const) {
          const appendError = await expectFailure(
            store.appendToStream(name, newEvents(1), { expectedRevision }),
            StreamDeletedError,
            `appending to a tombstoned stream expecting ${String(expectedRevision)}`,
          );
          expect(appendError.streamName).to.equal(name);
        }
      });
    });

    describe('subscriptions to $all', () => {
      for (const way of ['one at a time', 'in runs'] as const) {
        it(`catches up, then goes live with no gap and no duplicate, and says when it caught up (read ${way})`, async () => {
          const prefix = uniquePrefix();
          const from = await startingPoint();
          const before: EventToAppend[] = [];
          // More events than one catch-up page of either adapter, so catch-up takes several reads.
          for (let i = 0; i < 30; i++) {
            const batch = newEvents(20);
            await store.appendToStream(`${prefix}-${i % 3}`, batch);
            before.push(...batch);
          }

          const reader = subscribe('catch-up subscription', from, { streamNamePrefixes: [prefix] }, undefined, way);
          try {
            const during = newEvents(40, 'Live');
            const appendingWhileCatchingUp = (async () => {
              for (const event of during) {
                await store.appendToStream(`${prefix}-live`, [event]);
                // Spreads the appends so that some commit during catch-up and some after the switch.
                await pause(2);
              }
            })();
            const total = before.length + during.length;
            await reader.readUntil(
              () => reader.events.length >= total && reader.hasCaughtUp(),
              `${total} events and caughtUp`,
              true,
            );
            await appendingWhileCatchingUp;

            const delivered = reader.events;
            expect(ids(delivered), 'events in append order, each once').to.deep.equal(ids([...before, ...during]));
            expectStrictlyIncreasing(delivered.map((e) => e.position), 'delivered positions');

            const caughtUpAt = reader.messages.findIndex((m) => m.kind === 'caughtUp');
            const lastBeforeSubscribing = reader.messages.findIndex(
              (m) => m.kind === 'event' && m.event.id === before.at(-1)!.id,
            );
            expect(caughtUpAt, 'caughtUp comes after the events committed before subscribing').to.be.greaterThan(
              lastBeforeSubscribing,
            );
            const caughtUp = reader.messages[caughtUpAt] as Extract<SubscriptionMessage, { kind: 'caughtUp' }>;
            if (caughtUp.position !== undefined) {
              expect(typeof caughtUp.position).to.equal('bigint');
              expect(caughtUp.position >= delivered[before.length - 1]!.position).to.equal(true);
            }

            const sentinel = newEvent('Sentinel');
            await store.appendToStream(`${prefix}-live`, [sentinel]);
            const seen = reader.events.length;
            await reader.readUntilEvent(sentinel.id, 'the sentinel event');
            expect(ids(reader.events.slice(seen)), 'nothing but the sentinel after the live switch').to.deep.equal([
              sentinel.id,
            ]);
            if (way === 'in runs') expect(reader.runLengths.every((length) => length > 0), 'no empty run').to.equal(true);
          } finally {
            await reader.close();
          }
        });
      }

      it('from a position starts with the first event after it', async () => {
        const prefix = uniquePrefix();
        await store.appendToStream(`${prefix}-a`, newEvents(8));
        const events = await readStream(`${prefix}-a`);

        const reader = subscribe('subscription from a position', events[0]!.position, {
          streamNamePrefixes: [prefix],
        });
        try {
          await reader.readUntil(() => reader.hasCaughtUp(), 'caughtUp');
          expect(ids(reader.events), 'the events after the position, not the one at it').to.deep.equal(
            ids(events.slice(1)),
          );
        } finally {
          await reader.close();
        }
      });

      it("from 'end' delivers only events appended after subscribing", async () => {
        const prefix = uniquePrefix();
        await store.appendToStream(`${prefix}-a`, newEvents(3));

        const reader = subscribe("subscription from 'end'", 'end', { streamNamePrefixes: [prefix] });
        try {
          await reader.readUntil(() => reader.hasCaughtUp(), 'caughtUp');
          const later = newEvents(3);
          await store.appendToStream(`${prefix}-a`, later);
          await reader.readEvents(3, 'the events appended after subscribing');
          expect(ids(reader.events), 'only the events appended after subscribing').to.deep.equal(ids(later));
        } finally {
          await reader.close();
        }
      });

      it('filters by stream name and event type prefixes and excludes system events on request', async () => {
        const prefix = uniquePrefix();
        const name = `${prefix}-a`;
        const filter = { streamNamePrefixes: [name, `$$${name}`] };
        const from = await startingPoint();
        const all = subscribe('subscription with system events', from, filter);
        const userFilter = { ...filter, excludeSystemEvents: true };
        const userOnly = subscribe('subscription without system events', from, userFilter);
        try {
          const opened = newEvent('Opened');
          const marker = newEvent('$contract-marker');
          const closed = newEvent('Closed');
          await store.appendToStream(name, [opened, marker]);
          await store.setStreamMetadata(name, { custom: { owner: 'contract' } });
          await store.appendToStream(`${prefix}-b`, newEvents(2, 'Elsewhere'));
          await store.appendToStream(name, [closed]);

          const expectedAll = [
            [name, 'Opened'],
            [name, '$contract-marker'],
            [`$$${name}`, '$metadata'],
            [name, 'Closed'],
          ];
          const expectedUserOnly = [
            [name, 'Opened'],
            [name, 'Closed'],
          ];
          const shape = (events: readonly RecordedEvent[]) => events.map((e) => [e.streamName, e.type]);

          await all.readUntilEvent(closed.id, 'the closing event');
          await userOnly.readUntilEvent(closed.id, 'the closing event');
          expect(shape(all.events), 'with system events').to.deep.equal(expectedAll);
          expect(shape(userOnly.events), 'without system events').to.deep.equal(expectedUserOnly);

          const fromOpened = (await readStream(name))[0]!.position;
          expect(shape(await collect(store.readAll({ fromPosition: fromOpened, filter })))).to.deep.equal(expectedAll);
          expect(shape(await collect(store.readAll({ fromPosition: fromOpened, filter: userFilter })))).to.deep.equal(
            expectedUserOnly,
          );
          const typeFilter = { streamNamePrefixes: [prefix], eventTypePrefixes: ['Op', 'Cl'] };
          expect(
            shape(await collect(store.readAll({ fromPosition: fromOpened, filter: typeFilter }))),
            'stream and type prefixes combine with AND',
          ).to.deep.equal(expectedUserOnly);
        } finally {
          await all.close();
          await userOnly.close();
        }
      });

      it('resumes from a stored position after unsubscribe, with exactly the remaining events', async () => {
        const prefix = uniquePrefix();
        const filter = { streamNamePrefixes: [prefix] };
        const from = await startingPoint();
        const appended = newEvents(10);
        await store.appendToStream(`${prefix}-a`, appended);

        const first = subscribe('first subscription', from, filter);
        let stored: GlobalPosition;
        try {
          await first.readEvents(4, 'the first four events');
          const consumed = first.events.slice(0, 4);
          expect(ids(consumed)).to.deep.equal(ids(appended.slice(0, 4)));
          stored = consumed[3]!.position;

          await first.unsubscribe();
          const ending = await first.readToEnd('iteration to end after unsubscribe');
          expect(ending, 'iteration ends without throwing after unsubscribe').to.equal(undefined);
        } finally {
          await first.close();
        }

        const second = subscribe('resumed subscription', stored, filter);
        try {
          await second.readUntil(() => second.hasCaughtUp(), 'caughtUp');
          expect(ids(second.events), 'exactly the six events after the stored position').to.deep.equal(
            ids(appended.slice(4)),
          );
        } finally {
          await second.close();
        }
      });

      it(
        'after a forced drop, iteration throws SubscriptionDroppedError; resuming from the last delivered ' +
          'position loses and repeats nothing',
        async function () {
          if (!factory.dropSubscriptions) {
            console.log(`    (${factory.name} offers no way to force a drop: this test is skipped for it)`);
            this.skip();
          }
          const prefix = uniquePrefix();
          const filter = { streamNamePrefixes: [prefix] };
          const from = await startingPoint();
          const beforeDrop = newEvents(10);
          await store.appendToStream(`${prefix}-a`, beforeDrop);

          const first = subscribe('subscription to be dropped', from, filter);
          try {
            await first.readEvents(3, 'three events before the drop');
            factory.dropSubscriptions!(store);
            const error = await first.readToEnd('the subscription to fail after the drop');
            expect(error, `iteration after the drop ended with ${String(error)}`).to.be.instanceOf(
              SubscriptionDroppedError,
            );
          } finally {
            await first.close();
          }
          const delivered = first.events;
          expect(delivered.length, 'events delivered before the drop').to.be.at.least(3);

          const afterDrop = newEvents(5);
          await store.appendToStream(`${prefix}-a`, afterDrop);

          const second = subscribe('resubscription after the drop', delivered.at(-1)!.position, filter);
          try {
            const total = beforeDrop.length + afterDrop.length;
            await second.readUntil(
              () => delivered.length + second.events.length >= total && second.hasCaughtUp(),
              `the remaining ${total - delivered.length} events and caughtUp`,
            );
            expect(ids([...delivered, ...second.events]), 'no gap and no duplicate across the drop').to.deep.equal(
              ids([...beforeDrop, ...afterDrop]),
            );
          } finally {
            await second.close();
          }
        },
      );

      it('delivers checkpoints with monotonic positions past filtered-out events', async () => {
        const prefix = uniquePrefix();
        const from = await startingPoint();
        const wanted: EventToAppend[] = [];
        for (let i = 0; i < 5; i++) {
          await store.appendToStream(`${prefix}-noise`, newEvents(40, 'Noise'));
          const event = newEvent('Wanted', { i });
          await store.appendToStream(`${prefix}-wanted`, [event]);
          wanted.push(event);
        }

        const reader = subscribe('filtered subscription', from, { streamNamePrefixes: [`${prefix}-wanted`] }, 1);
        try {
          await reader.readUntil(
            () => reader.events.length >= wanted.length && reader.hasCaughtUp(),
            'the wanted events and caughtUp',
          );
          expect(ids(reader.events)).to.deep.equal(ids(wanted));

          const checkpoints = reader.messages.flatMap((m) => (m.kind === 'checkpoint' ? [m.position] : []));
          expect(checkpoints, 'checkpoints while scanning 200 filtered-out events').to.not.be.empty;
          checkpoints.forEach((position) => expect(typeof position).to.equal('bigint'));
          checkpoints.slice(1).forEach((position, i) => {
            expect(position >= checkpoints[i]!, `checkpoint ${position} after ${checkpoints[i]}`).to.equal(true);
          });

          let checkpointed: bigint | undefined;
          for (const message of reader.messages) {
            if (message.kind === 'checkpoint') checkpointed = message.position;
            if (message.kind === 'event' && checkpointed !== undefined) {
              expect(
                message.event.position > checkpointed,
                `event at ${message.event.position} delivered after checkpoint ${checkpointed}`,
              ).to.equal(true);
            }
          }
        } finally {
          await reader.close();
        }
      });
    });

    describe('stream metadata', () => {
      it('round-trips metadata, custom keys included, with the metastream revision', async () => {
        const name = `${uniquePrefix()}-a`;
        const none = await store.getStreamMetadata(name);
        expect(none.streamName).to.equal(name);
        expect(none.metastreamRevision).to.equal('no_stream');
        const { maxCount, maxAge, truncateBefore, custom: noCustom } = none.metadata;
        expect([maxCount, maxAge, truncateBefore, noCustom]).to.deep.equal([undefined, undefined, undefined, undefined]);

        const custom = { owner: 'ledger', nested: { tags: ['x'], level: 2 } };
        const first = await store.setStreamMetadata(name, { maxCount: 5, maxAge: 3600, custom });
        expect(first.nextExpectedRevision).to.equal(0n);
        const read = await store.getStreamMetadata(name);
        expect(read.metastreamRevision).to.equal(0n);
        expect(read.metadata.maxCount).to.equal(5);
        expect(read.metadata.maxAge).to.equal(3600);
        expect(read.metadata.truncateBefore).to.equal(undefined);
        expect(read.metadata.custom).to.deep.equal(custom);

        await expectFailure(
          store.setStreamMetadata(name, { maxCount: 1 }, { expectedRevision: 'no_stream' }),
          WrongExpectedRevisionError,
          'setting metadata expecting no metastream',
        );
        const second = await store.setStreamMetadata(name, { truncateBefore: 7n }, { expectedRevision: 0n });
        expect(second.nextExpectedRevision).to.equal(1n);
        const replaced = await store.getStreamMetadata(name);
        expect(replaced.metastreamRevision).to.equal(1n);
        expect(typeof replaced.metadata.truncateBefore).to.equal('bigint');
        expect(replaced.metadata.truncateBefore).to.equal(7n);
        expect(replaced.metadata.maxCount, 'metadata is replaced, not merged').to.equal(undefined);
        expect(replaced.metadata.custom).to.equal(undefined);
      });

      it('maxCount 1 leaves only the last event visible, keeping its revision', async () => {
        const name = `${uniquePrefix()}-a`;
        const appended = newEvents(3);
        await store.appendToStream(name, appended);

        await store.setStreamMetadata(name, { maxCount: 1 });

        const read = await readStream(name);
        expect(read.map((e) => [e.id, e.revision])).to.deep.equal([[appended[2]!.id, 2n]]);
        const [last] = await readStream(name, { direction: 'backwards', maxCount: 1 });
        expect(last?.id).to.equal(appended[2]!.id);
      });

      it('works as a checkpoint stream: metadata first, then optimistic appends', async () => {
        const name = `${uniquePrefix()}-checkpoint`;
        await store.setStreamMetadata(name, { maxCount: 1 });

        const first = await store.appendToStream(name, [newEvent('$checkpoint', { position: '10' })], {
          expectedRevision: 'no_stream',
        });
        const latest = newEvent('$checkpoint', { position: '20' });
        await store.appendToStream(name, [latest], { expectedRevision: first.nextExpectedRevision });

        const read = await readStream(name);
        expect(read.map((e) => [e.id, e.revision, e.data])).to.deep.equal([[latest.id, 1n, { position: '20' }]]);
      });

      it('truncateBefore hides earlier events without renumbering', async () => {
        const name = `${uniquePrefix()}-a`;
        await store.appendToStream(name, newEvents(5));

        await store.setStreamMetadata(name, { truncateBefore: 3n });

        expect(await readRevisions(name)).to.deep.equal([3n, 4n]);
        expect(await readRevisions(name, { direction: 'backwards' })).to.deep.equal([4n, 3n]);
        const next = await store.appendToStream(name, newEvents(1), { expectedRevision: 4n });
        expect(next.nextExpectedRevision).to.equal(5n);
      });
    });

    describe('time travel', () => {
      it('folding up to revision R gives the state right after R was appended', async () => {
        const name = `${uniquePrefix()}-account`;
        const amounts = [100, -30, 45, -5, 12];
        const stateAfterAppend: Balance[] = [];
        for (const amount of amounts) {
          await store.appendToStream(name, [newEvent('Moved', { amount })]);
          stateAfterAppend.push(foldBalance(await readStream(name)));
        }

        for (const [revision, expected] of stateAfterAppend.entries()) {
          const upToRevision = await readStream(name, { maxCount: revision + 1 });
          expect(upToRevision.at(-1)?.revision).to.equal(BigInt(revision));
          expect(foldBalance(upToRevision), `state at revision ${revision}`).to.deep.equal(expected);
        }
      });

      it('folding up to business time T uses occurredAt in the data, not the recording order', async () => {
        const name = `${uniquePrefix()}-account`;
        const movements = [
          { amount: 100, occurredAt: '2024-03-01T09:00:00.000Z' },
          { amount: 50, occurredAt: '2024-03-05T09:00:00.000Z' },
          // Recorded after the previous one but backdated: business time differs from recording order.
          { amount: -30, occurredAt: '2024-03-03T09:00:00.000Z' },
          { amount: 20, occurredAt: '2024-03-10T09:00:00.000Z' },
        ];
        for (const data of movements) await store.appendToStream(name, [newEvent('Moved', data)]);

        const events = await readStream(name);
        const asOf = (t: string) =>
          foldBalance(events.filter((e) => Date.parse(String(e.data.occurredAt)) <= Date.parse(t)));

        expect(asOf('2024-02-28T00:00:00.000Z')).to.deep.equal({ balance: 0, movements: 0 });
        expect(asOf('2024-03-04T00:00:00.000Z')).to.deep.equal({ balance: 70, movements: 2 });
        expect(asOf('2024-03-06T00:00:00.000Z')).to.deep.equal({ balance: 120, movements: 3 });
        expect(asOf('2024-12-31T00:00:00.000Z')).to.deep.equal({ balance: 140, movements: 4 });
        expect(foldBalance(events.slice(0, 2)), 'the same cut by revision differs').to.deep.equal({
          balance: 150,
          movements: 2,
        });
      });
    });

    describe('head position', () => {
      it('is a bigint at or past every position appended, metadata included', async () => {
        const prefix = uniquePrefix();
        const before = await store.headPosition();
        const results = [
          await store.appendToStream(`${prefix}-a`, newEvents(2)),
          await store.appendToStream(`${prefix}-b`, newEvents(1)),
          await store.setStreamMetadata(`${prefix}-a`, { maxCount: 10 }),
        ];

        const head = await store.headPosition();

        expect(typeof head).to.equal('bigint');
        if (before !== undefined) {
          expect(results[0]!.position > before, 'appends land after the old head').to.equal(true);
        }
        for (const result of results) {
          expect(head! >= result.position, `head ${head} at or past ${result.position}`).to.equal(true);
        }
      });
    });
  });
};

import { randomUUID } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import {
  AccessDeniedError,
  CancelledError,
  DeadlineExceededError,
  InvalidArgumentError as ClientInvalidArgumentError,
  MaxAppendSizeExceededError,
  NotLeaderError,
  StreamDeletedError as ClientStreamDeletedError,
  StreamNotFoundError as ClientStreamNotFoundError,
  TimeoutError,
  UnavailableError,
  WrongExpectedVersionError,
  EventStoreDBClient,
} from '@eventstore/db-client';
import { ReadStream as ClientReadStream } from '@eventstore/db-client/dist/streams/utils/ReadStream.js';
import { Subscription as ClientSubscription } from '@eventstore/db-client/dist/streams/utils/Subscription.js';
import { expect } from 'chai';
import {
  InvalidArgumentError,
  StoreUnavailableError,
  StreamDeletedError,
  StreamNotFoundError,
  WrongExpectedRevisionError,
} from '../../src/eventStore/errors.js';
import { collect, type EventStore, type JsonObject, type SubscriptionMessage } from '../../src/eventStore/eventStore.js';
import { toActualRevision, toPortError } from '../../src/eventStore/eventStoreDB/errorMapping.js';
import { toProblem } from '../../src/http/problemDetails.js';
import { createEventStoreDBEventStore } from '../../src/eventStore/eventStoreDB/eventStoreDBEventStore.js';
import { rejectionOf } from '../../src/testing/rejectionOf.js';


describe('EventStoreDB error mapping', () => {
  it("maps a wrong expected version to the port's conflict, keeping what the adapter expected", () => {
    const clientError = new WrongExpectedVersionError(undefined, {
      streamName: 'account-1',
      expected: 'no_stream',
      current: 4n,
    });

    const mapped = toPortError(clientError, { streamName: 'account-1', expectedRevision: 'no_stream' });

    expect(mapped).to.be.instanceOf(WrongExpectedRevisionError);
    const conflict = mapped as WrongExpectedRevisionError;
    expect([conflict.streamName, conflict.expectedRevision, conflict.actualRevision]).to.deep.equal([
      'account-1',
      'no_stream',
      4n,
    ]);
    expect(conflict.cause).to.equal(clientError);
  });

  it("reports a missing stream as 'no_stream', never as a number", () => {
    const clientError = new WrongExpectedVersionError(undefined, {
      streamName: 'account-2',
      expected: 'stream_exists',
      current: 'no_stream',
    });

    const conflict = toPortError(clientError) as WrongExpectedRevisionError;

    expect(conflict).to.be.instanceOf(WrongExpectedRevisionError);
    expect([conflict.streamName, conflict.expectedRevision, conflict.actualRevision]).to.deep.equal([
      'account-2',
      'stream_exists',
      'no_stream',
    ]);
  });

  it("reads the server's legacy negative codes from the gRPC error path", () => {
    const clientError = new WrongExpectedVersionError(undefined, {
      streamName: 'account-3',
      expected: -1n,
      current: -1n,
    });

    const conflict = toPortError(clientError) as WrongExpectedRevisionError;

    expect([conflict.expectedRevision, conflict.actualRevision]).to.deep.equal(['no_stream', 'no_stream']);
    expect(toActualRevision(7)).to.equal(7n);
    expect(toActualRevision(-1)).to.equal('no_stream');
    expect(toActualRevision(undefined)).to.equal('no_stream');
  });

  it('maps a missing stream and a tombstoned one, naming the stream the adapter read', () => {
    const notFound = new ClientStreamNotFoundError(undefined, 'from-the-error');
    const mappedNotFound = toPortError(notFound, { streamName: 'account-4' });
    expect(mappedNotFound).to.be.instanceOf(StreamNotFoundError);
    expect((mappedNotFound as StreamNotFoundError).streamName).to.equal('account-4');
    expect((mappedNotFound as Error).cause).to.equal(notFound);

    const deleted = ClientStreamDeletedError.fromStreamName('account-5');
    const mappedDeleted = toPortError(deleted);
    expect(mappedDeleted).to.be.instanceOf(StreamDeletedError);
    expect((mappedDeleted as StreamDeletedError).streamName).to.equal('account-5');
  });

  it('maps unavailable, cancelled, deadline exceeded, not leader and timeout to StoreUnavailableError with the cause', () => {
    // NotLeaderError's constructor reads leader details from gRPC metadata; an instance without it will do.
    const notLeader = Object.assign(Object.create(NotLeaderError.prototype) as NotLeaderError, { message: 'not leader' });
    for (const clientError of [
      new UnavailableError(),
      new CancelledError(),
      new DeadlineExceededError(),
      notLeader,
      new TimeoutError(),
    ]) {
      const mapped = toPortError(clientError);
      expect(mapped, clientError.constructor.name).to.be.instanceOf(StoreUnavailableError);
      expect((mapped as Error).cause).to.equal(clientError);
    }
  });

  it('converts a raw gRPC error the client let through (code 14 is UNAVAILABLE)', () => {
    const raw = Object.assign(new Error('14 UNAVAILABLE: No connection established'), {
      code: 14,
      details: 'No connection established',
    });
    const mapped = toPortError(raw);
    expect(mapped).to.be.instanceOf(StoreUnavailableError);
    expect((mapped as Error).cause).to.be.instanceOf(UnavailableError);
  });

  it('answers a call whose stream the server reset (RST_STREAM, code 13 is INTERNAL) with 503 store-unavailable', () => {
    const details = 'Received RST_STREAM with code 2 (Internal server error)';
    const raw = Object.assign(new Error(`13 INTERNAL: ${details}`), { code: 13, details });
    const mapped = toPortError(raw, { streamName: 'account-7' });
    expect(mapped).to.be.instanceOf(StoreUnavailableError);
    expect(toProblem(mapped, '/v1/accounts/7').status).to.equal(503);
  });

  it('answers an unavailable server without the password of a connection string the client quoted', () => {
    const raw = Object.assign(new Error('14 UNAVAILABLE: no node of esdb://admin:changeit@node1:2113,node2:2113 answered'), {
      code: 14,
      details: 'no node of esdb://admin:changeit@node1:2113,node2:2113 answered',
    });
    const mapped = toPortError(raw);
    expect(mapped).to.be.instanceOf(StoreUnavailableError);
    const { detail } = toProblem(mapped, '/v1/transfers');
    expect(detail).to.contain('esdb://admin:[redacted]@node1:2113').and.not.contain('changeit');
  });

  it("recognizes a client error by its type slug when it comes from another copy of the client", () => {
    const foreign = Object.assign(new Error('14 UNAVAILABLE'), { type: 'unavailable' });
    expect(toPortError(foreign)).to.be.instanceOf(StoreUnavailableError);
  });

  it('maps rejected arguments and oversized appends to InvalidArgumentError', () => {
    expect(toPortError(new ClientInvalidArgumentError('bad revision'))).to.be.instanceOf(InvalidArgumentError);
    expect(toPortError(MaxAppendSizeExceededError.fromMaxAppendSize(1_048_576))).to.be.instanceOf(InvalidArgumentError);
  });

  it('says which append was too large, what the limit is, and that nothing was written', () => {
    // The client's error has an empty message: all it carries is the limit.
    const tooLarge = MaxAppendSizeExceededError.fromMaxAppendSize(1_048_576);

    const mapped = toPortError(tooLarge, { streamName: 'account-50', expectedRevision: 'any' });

    expect(mapped).to.be.instanceOf(InvalidArgumentError);
    expect((mapped as Error).message).to.equal(
      "the append to account-50 is larger than EventStoreDB's maximum append size of 1048576 bytes (its MaxAppendSize setting): nothing was written",
    );
    expect((mapped as Error).cause).to.equal(tooLarge);
  });

  it("passes port errors through, even those sharing a client error's type slug", () => {
    const portError = new StreamNotFoundError('account-6');
    expect(toPortError(portError, { streamName: 'other' })).to.equal(portError);
  });

  it('passes through what the port has no word for', () => {
    const denied = new AccessDeniedError();
    const unexpected = new Error('boom');
    expect(toPortError(denied)).to.equal(denied);
    expect(toPortError(unexpected)).to.equal(unexpected);
  });
});

/** A client read as the client returns it: an object-mode stream with `cancel()`. */
const clientRead = (items: readonly unknown[], failure?: Error) => {
  const queue = [...items];
  return Object.assign(
    new Readable({
      objectMode: true,
      read() {
        if (queue.length > 0) this.push(queue.shift());
        else if (failure) this.destroy(failure);
        else this.push(null);
      },
    }),
    { cancel: async () => undefined },
  );
};

const clientEvent = (streamId: string, revision: unknown, position: bigint, data: unknown = {}) => ({
  event: {
    streamId,
    id: randomUUID(),
    revision,
    type: 'Deposited',
    created: new Date('2024-01-02T03:04:05.000Z'),
    data,
    metadata: undefined,
    isJson: true,
    position: { commit: position, prepare: position },
  },
  commitPosition: position,
});

/** Any use of a client method not given here fails the test: it would be I/O the test did not expect. */
const fakeClient = (methods: Record<string, unknown>): EventStoreDBClient =>
  new Proxy(methods, {
    get(target, property) {
      if (typeof property === 'string' && !(property in target)) throw new Error(`unexpected client call: ${property}`);
      return target[property as string];
    },
  }) as unknown as EventStoreDBClient;

const storeOn = (methods: Record<string, unknown>): EventStore =>
  createEventStoreDBEventStore({ client: fakeClient(methods), resubscribe: { initialDelayMs: 1, maxDelayMs: 1 } });

describe('EventStoreDB adapter mapping (fake client)', () => {
  const event = () => ({ id: randomUUID(), type: 'Deposited', data: { amount: '10' } });

  it('rejects bad input with InvalidArgumentError before any I/O', async () => {
    const store = storeOn({});
    const bigintData = { amount: 10n } as unknown as JsonObject;
    const attempts: [string, () => Promise<unknown>][] = [
      ['an empty batch', () => store.appendToStream('s', [])],
      ['a negative revision', () => store.appendToStream('s', [event()], { expectedRevision: -1n })],
      ['a bigint in data', () => store.appendToStream('s', [event(), { ...event(), data: bigintData }])],
      ['a non-UUID id', () => store.appendToStream('s', [{ ...event(), id: 'order-42' }])],
      ['an empty stream name', () => store.appendToStream('', [event()])],
      ['a reserved custom metadata key', () => store.setStreamMetadata('s', { custom: { $acl: 'x' } })],
      ['a negative delete revision', () => store.deleteStream('s', { expectedRevision: -2n })],
      ['a negative read revision', () => collect(store.readStream('s', { fromRevision: -1n }))],
      ['a negative maxCount', () => collect(store.readAll({ maxCount: -1 }))],
    ];
    for (const [what, attempt] of attempts) {
      expect(await rejectionOf(attempt()), what).to.be.instanceOf(InvalidArgumentError);
    }
    expect(() => store.subscribeToAll({ checkpointInterval: 0 })).to.throw(InvalidArgumentError);
    expect(() => store.subscribeToAll({ fromPosition: -5n })).to.throw(InvalidArgumentError);
  });

  it("appends JSON events with the client's expected revision and returns the last event's revision and position", async () => {
    const calls: { streamName: string; events: { id: string; type: string; data: unknown; metadata: unknown }[]; options: unknown }[] = [];
    const store = storeOn({
      appendToStream: async (streamName: string, events: never[], options: unknown) => {
        calls.push({ streamName, events, options });
        return { success: true, nextExpectedRevision: 4n, position: { commit: 900n, prepare: 900n } };
      },
    });
    const data = { amount: '10', at: new Date('2024-05-06T07:08:09.000Z') } as unknown as JsonObject;
    const sent = { id: randomUUID(), type: 'Deposited', data, metadata: { $correlationId: 'c-1' } };

    const result = await store.appendToStream('account-7', [sent], { expectedRevision: 'no_stream' });
    (data as { amount: string }).amount = 'changed after the call';

    expect(result).to.deep.equal({ nextExpectedRevision: 4n, position: 900n });
    expect(calls).to.have.length(1);
    expect(calls[0]!.options, 'the default write deadline goes to the server too').to.deep.equal({
      expectedRevision: 'no_stream',
      deadline: 10_000,
    });
    const [proposed] = calls[0]!.events;
    expect([proposed!.id, proposed!.type]).to.deep.equal([sent.id, 'Deposited']);
    expect(proposed!.data).to.deep.equal({ amount: '10', at: '2024-05-06T07:08:09.000Z' });
    expect(proposed!.metadata).to.deep.equal({ $correlationId: 'c-1' });
  });

  it('reads back the position of an append answered without one (an idempotent replay)', async () => {
    const reads: unknown[] = [];
    const store = storeOn({
      appendToStream: async () => ({ success: true, nextExpectedRevision: 2n, position: undefined }),
      readStream: (streamName: string, options: unknown) => {
        reads.push({ streamName, options });
        return clientRead([clientEvent(streamName, 2n, 700n)]);
      },
    });

    const result = await store.appendToStream('account-8', [event()], { expectedRevision: 1n });

    expect(result).to.deep.equal({ nextExpectedRevision: 2n, position: 700n });
    expect(reads).to.deep.equal([
      { streamName: 'account-8', options: { fromRevision: 2n, direction: 'forwards', maxCount: 1, resolveLinkTos: false } },
    ]);
  });

  it('turns a rejected append into the conflict of what the caller expected', async () => {
    const store = storeOn({
      appendToStream: async () => {
        throw new WrongExpectedVersionError(undefined, { streamName: 'account-9', expected: 3n, current: 'no_stream' });
      },
    });

    const error = await rejectionOf(store.appendToStream('account-9', [event()], { expectedRevision: 3n }));

    expect(error).to.be.instanceOf(WrongExpectedRevisionError);
    expect((error as WrongExpectedRevisionError).actualRevision).to.equal('no_stream');
    expect((error as WrongExpectedRevisionError).expectedRevision).to.equal(3n);
  });

  it('maps errors raised while iterating a read', async () => {
    const store = storeOn({
      readStream: (streamName: string) =>
        clientRead([], streamName === 'gone' ? ClientStreamDeletedError.fromStreamName('gone') : new ClientStreamNotFoundError()),
    });

    const missing = await rejectionOf(collect(store.readStream('missing')));
    const gone = await rejectionOf(collect(store.readStream('gone')));

    expect(missing).to.be.instanceOf(StreamNotFoundError);
    expect((missing as StreamNotFoundError).streamName).to.equal('missing');
    expect(gone).to.be.instanceOf(StreamDeletedError);
  });

  it('maps recorded events and refuses revisions that are not bigints', async () => {
    const good = clientEvent('account-10', 0n, 1_000n, { amount: '5' });
    const store = storeOn({
      readStream: (streamName: string) =>
        clientRead(streamName === 'numbers' ? [clientEvent('numbers', 0, 1_000n)] : [good]),
    });

    const [read] = await collect(store.readStream('account-10'));

    expect(read).to.deep.equal({
      streamName: 'account-10',
      id: good.event.id,
      type: 'Deposited',
      revision: 0n,
      position: 1_000n,
      created: new Date('2024-01-02T03:04:05.000Z'),
      data: { amount: '5' },
      metadata: undefined,
    });
    expect(await rejectionOf(collect(store.readStream('numbers')))).to.be.instanceOf(TypeError);
  });

  it('filters readAll here and skips events without a resolved event', async () => {
    const store = storeOn({
      readAll: () =>
        clientRead([
          clientEvent('account-11', 0n, 100n),
          { commitPosition: 150n },
          clientEvent('other-1', 0n, 200n),
          clientEvent('account-11', 1n, 300n),
        ]),
    });

    const read = await collect(store.readAll({ filter: { streamNamePrefixes: ['account-'] } }));

    expect(read.map((e) => e.position)).to.deep.equal([100n, 300n]);
  });

  it('reads the head position backwards from the end, undefined on an empty log', async () => {
    const calls: unknown[] = [];
    const withEvents = storeOn({
      readAll: (options: unknown) => {
        calls.push(options);
        return clientRead([clientEvent('$stats', 9n, 4_242n)]);
      },
    });
    const empty = storeOn({ readAll: () => clientRead([]) });

    expect(await withEvents.headPosition()).to.equal(4_242n);
    expect(await empty.headPosition()).to.equal(undefined);
    expect(calls).to.deep.equal([{ fromPosition: 'end', direction: 'backwards', maxCount: 1, resolveLinkTos: false }]);
  });
});

/** A server message as the client's subscription transform receives it. */
const response = {
  event: (resolved: unknown) => ({ hasEvent: () => true, getEvent: () => resolved }),
  caughtUp: () => ({ hasCaughtUp: () => true }),
  checkpoint: (commit: bigint) => ({
    hasCheckpoint: () => true,
    // Prepare 0, as some servers send it.
    getCheckpoint: () => ({ getCommitPosition: () => commit.toString(), getPreparePosition: () => '0' }),
  }),
};

/**
 * A client whose `subscribeToAll` is the real client subscription (its transform, events and
 * checkpoint callback) fed by a fake gRPC stream per call.
 */
const subscribingClient = (script: ((grpc: PassThrough) => void)[]) => {
  const calls: { fromPosition: unknown; filter: unknown }[] = [];
  const client = fakeClient({
    subscribeToAll: (options: { fromPosition: unknown; filter?: { checkpointReached?: never } }) => {
      calls.push({ fromPosition: options.fromPosition, filter: options.filter });
      const grpc = Object.assign(new PassThrough({ objectMode: true }), {
        cancel() {
          grpc.destroy();
        },
      });
      script[calls.length - 1]!(grpc);
      return new ClientSubscription(async () => grpc as never, (resolved: unknown) => resolved, {}, options.filter?.checkpointReached);
    },
  });
  return { calls, store: createEventStoreDBEventStore({ client, resubscribe: { initialDelayMs: 1, maxDelayMs: 1 } }) };
};

const describeMessage = (m: SubscriptionMessage): string =>
  m.kind === 'event' ? `event ${m.event.position}` : m.kind === 'fellBehind' ? m.kind : `${m.kind} ${m.position}`;

const takeMessages = async (iterator: AsyncIterator<SubscriptionMessage>, count: number): Promise<string[]> => {
  const taken: string[] = [];
  while (taken.length < count) {
    const next = await Promise.race([
      iterator.next(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`only got ${taken.join(', ')}`)), 2_000)),
    ]);
    if (next.done) throw new Error(`ended after ${taken.join(', ')}`);
    taken.push(describeMessage(next.value));
  }
  return taken;
};

describe('EventStoreDB subscription mapping (real client transform, fake server)', () => {
  it('keeps caughtUp and checkpoints behind the events the server sent before them', async () => {
    const { calls, store } = subscribingClient([
      (grpc) => {
        grpc.write(response.event(clientEvent('account-12', 0n, 100n)));
        grpc.write(response.event(clientEvent('account-12', 1n, 200n)));
        grpc.write(response.event(clientEvent('account-12', 2n, 300n)));
        grpc.write(response.caughtUp());
        grpc.write(response.checkpoint(350n));
        grpc.write(response.event(clientEvent('account-12', 3n, 400n)));
      },
    ]);
    const subscription = store.subscribeToAll({ filter: { streamNamePrefixes: ['account-'] } });

    const messages = await takeMessages(subscription[Symbol.asyncIterator](), 6);
    await subscription.unsubscribe();

    expect(messages).to.deep.equal([
      'event 100',
      'event 200',
      'event 300',
      'caughtUp 300',
      'checkpoint 350',
      'event 400',
    ]);
    expect(calls[0]!.fromPosition).to.equal('start');
    expect(calls[0]!.filter).to.include({ filterOn: 'streamName', checkpointInterval: 1 });
  });

  it('resubscribes after the server drops it, from the last delivered position', async () => {
    const { calls, store } = subscribingClient([
      (grpc) => {
        grpc.write(response.event(clientEvent('account-13', 0n, 100n)));
        grpc.write(response.event(clientEvent('account-13', 1n, 200n)));
        setImmediate(() => grpc.destroy(new UnavailableError()));
      },
      (grpc) => {
        grpc.write(response.event(clientEvent('account-13', 2n, 300n)));
        grpc.write(response.caughtUp());
      },
    ]);
    const subscription = store.subscribeToAll({ fromPosition: 50n });

    const messages = await takeMessages(subscription[Symbol.asyncIterator](), 4);
    await subscription.unsubscribe();

    expect(messages).to.deep.equal(['event 100', 'event 200', 'event 300', 'caughtUp 300']);
    expect(calls.map((c) => c.fromPosition)).to.deep.equal([
      { commit: 50n, prepare: 50n },
      { commit: 200n, prepare: 200n },
    ]);
    expect(calls[0]!.filter, 'no filter asked for').to.equal(undefined);
  });

  it('filters by stream on the server and by event type here when both are asked for', async () => {
    const typed = (revision: bigint, position: bigint, type: string) => {
      const resolved = clientEvent('account-14', revision, position);
      resolved.event.type = type;
      return response.event(resolved);
    };
    const { calls, store } = subscribingClient([
      (grpc) => {
        grpc.write(typed(0n, 100n, 'Opened'));
        grpc.write(typed(1n, 200n, 'Deposited'));
        grpc.write(typed(2n, 300n, '$system'));
        grpc.write(typed(3n, 400n, 'OpenedAgain'));
      },
    ]);
    const subscription = store.subscribeToAll({
      filter: { streamNamePrefixes: ['account-'], eventTypePrefixes: ['Op', '$'], excludeSystemEvents: true },
      checkpointInterval: 64,
    });

    const messages = await takeMessages(subscription[Symbol.asyncIterator](), 2);
    await subscription.unsubscribe();

    expect(messages).to.deep.equal(['event 100', 'event 400']);
    expect(calls[0]!.filter).to.include({ filterOn: 'streamName', checkpointInterval: 2 });
    expect((calls[0]!.filter as { prefixes: string[] }).prefixes).to.deep.equal(['account-']);
  });

  it('ends iteration cleanly on unsubscribe, and close() unsubscribes what is still open', async () => {
    const { store } = subscribingClient([() => undefined, () => undefined]);
    const first = store.subscribeToAll();
    const second = store.subscribeToAll();
    const firstNext = first[Symbol.asyncIterator]().next();
    const secondNext = second[Symbol.asyncIterator]().next();

    await first.unsubscribe();
    await store.close();

    expect(await firstNext).to.deep.equal({ done: true, value: undefined });
    expect(await secondNext).to.deep.equal({ done: true, value: undefined });
  });
});

/**
 * A gRPC server-streaming call as @grpc/grpc-js hands it to the client; `cancel()` ends it the way
 * grpc-js does: the stream ends, then emits the CANCELLED error the client ignores as its own.
 */
const grpcCall = () => {
  const grpc = Object.assign(new PassThrough({ objectMode: true }), {
    cancel() {
      grpc.push(null);
      grpc.emit('error', Object.assign(new Error('1 CANCELLED: Cancelled on client'), { code: 1, details: 'Cancelled on client' }));
    },
  });
  return grpc;
};

const unconverted = (resolved: unknown) => resolved;

describe('EventStoreDB adapter where the server and client answer unlike the embedded store', () => {
  it('takes a cluster discovery that found no node for an unavailable store', () => {
    const discovery = new Error('Failed to discover after 10 attempts.');

    const mapped = toPortError(discovery);

    expect(mapped).to.be.instanceOf(StoreUnavailableError);
    expect((mapped as Error).cause).to.equal(discovery);
  });

  it('resubscribes, rather than dropping the subscription, when cluster discovery finds no node', async () => {
    const starts: unknown[] = [];
    const client = fakeClient({
      subscribeToAll: (options: { fromPosition: unknown }) => {
        starts.push(options.fromPosition);
        // As the client does when discovery fails: the call never starts and the subscription emits the error.
        if (starts.length === 1) {
          return new ClientSubscription(async () => Promise.reject(new Error('Failed to discover after 10 attempts.')), unconverted, {});
        }
        const grpc = grpcCall();
        grpc.write(response.event(clientEvent('account-20', 0n, 100n)));
        grpc.write(response.caughtUp());
        return new ClientSubscription(async () => grpc as never, unconverted, {});
      },
    });
    const store = createEventStoreDBEventStore({ client, resubscribe: { initialDelayMs: 1, maxDelayMs: 1 } });
    const subscription = store.subscribeToAll();

    const messages = await takeMessages(subscription[Symbol.asyncIterator](), 2);
    await subscription.unsubscribe();

    expect(messages).to.deep.equal(['event 100', 'caughtUp 100']);
    expect(starts).to.deep.equal(['start', 'start']);
  });

  it('fails the reads close() cuts short, where the client ends them as if they were complete', async () => {
    const calls: ReturnType<typeof grpcCall>[] = [];
    const readWith = (...events: unknown[]) => {
      const grpc = grpcCall();
      calls.push(grpc);
      for (const resolved of events) grpc.write(response.event(resolved));
      return new ClientReadStream(async () => grpc as never, unconverted, {});
    };
    const client = fakeClient({
      readStream: (streamName: string) => readWith(clientEvent(streamName, 0n, 100n)),
      readAll: () => readWith(),
      // What the client's dispose does to the calls still open.
      dispose: async () => calls.forEach((call) => call.cancel()),
    });
    const connectionString = EventStoreDBClient.connectionString;
    EventStoreDBClient.connectionString = (() => client) as unknown as typeof connectionString;
    let store: EventStore;
    try {
      store = createEventStoreDBEventStore({ connectionString: 'esdb://localhost:2113?tls=false' });
    } finally {
      EventStoreDBClient.connectionString = connectionString;
    }
    const reading = store.readStream('account-21')[Symbol.asyncIterator]();
    expect((await reading.next()).value?.revision).to.equal(0n);
    const head = store.headPosition();

    await store.close();

    expect(await rejectionOf(reading.next()), 'the rest of the stream').to.be.instanceOf(StoreUnavailableError);
    expect(await rejectionOf(head), 'the head of a log that is not empty').to.be.instanceOf(StoreUnavailableError);
  });

  it("answers 'stream_exists' on a soft-deleted stream with a conflict at 'no_stream', not as a tombstone", async () => {
    // EventStoreDB refuses 'stream_exists' on a soft-deleted stream with StreamDeleted; reading it
    // still tells a soft delete (not found) from a tombstone (deleted).
    const store = storeOn({
      appendToStream: async (streamName: string) => {
        throw ClientStreamDeletedError.fromStreamName(streamName);
      },
      readStream: (streamName: string) =>
        clientRead(
          [],
          streamName === 'account-22'
            ? new ClientStreamNotFoundError(undefined, streamName)
            : ClientStreamDeletedError.fromStreamName(streamName),
        ),
    });
    const event = { id: randomUUID(), type: 'Deposited', data: { amount: '10' } };

    const softDeleted = await rejectionOf(store.appendToStream('account-22', [event], { expectedRevision: 'stream_exists' }));
    const tombstoned = await rejectionOf(store.appendToStream('account-23', [event], { expectedRevision: 'stream_exists' }));
    const tombstonedAny = await rejectionOf(store.appendToStream('account-23', [event]));

    expect(softDeleted).to.be.instanceOf(WrongExpectedRevisionError);
    const conflict = softDeleted as WrongExpectedRevisionError;
    expect([conflict.streamName, conflict.expectedRevision, conflict.actualRevision]).to.deep.equal([
      'account-22',
      'stream_exists',
      'no_stream',
    ]);
    expect(tombstoned).to.be.instanceOf(StreamDeletedError);
    expect((tombstoned as StreamDeletedError).streamName).to.equal('account-23');
    expect(tombstonedAny).to.be.instanceOf(StreamDeletedError);
  });
});

describe('EventStoreDB adapter when the server stalls without closing the connection', () => {
  const timeouts = { readIdleMs: 30, writeMs: 30, subscriptionIdleMs: 30 };

  /** Fails instead of hanging, so that a missing bound shows as a failure. */
  const unlessHung = <T>(promise: Promise<T>, what: string): Promise<T> =>
    Promise.race([
      promise,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} hung`)), 2_000)),
    ]);

  /** A read whose server sends `events`, then nothing, without ending the call. */
  const stalledRead = (cancelled: unknown[], ...events: unknown[]) => {
    const grpc = grpcCall();
    const cancel = grpc.cancel;
    grpc.cancel = () => {
      cancelled.push(grpc);
      cancel();
    };
    for (const resolved of events) grpc.write(response.event(resolved));
    return new ClientReadStream(async () => grpc as never, unconverted, {});
  };

  const storeWithTimeouts = (methods: Record<string, unknown>): EventStore =>
    createEventStoreDBEventStore({ client: fakeClient(methods), resubscribe: { initialDelayMs: 1, maxDelayMs: 1 }, timeouts });

  it('fails a read the server stops answering with StoreUnavailableError, and cancels the call', async () => {
    const cancelled: unknown[] = [];
    const store = storeWithTimeouts({
      readStream: (streamName: string) => stalledRead(cancelled, clientEvent(streamName, 0n, 100n)),
      readAll: () => stalledRead(cancelled),
    });

    const reading = store.readStream('account-30')[Symbol.asyncIterator]();
    expect((await unlessHung(reading.next(), 'the first event')).value?.revision).to.equal(0n);
    const stalled = await unlessHung(rejectionOf(reading.next()), 'the stalled read');
    const head = await unlessHung(rejectionOf(store.headPosition()), 'the head position');

    expect(stalled).to.be.instanceOf(StoreUnavailableError);
    expect(head).to.be.instanceOf(StoreUnavailableError);
    await new Promise((resolve) => setImmediate(resolve));
    expect(cancelled, 'both calls cancelled').to.have.length(2);
  });

  it('never cuts a long read that keeps streaming, nor one whose reader is slow', async () => {
    const store = createEventStoreDBEventStore({
      client: fakeClient({
        readAll: () => {
          const grpc = grpcCall();
          // Events 20 ms apart: the read lasts well past the idle bound, never silent that long.
          void (async () => {
            for (let i = 1; i <= 12; i++) {
              await new Promise((resolve) => setTimeout(resolve, 20));
              grpc.write(response.event(clientEvent('account-31', BigInt(i - 1), BigInt(i * 100))));
            }
            grpc.end();
          })();
          return new ClientReadStream(async () => grpc as never, unconverted, {});
        },
      }),
      timeouts: { readIdleMs: 150 },
    });

    const positions: bigint[] = [];
    for await (const event of store.readAll()) {
      positions.push(event.position);
      // The reader takes twice the idle bound over some events, while the server has sent them.
      if (positions.length % 4 === 0) await new Promise((resolve) => setTimeout(resolve, 300));
    }

    expect(positions).to.deep.equal(Array.from({ length: 12 }, (_, i) => BigInt((i + 1) * 100)));
  });

  it('fails an append, a delete and a tombstone the server does not answer, saying the write may have happened', async () => {
    const appendOptions: unknown[] = [];
    const never = () => new Promise<never>(() => undefined);
    const store = storeWithTimeouts({
      appendToStream: (_streamName: string, _events: unknown, options: unknown) => {
        appendOptions.push(options);
        return never();
      },
      deleteStream: never,
      tombstoneStream: never,
    });
    const event = { id: randomUUID(), type: 'Deposited', data: { amount: '10' } };

    const failures = [
      await unlessHung(rejectionOf(store.appendToStream('account-32', [event], { expectedRevision: 4n })), 'the append'),
      await unlessHung(rejectionOf(store.deleteStream('account-32')), 'the delete'),
      await unlessHung(rejectionOf(store.tombstoneStream('account-32')), 'the tombstone'),
    ];

    for (const failure of failures) {
      expect(failure).to.be.instanceOf(StoreUnavailableError);
      expect((failure as Error).message).to.match(/may or may not have been written/);
    }
    expect(appendOptions, 'the server is given the same deadline').to.deep.equal([{ expectedRevision: 4n, deadline: 30 }]);
  });

  it('refuses a timeout that is not a positive integer', () => {
    for (const bad of [{ readIdleMs: 0 }, { writeMs: -1 }, { subscriptionIdleMs: 1.5 }]) {
      expect(() => createEventStoreDBEventStore({ client: fakeClient({}), timeouts: bad }), JSON.stringify(bad)).to.throw(
        InvalidArgumentError,
      );
    }
  });

  /** Subscriptions fed by the script, one fake gRPC stream per connection, and a head probe. */
  const subscriptionsWithProbe = (script: ((grpc: ReturnType<typeof grpcCall>) => void)[], probe: () => unknown) => {
    const starts: unknown[] = [];
    const probes = { count: 0 };
    const store = storeWithTimeouts({
      subscribeToAll: (options: { fromPosition: unknown }) => {
        starts.push(options.fromPosition);
        const grpc = grpcCall();
        script[starts.length - 1]!(grpc);
        return new ClientSubscription(async () => grpc as never, unconverted, {});
      },
      readAll: () => {
        probes.count += 1;
        return probe();
      },
    });
    return { starts, probes, store };
  };

  it('resubscribes from the last delivered position when catch-up stalls with more of the log to send', async () => {
    const { starts, store } = subscriptionsWithProbe(
      [
        (grpc) => grpc.write(response.event(clientEvent('account-33', 0n, 100n))),
        (grpc) => {
          grpc.write(response.event(clientEvent('account-33', 1n, 200n)));
          grpc.write(response.event(clientEvent('account-33', 2n, 300n)));
          grpc.write(response.caughtUp());
        },
      ],
      () => clientRead([clientEvent('account-33', 2n, 300n)]),
    );
    const subscription = store.subscribeToAll();

    const messages = await takeMessages(subscription[Symbol.asyncIterator](), 4);
    await subscription.unsubscribe();

    expect(messages).to.deep.equal(['event 100', 'event 200', 'event 300', 'caughtUp 300']);
    expect(starts).to.deep.equal(['start', { commit: 100n, prepare: 100n }]);
  });

  it('resubscribes a live subscription when the server does not answer the probe', async () => {
    const cancelled: unknown[] = [];
    const { starts, store } = subscriptionsWithProbe(
      [
        (grpc) => {
          grpc.write(response.event(clientEvent('account-34', 0n, 100n)));
          grpc.write(response.caughtUp());
        },
        (grpc) => {
          grpc.write(response.event(clientEvent('account-34', 1n, 200n)));
          grpc.write(response.caughtUp());
        },
      ],
      () => stalledRead(cancelled),
    );
    const subscription = store.subscribeToAll();

    const messages = await takeMessages(subscription[Symbol.asyncIterator](), 5);
    await subscription.unsubscribe();

    expect(messages).to.deep.equal(['event 100', 'caughtUp 100', 'fellBehind', 'event 200', 'caughtUp 200']);
    expect(starts).to.deep.equal(['start', { commit: 100n, prepare: 100n }]);
  });

  it('keeps a live subscription on a quiet log, the server answering the probes', async () => {
    let live: ReturnType<typeof grpcCall> | undefined;
    const { starts, probes, store } = subscriptionsWithProbe(
      [
        (grpc) => {
          live = grpc;
          grpc.write(response.event(clientEvent('account-35', 0n, 100n)));
          grpc.write(response.caughtUp());
        },
      ],
      () => clientRead([clientEvent('account-35', 0n, 100n)]),
    );
    const subscription = store.subscribeToAll();
    const iterator = subscription[Symbol.asyncIterator]();
    expect(await takeMessages(iterator, 2)).to.deep.equal(['event 100', 'caughtUp 100']);

    const next = takeMessages(iterator, 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    live!.write(response.event(clientEvent('account-35', 1n, 200n)));

    expect(await next).to.deep.equal(['event 200']);
    await subscription.unsubscribe();
    expect(starts, 'no resubscribe').to.have.length(1);
    expect(probes.count, 'the quiet spells were probed').to.be.greaterThan(1);
  });
});

describe('EventStoreDB adapter on soft-deleted streams, as the embedded store answers', () => {
  const event = () => ({ id: randomUUID(), type: 'Deposited', data: { amount: '10' } });
  /** A read of a stream EventStoreDB holds as soft-deleted: it reads as not found. */
  const softDeletedRead = (streamName: string) => clientRead([], new ClientStreamNotFoundError(undefined, streamName));

  it("reports a conflict on a soft-deleted stream at 'no_stream', not at the revision EventStoreDB still counts", async () => {
    // EventStoreDB checks an expected revision against the old last revision of a soft-deleted stream.
    const store = storeOn({
      appendToStream: async (streamName: string) => {
        throw new WrongExpectedVersionError(undefined, { streamName, expected: 0n, current: 2n });
      },
      deleteStream: async (streamName: string) => {
        throw new WrongExpectedVersionError(undefined, { streamName, expected: 0n, current: 2n });
      },
      readStream: (streamName: string) =>
        streamName === 'account-40' ? softDeletedRead(streamName) : clientRead([clientEvent(streamName, 2n, 900n)]),
    });

    const onDeleted = await rejectionOf(store.appendToStream('account-40', [event()], { expectedRevision: 0n }));
    const deletingDeleted = await rejectionOf(store.deleteStream('account-40', { expectedRevision: 0n }));
    const onLive = await rejectionOf(store.appendToStream('account-41', [event()], { expectedRevision: 0n }));

    for (const conflict of [onDeleted, deletingDeleted]) {
      expect(conflict).to.be.instanceOf(WrongExpectedRevisionError);
      const { streamName, expectedRevision, actualRevision } = conflict as WrongExpectedRevisionError;
      expect([streamName, expectedRevision, actualRevision]).to.deep.equal(['account-40', 0n, 'no_stream']);
      expect((conflict as Error).cause).to.be.instanceOf(WrongExpectedVersionError);
    }
    expect((onLive as WrongExpectedRevisionError).actualRevision, 'a live stream keeps its revision').to.equal(2n);
  });

  it("answers a soft delete of a stream without events with StreamNotFoundError, not a conflict on 'any'", async () => {
    // What EventStoreDB answers (KurrentDB#4637): expected -2 (any) or -1 (no stream), actual -1.
    const store = storeOn({
      deleteStream: async (streamName: string, options: { expectedRevision: unknown }) => {
        const expected = options.expectedRevision === 'any' ? -2n : -1n;
        throw new WrongExpectedVersionError(undefined, { streamName, expected, current: -1n });
      },
      readStream: (streamName: string) => clientRead([], new ClientStreamNotFoundError(undefined, streamName)),
    });

    const onAny = await rejectionOf(store.deleteStream('account-42'));
    const onNoStream = await rejectionOf(store.deleteStream('account-42', { expectedRevision: 'no_stream' }));
    const onRevision = await rejectionOf(store.deleteStream('account-42', { expectedRevision: 3n }));

    for (const missing of [onAny, onNoStream]) {
      expect(missing).to.be.instanceOf(StreamNotFoundError);
      expect((missing as StreamNotFoundError).streamName).to.equal('account-42');
    }
    expect(onRevision, 'an expected revision on no stream is still a conflict').to.be.instanceOf(WrongExpectedRevisionError);
  });

  it("reads the metadata of a soft-deleted stream without EventStoreDB's deletion mark, so it can be written back", async () => {
    const written: unknown[] = [];
    const store = storeOn({
      // What EventStoreDB writes to soft-delete a stream: $tb at long.MaxValue.
      readStream: (streamName: string) =>
        clientRead([
          {
            event: {
              ...clientEvent(streamName, 1n, 500n, JSON.parse('{"$tb":9223372036854775807,"owner":"ledger"}')).event,
              type: '$metadata',
            },
          },
        ]),
      appendToStream: async (_streamName: string, events: { data: unknown }[]) => {
        written.push(events[0]!.data);
        return { success: true, nextExpectedRevision: 2n, position: { commit: 600n, prepare: 600n } };
      },
    });

    const read = await store.getStreamMetadata('account-43');
    await store.setStreamMetadata('account-43', read.metadata, { expectedRevision: read.metastreamRevision });

    expect(read.metadata).to.deep.equal({ custom: { owner: 'ledger' } });
    expect(read.metastreamRevision).to.equal(1n);
    expect(written).to.deep.equal([{ owner: 'ledger' }]);
  });
});

import { expect } from 'chai';
import {
  FolioError,
  StoreUnavailableError,
  WrongExpectedRevisionError,
  collect,
  createEnvelope,
  deterministicEventId,
  toEventToAppend,
  type AppendOptions,
  type EventStore,
  type EventToAppend,
  type JsonValue,
} from '@folio/shared';
import { IdempotencyKeyReusedError, IdempotentRequestInProgressError, PartlyAnsweredError } from '../../src/idempotency/errors.js';
import { idempotentRequestStarted } from '../../src/idempotency/idempotencyEvents.js';
import {
  DEFAULT_RETENTION_MS,
  createIdempotencyStore,
  idempotencyStreamName,
  type ExecuteRequest,
  type IdempotencyStoreOptions,
  type IdempotentOutcome,
  type IdempotentResponse,
  type RunAttempt,
} from '../../src/idempotency/idempotencyStore.js';
import { deferred, eventually, openTempStore, rejectionOf, type TempStore } from './testSupport.js';

class InsufficientFundsError extends FolioError {
  readonly type = 'insufficient-funds';
  readonly status = 422;

  constructor(readonly accountId: string) {
    super(`account ${accountId} has insufficient funds`);
  }

  override problemExtensions(): Record<string, unknown> {
    return { accountId: this.accountId, available: '100' };
  }
}

/** A request failed as a whole that answered some parts for good, as a batch's rejected items. */
class PartsAnsweredError extends PartlyAnsweredError {
  readonly type = 'parts-incomplete';
  readonly status = 503;

  constructor(readonly finalParts: Record<string, JsonValue>) {
    super('some parts could not run');
  }
}

/** A refusal that holds only for the moment, and says when to ask again. */
class MoneyInTransitError extends FolioError {
  readonly type = 'money-in-transit';
  readonly status = 409;
  override readonly retryAfterSeconds = 1;
}

const HOUR = 60 * 60 * 1000;
const STALE_AFTER_MS = 30_000;
const CALLER = 'merchant:acme';
const KEY = 'order-7731-capture';

describe('idempotency store', () => {
  let temp: TempStore;
  let now: Date;
  let minted: number;
  const clock = (): Date => now;
  const advance = (ms: number): void => {
    now = new Date(now.getTime() + ms);
  };
  const newResourceId = (): string => `res-${++minted}`;
  /** Until when a run claiming the key at `startedAt` may start new work: half the claim's life. */
  const leaseOf = (startedAt: Date): Date => new Date(startedAt.getTime() + STALE_AFTER_MS / 2);

  const storeOn = (eventStore: EventStore, options: Partial<IdempotencyStoreOptions> = {}) =>
    createIdempotencyStore({
      eventStore,
      clock,
      retentionMs: HOUR,
      staleAfterMs: STALE_AFTER_MS,
      inFlightWaitMs: 5_000,
      ...options,
    });

  /** A run that records the resource ids it was called with. */
  const recordingRun = (calls: string[], response: (resourceId: string) => IdempotentResponse = created) => {
    return async (resourceId: string): Promise<IdempotentResponse> => {
      calls.push(resourceId);
      return response(resourceId);
    };
  };

  const created = (resourceId: string): IdempotentResponse => ({
    status: 201,
    body: { transferId: resourceId, amount: '1050', currency: 'USD' },
    headers: { location: `/transfers/${resourceId}` },
  });

  const request = (run: ExecuteRequest['run'], overrides: Partial<ExecuteRequest> = {}): ExecuteRequest => ({
    callerId: CALLER,
    key: KEY,
    fingerprint: 'fingerprint-1',
    newResourceId,
    run,
    ...overrides,
  });

  const streamEvents = async (callerId = CALLER, key = KEY) =>
    collect(temp.store.readStream(idempotencyStreamName(callerId, key)));

  const appendStartedDirectly = async (resourceId: string, startedAt: Date, expiresAt = new Date(startedAt.getTime() + HOUR)) => {
    const streamName = idempotencyStreamName(CALLER, KEY);
    const envelope = createEnvelope(idempotentRequestStarted, {
      id: deterministicEventId('crashed process', streamName),
      data: {
        callerId: CALLER,
        fingerprint: 'fingerprint-1',
        resourceId,
        startedAt: startedAt.toISOString(),
        expiresAt: expiresAt.toISOString(),
      },
      metadata: { $correlationId: resourceId, actor: CALLER, occurredAt: startedAt.toISOString() },
    });
    await temp.store.appendToStream(streamName, [toEventToAppend(envelope, idempotentRequestStarted)], {
      expectedRevision: 'no_stream',
    });
  };

  beforeEach(() => {
    temp = openTempStore();
    now = new Date('2025-03-14T09:30:00.000Z');
    minted = 0;
  });

  afterEach(async () => {
    await temp.dispose();
  });

  it('runs a first request once and records its claim and response', async () => {
    const calls: string[] = [];
    const outcome = await storeOn(temp.store).execute(request(recordingRun(calls)));

    expect(calls).to.deep.equal(['res-1']);
    expect(outcome).to.deep.equal({ ...created('res-1'), replayed: false });
    const events = await streamEvents();
    expect(events.map((event) => event.type)).to.deep.equal(['IdempotentRequestStarted', 'IdempotentRequestCompleted']);
    expect(events[0]!.data).to.deep.include({
      callerId: CALLER,
      fingerprint: 'fingerprint-1',
      resourceId: 'res-1',
      startedAt: '2025-03-14T09:30:00.000Z',
      expiresAt: '2025-03-14T10:30:00.000Z',
    });
    expect(events[1]!.data).to.deep.equal(created('res-1'));
  });

  it('replays the same status, body and headers without running or writing anything', async () => {
    const store = storeOn(temp.store);
    const calls: string[] = [];
    const first = await store.execute(request(recordingRun(calls)));
    const head = await temp.store.headPosition();

    advance(10 * 60 * 1000);
    const again = await store.execute(request(recordingRun(calls)));
    const fromAnotherProcess = await storeOn(temp.openAnother()).execute(request(recordingRun(calls)));

    expect(calls).to.have.length(1);
    for (const replay of [again, fromAnotherProcess]) {
      expect(replay).to.deep.equal({ ...first, replayed: true });
    }
    expect(await temp.store.headPosition()).to.equal(head);
  });

  it('refuses the key for a different request with 422', async () => {
    const store = storeOn(temp.store);
    await store.execute(request(recordingRun([])));
    const calls: string[] = [];

    const error = await rejectionOf(store.execute(request(recordingRun(calls), { fingerprint: 'fingerprint-2' })));

    expect(error).to.be.instanceOf(IdempotencyKeyReusedError);
    expect(error).to.include({ status: 422, type: 'idempotency-key-reused' });
    expect(calls).to.be.empty;
  });

  it('remembers a business rejection and answers a retry with the same rejection', async () => {
    const store = storeOn(temp.store);
    let calls = 0;
    const rejecting = async (): Promise<IdempotentResponse> => {
      calls++;
      throw new InsufficientFundsError('42');
    };

    const first = await store.execute(request(rejecting));
    const retry = await store.execute(request(rejecting));

    expect(calls).to.equal(1);
    expect(first).to.deep.equal({
      status: 422,
      headers: { 'content-type': 'application/problem+json' },
      body: {
        type: 'urn:folio:problem:insufficient-funds',
        title: 'insufficient-funds',
        status: 422,
        detail: 'account 42 has insufficient funds',
        accountId: '42',
        available: '100',
      },
      replayed: false,
    });
    expect(retry).to.deep.equal({ ...first, replayed: true });
  });

  it('builds the recorded rejection with the injected toProblem', async () => {
    const store = storeOn(temp.store, {
      toProblem: (error) => ({ status: error.status, body: { problem: error.type } }),
    });
    const rejecting = async (): Promise<IdempotentResponse> => {
      throw new InsufficientFundsError('42');
    };

    await store.execute(request(rejecting));
    const retry = await store.execute(request(rejecting));

    expect(retry).to.deep.equal({ status: 422, body: { problem: 'insufficient-funds' }, headers: {}, replayed: true });
  });

  it('abandons the key on an unexpected error, and a retry runs again with the same resource id', async () => {
    const store = storeOn(temp.store);
    const calls: string[] = [];
    const failure = new Error('provider timed out');

    const error = await rejectionOf(
      store.execute(
        request(async (resourceId) => {
          calls.push(resourceId);
          throw failure;
        }),
      ),
    );
    expect(error).to.equal(failure);
    const events = await streamEvents();
    expect(events.map((event) => event.type)).to.deep.equal(['IdempotentRequestStarted', 'IdempotentRequestAbandoned']);
    expect(events[1]!.data).to.deep.equal({ reason: 'Error: provider timed out' });

    const retry = await store.execute(request(recordingRun(calls)));

    expect(calls).to.deep.equal(['res-1', 'res-1']);
    expect(retry).to.deep.equal({ ...created('res-1'), replayed: false });
    expect(await store.execute(request(recordingRun(calls)))).to.deep.equal({ ...retry, replayed: true });
  });

  it('does not remember server errors or concurrency conflicts, which are not business rejections', async () => {
    const store = storeOn(temp.store);
    const transient = [
      new StoreUnavailableError('event store unreachable'),
      new WrongExpectedRevisionError('account-1', 3n, 4n),
    ];
    for (const failure of transient) {
      const error = await rejectionOf(
        store.execute(
          request(async () => {
            throw failure;
          }),
        ),
      );
      expect(error).to.equal(failure);
    }
    const calls: string[] = [];
    expect(await store.execute(request(recordingRun(calls)))).to.include({ status: 201, replayed: false });
    expect(calls).to.deep.equal(['res-1']);
  });

  it('does not remember a 4xx that says when to retry: the same key runs again once the moment has passed', async () => {
    const store = storeOn(temp.store);
    const refusal = new MoneyInTransitError('money is in transit; try again');

    const error = await rejectionOf(
      store.execute(
        request(async () => {
          throw refusal;
        }),
      ),
    );

    expect(error).to.equal(refusal);
    const calls: string[] = [];
    expect(await store.execute(request(recordingRun(calls)))).to.deep.equal({ ...created('res-1'), replayed: false });
    expect(calls).to.deep.equal(['res-1']);
    expect((await streamEvents()).map((event) => event.type)).to.deep.equal([
      'IdempotentRequestStarted',
      'IdempotentRequestAbandoned',
      'IdempotentRequestStarted',
      'IdempotentRequestCompleted',
    ]);
  });

  it('records the parts a failure answered for good and gives them to every later run, a takeover included', async () => {
    const store = storeOn(temp.store);
    const other = storeOn(temp.openAnother());
    const start = now;
    const attempts: RunAttempt[] = [];
    const rejected = (item: number) => ({ index: item, status: 422, body: { type: 'insufficient-funds' } });
    const answering = (parts: Record<string, JsonValue>, gate?: Promise<void>) => async (_resourceId: string, attempt: RunAttempt) => {
      attempts.push(attempt);
      await gate;
      throw new PartsAnsweredError(parts);
    };

    expect(await rejectionOf(store.execute(request(answering({ 1: rejected(1) }))))).to.be.instanceOf(PartsAnsweredError);
    expect((await streamEvents())[1]!.data).to.deep.equal({
      reason: 'PartsAnsweredError: some parts could not run',
      finalParts: { 1: rejected(1) },
    });

    // A retry that stalls (its process presumed dead) and is taken over: the claim carried the parts.
    const stalled = deferred();
    const stalledExecution = rejectionOf(store.execute(request(answering({ 3: rejected(3) }, stalled.promise))));
    await eventually(() => attempts.length === 2);
    advance(STALE_AFTER_MS);
    expect(await rejectionOf(other.execute(request(answering({ 2: rejected(2) }))))).to.be.instanceOf(PartsAnsweredError);
    // The stalled run's parts could not be recorded after the takeover, so its failure, which shows them, is not answered.
    stalled.resolve();
    expect(await stalledExecution).to.be.instanceOf(IdempotentRequestInProgressError);

    const calls: string[] = [];
    const finished = await store.execute(
      request(async (resourceId, attempt) => {
        attempts.push(attempt);
        return recordingRun(calls)(resourceId);
      }),
    );

    expect(finished).to.deep.equal({ ...created('res-1'), replayed: false });
    const takenOver = new Date(start.getTime() + STALE_AFTER_MS);
    expect(attempts).to.deep.equal([
      { retry: false, finalParts: {}, claimValidUntil: leaseOf(start) },
      { retry: true, finalParts: { 1: rejected(1) }, claimValidUntil: leaseOf(start) },
      { retry: true, finalParts: { 1: rejected(1) }, claimValidUntil: leaseOf(takenOver) },
      { retry: true, finalParts: { 1: rejected(1), 2: rejected(2) }, claimValidUntil: leaseOf(takenOver) },
    ]);
  });

  it('does not let a failure that answered parts reach the client when its parts cannot be recorded', async () => {
    const refusingAbandonments = new Proxy(temp.store, {
      get(target, property) {
        if (property === 'appendToStream') {
          return (streamName: string, events: readonly EventToAppend[], options?: AppendOptions) =>
            events.some((event) => event.type === 'IdempotentRequestAbandoned')
              ? Promise.reject(new StoreUnavailableError('the store is unreachable'))
              : target.appendToStream(streamName, events, options);
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const store = storeOn(refusingAbandonments);

    const error = await rejectionOf(
      store.execute(
        request(async () => {
          throw new PartsAnsweredError({ 0: { status: 422 } });
        }),
      ),
    );

    expect(error).to.be.instanceOf(StoreUnavailableError);
    // The client saw no part: once the claim is stale, a retry decides them all again.
    advance(STALE_AFTER_MS);
    const attempts: RunAttempt[] = [];
    await storeOn(temp.store).execute(
      request(async (resourceId, attempt) => {
        attempts.push(attempt);
        return created(resourceId);
      }),
    );
    expect(attempts).to.deep.equal([{ retry: true, finalParts: {}, claimValidUntil: leaseOf(now) }]);
  });

  it('executes 20 concurrent requests with one key exactly once, with 20 identical outcomes', async () => {
    const store = storeOn(temp.store);
    const calls: string[] = [];
    const slowRun = async (resourceId: string): Promise<IdempotentResponse> => {
      calls.push(resourceId);
      await new Promise((resolve) => setTimeout(resolve, 20));
      return created(resourceId);
    };

    const outcomes = await Promise.all(Array.from({ length: 20 }, () => store.execute(request(slowRun))));

    expect(calls).to.deep.equal(['res-1']);
    const withoutFlag = ({ replayed: _replayed, ...rest }: IdempotentOutcome) => rest;
    for (const outcome of outcomes) expect(withoutFlag(outcome)).to.deep.equal(created('res-1'));
    expect(outcomes.filter((outcome) => !outcome.replayed)).to.have.length(1);
    expect(await streamEvents()).to.have.length(2);
  });

  it('gives a concurrent request with another fingerprint 422 at once', async () => {
    const store = storeOn(temp.store);
    const release = deferred();
    const calls: string[] = [];
    const leader = store.execute(
      request(async (resourceId) => {
        calls.push(resourceId);
        await release.promise;
        return created(resourceId);
      }),
    );
    await eventually(() => calls.length === 1);

    const error = await rejectionOf(store.execute(request(recordingRun(calls), { fingerprint: 'fingerprint-2' })));

    expect(error).to.be.instanceOf(IdempotencyKeyReusedError);
    release.resolve();
    expect(await leader).to.include({ status: 201, replayed: false });
    expect(calls).to.have.length(1);
  });

  it('replays the recorded response to its request while another request with the key is being refused', async () => {
    const store = storeOn(temp.store);
    const calls: string[] = [];
    const first = await store.execute(request(recordingRun(calls)));

    const [other, retry] = await Promise.allSettled([
      store.execute(request(recordingRun(calls), { fingerprint: 'fingerprint-2' })),
      store.execute(request(recordingRun(calls))),
    ]);

    expect((other as PromiseRejectedResult).reason).to.be.instanceOf(IdempotencyKeyReusedError);
    expect(retry.status).to.equal('fulfilled');
    expect((retry as PromiseFulfilledResult<unknown>).value).to.deep.equal({ ...first, replayed: true });
    expect(calls).to.have.length(1);
  });

  it('answers 409 with a retry hint when a concurrent request waits longer than inFlightWaitMs', async () => {
    const store = storeOn(temp.store, { inFlightWaitMs: 30 });
    const release = deferred();
    const calls: string[] = [];
    const leader = store.execute(
      request(async (resourceId) => {
        calls.push(resourceId);
        await release.promise;
        return created(resourceId);
      }),
    );
    await eventually(() => calls.length === 1);

    const error = await rejectionOf(store.execute(request(recordingRun(calls))));

    expect(error).to.be.instanceOf(IdempotentRequestInProgressError);
    expect(error).to.include({ status: 409, type: 'idempotent-request-in-progress' });
    expect((error as IdempotentRequestInProgressError).problemExtensions()).to.deep.equal({ retryAfterSeconds: 1 });
    release.resolve();
    await leader;
    expect(calls).to.have.length(1);
  });

  it('shares an unexpected failure with the requests waiting on it', async () => {
    const store = storeOn(temp.store);
    const release = deferred();
    const failure = new Error('ledger crashed');
    let calls = 0;
    const failing = async (): Promise<IdempotentResponse> => {
      calls++;
      await release.promise;
      throw failure;
    };
    const executions = [store.execute(request(failing)), store.execute(request(failing))];
    release.resolve();

    const errors = await Promise.all(executions.map((execution) => rejectionOf(execution)));

    expect(errors).to.deep.equal([failure, failure]);
    expect(calls).to.equal(1);
  });

  it('lets exactly one of two processes racing for a key run it; the other gets 409', async () => {
    const stores = [storeOn(temp.store), storeOn(temp.openAnother())];
    const release = deferred();
    const calls: string[] = [];
    const gatedRun = async (resourceId: string): Promise<IdempotentResponse> => {
      calls.push(resourceId);
      await release.promise;
      return created(resourceId);
    };
    const settled = stores.map((store) =>
      store.execute(request(gatedRun)).then(
        (outcome) => ({ outcome }),
        (error: unknown) => ({ error }),
      ),
    );

    const loser = await Promise.race(settled);
    expect(loser).to.have.property('error').that.is.instanceOf(IdempotentRequestInProgressError);
    release.resolve();
    const results = await Promise.all(settled);

    expect(calls).to.have.length(1);
    const winner = results.find((result) => 'outcome' in result);
    expect(winner).to.deep.equal({ outcome: { ...created(calls[0]!), replayed: false } });
    expect(await stores[1]!.execute(request(gatedRun))).to.deep.equal({ ...created(calls[0]!), replayed: true });
  });

  it('answers 409 to a request whose claim is fresh but unanswered, and takes it over once stale', async () => {
    await appendStartedDirectly('res-crashed', now);
    const store = storeOn(temp.store);
    const calls: string[] = [];

    advance(STALE_AFTER_MS - 1);
    const error = await rejectionOf(store.execute(request(recordingRun(calls))));
    expect(error).to.be.instanceOf(IdempotentRequestInProgressError);
    expect(calls).to.be.empty;

    advance(1);
    const takeover = await store.execute(request(recordingRun(calls)));

    expect(calls).to.deep.equal(['res-crashed']);
    expect(takeover).to.deep.equal({ ...created('res-crashed'), replayed: false });
    const events = await streamEvents();
    expect(events.map((event) => event.type)).to.deep.equal([
      'IdempotentRequestStarted',
      'IdempotentRequestStarted',
      'IdempotentRequestCompleted',
    ]);
    // Retention still counts from the first attempt.
    expect(events[1]!.data['expiresAt']).to.equal(events[0]!.data['expiresAt']);
  });

  it('answers a stale process that finishes after a takeover with the completion already recorded', async () => {
    const slow = storeOn(temp.store);
    const other = storeOn(temp.openAnother());
    const release = deferred();
    const calls: string[] = [];
    const slowExecution = slow.execute(
      request(async (resourceId) => {
        calls.push(resourceId);
        await release.promise;
        return { status: 201, body: { by: 'slow' } };
      }),
    );
    await eventually(() => calls.length === 1);

    advance(STALE_AFTER_MS);
    const takeover = await other.execute(
      request(async (resourceId) => {
        calls.push(resourceId);
        return { status: 201, body: { by: 'takeover' } };
      }),
    );
    release.resolve();

    expect(takeover).to.deep.equal({ status: 201, body: { by: 'takeover' }, headers: {}, replayed: false });
    expect(await slowExecution).to.deep.equal({ ...takeover, replayed: true });
    expect(calls).to.deep.equal(['res-1', 'res-1']);
    expect(await streamEvents()).to.have.length(3);
  });

  it('lets the first completion win when a process finishes within its lease before the one that took over', async () => {
    const slow = storeOn(temp.store);
    // A clock ahead of the slow process's took its claim for stale while its lease still held.
    const other = storeOn(temp.openAnother(), { clock: () => new Date(now.getTime() + STALE_AFTER_MS) });
    const releaseSlow = deferred();
    const releaseOther = deferred();
    const calls: string[] = [];
    const gated = (gate: Promise<void>, by: string) => async (resourceId: string) => {
      calls.push(resourceId);
      await gate;
      return { status: 201, body: { by } };
    };
    const slowExecution = slow.execute(request(gated(releaseSlow.promise, 'slow')));
    await eventually(() => calls.length === 1);
    const otherExecution = other.execute(request(gated(releaseOther.promise, 'takeover')));
    await eventually(() => calls.length === 2);

    releaseSlow.resolve();
    const first = await slowExecution;
    releaseOther.resolve();
    const second = await otherExecution;

    expect(first).to.deep.equal({ status: 201, body: { by: 'slow' }, headers: {}, replayed: false });
    expect(second).to.deep.equal({ ...first, replayed: true });
    expect(await slow.execute(request(gated(Promise.resolve(), 'later')))).to.deep.equal(second);
    expect(calls).to.deep.equal(['res-1', 'res-1']);
  });

  it('records nothing for a process whose lease ran out before a takeover it finishes ahead of: 409, and the takeover answers', async () => {
    const slow = storeOn(temp.store);
    const other = storeOn(temp.openAnother());
    const releaseSlow = deferred();
    const releaseOther = deferred();
    const calls: string[] = [];
    const gated = (gate: Promise<void>, response: IdempotentResponse) => async (resourceId: string) => {
      calls.push(resourceId);
      await gate;
      return response;
    };
    const refused: IdempotentResponse = { status: 422, body: { type: 'insufficient-funds' } };
    const slowExecution = rejectionOf(slow.execute(request(gated(releaseSlow.promise, refused))));
    await eventually(() => calls.length === 1);
    advance(STALE_AFTER_MS);
    const otherExecution = other.execute(request(gated(releaseOther.promise, created('res-1'))));
    await eventually(() => calls.length === 2);

    // The slow run decided before the takeover ran again, which may decide otherwise: its answer is not the key's.
    releaseSlow.resolve();
    const error = await slowExecution;
    expect(error).to.be.instanceOf(IdempotentRequestInProgressError);
    expect(error).to.have.property('retryAfterSeconds', 1);
    releaseOther.resolve();

    expect(await otherExecution).to.deep.equal({ ...created('res-1'), replayed: false });
    expect(await slow.execute(request(gated(Promise.resolve(), refused)))).to.deep.equal({ ...created('res-1'), replayed: true });
    expect(calls).to.deep.equal(['res-1', 'res-1']);
    expect((await streamEvents()).map((event) => event.type)).to.deep.equal([
      'IdempotentRequestStarted',
      'IdempotentRequestStarted',
      'IdempotentRequestCompleted',
    ]);
  });

  it('gives a run the lease of its claim: half its life, renewed by every takeover', async () => {
    const attempts: RunAttempt[] = [];
    const stalled = deferred();
    const stalledExecution = rejectionOf(
      storeOn(temp.store).execute(
        request(async (_resourceId, attempt) => {
          attempts.push(attempt);
          await stalled.promise;
          throw new StoreUnavailableError('the store is unreachable');
        }),
      ),
    );
    await eventually(() => attempts.length === 1);
    const claimed = now;
    advance(STALE_AFTER_MS);

    await storeOn(temp.openAnother()).execute(
      request(async (resourceId, attempt) => {
        attempts.push(attempt);
        return created(resourceId);
      }),
    );
    stalled.resolve();
    await stalledExecution;

    expect(attempts.map((attempt) => attempt.claimValidUntil)).to.deep.equal([leaseOf(claimed), leaseOf(now)]);
  });

  it("gives a sole writer's runs no lease: none of its claims is taken over while it runs", async () => {
    const attempts: RunAttempt[] = [];
    await storeOn(temp.store, { soleWriter: true }).execute(
      request(async (resourceId, attempt) => {
        attempts.push(attempt);
        return created(resourceId);
      }),
    );

    expect(attempts).to.deep.equal([{ retry: false, finalParts: {} }]);
  });

  it('keeps a key past its retention in progress while its latest claim may still run, then starts a new cycle', async () => {
    // Taken over shortly before the retention ended: the run is fresh although the key has expired.
    await appendStartedDirectly('res-taken-over', new Date(now.getTime() - 5_000), new Date(now.getTime() - 1));
    const store = storeOn(temp.store);
    const calls: string[] = [];

    const refused = await rejectionOf(store.execute(request(recordingRun(calls), { fingerprint: 'fingerprint-2' })));
    expect(refused).to.be.instanceOf(IdempotentRequestInProgressError);
    expect(calls).to.deep.equal([]);

    advance(STALE_AFTER_MS);
    const reused = await store.execute(request(recordingRun(calls), { fingerprint: 'fingerprint-2' }));
    expect(reused).to.include({ status: 201, replayed: false });
    expect(calls).to.have.length(1);
    expect(calls[0]).to.not.equal('res-taken-over');
  });

  it('makes the key reusable once its retention has passed', async () => {
    const store = storeOn(temp.store);
    const calls: string[] = [];
    await store.execute(request(recordingRun(calls)));

    advance(HOUR - 1);
    const early = await rejectionOf(store.execute(request(recordingRun(calls), { fingerprint: 'fingerprint-2' })));
    expect(early).to.be.instanceOf(IdempotencyKeyReusedError);

    advance(1);
    const reused = await store.execute(request(recordingRun(calls), { fingerprint: 'fingerprint-2' }));

    // The refused attempt may have minted an id for its claim; the reuse runs under a new one.
    expect(calls).to.have.length(2);
    expect(calls[1]).to.not.equal('res-1');
    expect(reused).to.deep.equal({ ...created(calls[1]!), replayed: false });
    expect(await store.execute(request(recordingRun(calls), { fingerprint: 'fingerprint-2' }))).to.deep.equal({
      ...reused,
      replayed: true,
    });
  });

  it('finishes a request never answered when it is retried past its retention: same resource id, answer kept again', async () => {
    const store = storeOn(temp.store);
    const calls: string[] = [];
    const attempts: RunAttempt[] = [];
    await rejectionOf(
      store.execute(
        request(async (resourceId) => {
          calls.push(resourceId);
          throw new StoreUnavailableError('event store unreachable');
        }),
      ),
    );

    advance(HOUR + 1);
    const retried = await store.execute(
      request(async (resourceId, attempt) => {
        attempts.push(attempt);
        return recordingRun(calls)(resourceId);
      }),
    );

    // The first run may have moved money under res-1: only that operation may answer the request.
    expect(calls).to.deep.equal(['res-1', 'res-1']);
    expect(attempts.map(({ retry }) => retry)).to.deep.equal([true]);
    expect(retried).to.deep.equal({ ...created('res-1'), replayed: false });
    advance(HOUR - 1);
    expect(await store.execute(request(recordingRun(calls)))).to.deep.equal({ ...retried, replayed: true });
    expect(calls).to.have.length(2);
    // Another request may use the key once the answer's retention has passed.
    advance(1);
    await store.execute(request(recordingRun(calls), { fingerprint: 'fingerprint-2' }));
    expect(calls).to.have.length(3);
    expect(calls[2]).to.not.equal('res-1');
  });

  it('takes over, past its retention, the stale claim of a run that never answered, for the same request', async () => {
    await appendStartedDirectly('res-crashed', new Date(now.getTime() - HOUR), now);
    const store = storeOn(temp.store);
    const calls: string[] = [];

    advance(1);
    const takeover = await store.execute(request(recordingRun(calls)));

    expect(calls).to.deep.equal(['res-crashed']);
    expect(takeover).to.deep.equal({ ...created('res-crashed'), replayed: false });
  });

  it('scopes keys per caller', async () => {
    const store = storeOn(temp.store);
    const calls: string[] = [];

    const [mine, theirs] = await Promise.all([
      store.execute(request(recordingRun(calls))),
      store.execute(request(recordingRun(calls), { callerId: 'merchant:other', fingerprint: 'fingerprint-other' })),
    ]);

    expect(calls).to.have.members(['res-1', 'res-2']);
    expect([mine.replayed, theirs.replayed]).to.deep.equal([false, false]);
    expect(idempotencyStreamName(CALLER, KEY)).to.not.equal(idempotencyStreamName('merchant:other', KEY));
  });

  it('derives event ids from the stream, the revision and the execution attempt', async () => {
    const store = storeOn(temp.store, { newAttemptId: () => 'attempt-1' });
    await store.execute(request(recordingRun([])));

    const streamName = idempotencyStreamName(CALLER, KEY);
    expect((await streamEvents()).map((event) => event.id)).to.deep.equal([
      deterministicEventId(streamName, '0', 'attempt-1'),
      deterministicEventId(streamName, '1', 'attempt-1'),
    ]);
  });

  it('keeps records for 24 hours by default and refuses nonsensical durations', () => {
    expect(DEFAULT_RETENTION_MS).to.equal(24 * HOUR);
    expect(() => storeOn(temp.store, { retentionMs: Number.NaN })).to.throw(RangeError, /retentionMs/);
    expect(() => storeOn(temp.store, { staleAfterMs: 0 })).to.throw(RangeError, /staleAfterMs/);
  });
});

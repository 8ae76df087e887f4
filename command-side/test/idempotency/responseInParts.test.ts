import { expect } from 'chai';
import {
  StoreUnavailableError,
  ValidationError,
  collect,
  loadConfig,
  type AppendOptions,
  type EventStore,
  type EventToAppend,
} from '@folio/shared';
import { sliceForEncoding } from '../../src/idempotency/appendSize.js';
import { IdempotentRequestInProgressError } from '../../src/idempotency/errors.js';
import {
  createIdempotencyStore,
  idempotencyStreamName,
  type ExecuteRequest,
  type IdempotentResponse,
  type RunAttempt,
} from '../../src/idempotency/idempotencyStore.js';
import { refusingAppendsOver } from './appendSizeLimit.js';
import { openTempStore, rejectionOf, type TempStore } from './testSupport.js';

const MAX_APPEND_BYTES = 64 * 1024;
const STALE_AFTER_MS = 30_000;
const CALLER = 'merchant:acme';
const KEY = 'payroll-2025-03';
const STREAM = idempotencyStreamName(CALLER, KEY);

/** About four appends' worth of body, with text JSON must escape and characters UTF-8 spends several bytes on. */
const largeResponse = (marker: string): IdempotentResponse => ({
  status: 200,
  headers: { 'x-batch': marker },
  body: {
    results: Array.from({ length: 200 }, (_, index) => ({
      index,
      marker,
      note: `"${index}" \\ Zahlung für 東京 🚀 `.padEnd(1000, 'é'),
    })),
  },
});

/** `store` with `before` called ahead of every append, which it may refuse by throwing. */
const interceptingAppends = (store: EventStore, before: (streamName: string, event: EventToAppend) => Promise<void>): EventStore =>
  new Proxy(store, {
    get(target, property) {
      if (property === 'appendToStream') {
        return async (streamName: string, events: readonly EventToAppend[], options?: AppendOptions) => {
          for (const event of events) await before(streamName, event);
          return target.appendToStream(streamName, events, options);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

describe('idempotency store: responses larger than one append', () => {
  let temp: TempStore;
  let now: Date;
  const clock = (): Date => now;

  const storeOn = (eventStore: EventStore) =>
    createIdempotencyStore({ eventStore, clock, staleAfterMs: STALE_AFTER_MS, maxAppendBytes: MAX_APPEND_BYTES });

  const request = (run: (resourceId: string, attempt: RunAttempt) => Promise<IdempotentResponse>): ExecuteRequest => ({
    callerId: CALLER,
    key: KEY,
    fingerprint: 'fingerprint-1',
    newResourceId: () => 'batch-1',
    run,
  });

  const neverRuns = async (): Promise<IdempotentResponse> => {
    throw new Error('a recorded response must be replayed, not run again');
  };

  const streamTypes = async () => (await collect(temp.store.readStream(STREAM))).map((event) => event.type);

  beforeEach(() => {
    temp = openTempStore();
    now = new Date('2025-03-14T09:30:00.000Z');
  });

  afterEach(async () => {
    await temp.dispose();
  });

  it('keeps the parts written before a takeover, completes after its claim, and replays them whole', async () => {
    const limited = refusingAppendsOver(temp.store, MAX_APPEND_BYTES);
    let tookOver = false;
    // Another process takes the claim over between the first part and the second.
    const racing = interceptingAppends(limited, async (streamName, event) => {
      if (tookOver || event.type !== 'IdempotentResponsePart' || event.data.index !== 1) return;
      tookOver = true;
      const [claim] = await collect(temp.store.readStream(streamName));
      await temp.store.appendToStream(streamName, [
        { id: '8a7f4c1e-2b3d-4e5f-9a6b-7c8d9e0f1a2b', type: claim!.type, data: { ...claim!.data, processId: 'another' }, metadata: claim!.metadata! },
      ]);
    });

    const outcome = await storeOn(racing).execute(request(async () => largeResponse('first')));

    expect(outcome).to.deep.equal({ ...largeResponse('first'), replayed: false });
    const types = await streamTypes();
    expect(types.slice(0, 4)).to.deep.equal([
      'IdempotentRequestStarted',
      'IdempotentResponsePart',
      'IdempotentRequestStarted',
      'IdempotentResponsePart',
    ]);
    expect(types.at(-1)).to.equal('IdempotentRequestCompletedInParts');
    expect(types.filter((type) => type === 'IdempotentResponsePart').length).to.be.at.least(3);

    const head = await temp.store.headPosition();
    const replay = await storeOn(refusingAppendsOver(temp.openAnother(), MAX_APPEND_BYTES)).execute(request(neverRuns));
    expect(replay.replayed).to.equal(true);
    expect(replay.status).to.equal(200);
    expect(replay.headers).to.deep.equal({ 'x-batch': 'first' });
    expect(JSON.stringify(replay.body)).to.equal(JSON.stringify(largeResponse('first').body));
    expect(await temp.store.headPosition()).to.equal(head);
  });

  it('leaves the claim open when recording fails between parts; the takeover’s answer is the one replayed', async () => {
    let failNextSecondPart = true;
    const failing = interceptingAppends(refusingAppendsOver(temp.store, MAX_APPEND_BYTES), async (_streamName, event) => {
      if (failNextSecondPart && event.type === 'IdempotentResponsePart' && event.data.index === 1) {
        failNextSecondPart = false;
        throw new StoreUnavailableError('the store is unreachable');
      }
    });
    const store = storeOn(failing);

    expect(await rejectionOf(store.execute(request(async () => largeResponse('crashed'))))).to.be.instanceOf(StoreUnavailableError);
    expect(await streamTypes()).to.deep.equal(['IdempotentRequestStarted', 'IdempotentResponsePart']);
    expect(await rejectionOf(store.execute(request(neverRuns)))).to.be.instanceOf(IdempotentRequestInProgressError);

    now = new Date(now.getTime() + STALE_AFTER_MS + 1);
    const attempts: RunAttempt[] = [];
    const takeover = await store.execute(
      request(async (_resourceId, attempt) => {
        attempts.push(attempt);
        return largeResponse('takeover');
      }),
    );
    expect(attempts).to.deep.equal([{ retry: true, finalParts: {}, claimValidUntil: new Date(now.getTime() + STALE_AFTER_MS / 2) }]);
    expect(takeover).to.deep.equal({ ...largeResponse('takeover'), replayed: false });

    const replay = await storeOn(temp.openAnother()).execute(request(neverRuns));
    expect(replay).to.deep.equal({ ...largeResponse('takeover'), replayed: true });
  });

  it('cuts text into slices that fit once encoded as JSON strings and join back to it', () => {
    const text = `${'"\\'.repeat(500)}${'東京🚀é'.repeat(700)}${'a'.repeat(3000)}\u2028🚀`;
    const maxBytes = 1000;
    const slices = sliceForEncoding(text, maxBytes);
    expect(slices.join('')).to.equal(text);
    expect(slices.length).to.be.greaterThan(1);
    for (const slice of slices) {
      expect(Buffer.byteLength(JSON.stringify(slice)) - 2).to.be.at.most(maxBytes);
      expect(/^[\udc00-\udfff]/.test(slice), 'a slice starts inside a surrogate pair').to.equal(false);
    }
  });
});

describe('configuration: the event store’s append limit', () => {
  it('is none on the embedded store and 1 MiB on EventStoreDB unless set to what the server allows', () => {
    expect(loadConfig({}).eventStoreMaxAppendBytes).to.equal(undefined);
    expect(loadConfig({ EVENTSTORE_URL: 'esdb://localhost:2113' }).eventStoreMaxAppendBytes).to.equal(1024 * 1024);
    expect(
      loadConfig({ EVENTSTORE_URL: 'esdb://localhost:2113', FOLIO_EVENTSTORE_MAX_APPEND_BYTES: '4194304' }).eventStoreMaxAppendBytes,
    ).to.equal(4 * 1024 * 1024);
    expect(() => loadConfig({ EVENTSTORE_URL: 'esdb://localhost:2113', FOLIO_EVENTSTORE_MAX_APPEND_BYTES: '1000' })).to.throw(
      ValidationError,
      /FOLIO_EVENTSTORE_MAX_APPEND_BYTES/,
    );
  });
});

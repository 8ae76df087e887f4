/**
 * Two write APIs over one log, as production runs several write-side processes against one
 * EventStoreDB cluster: each has its own stream state caches, locks, idempotency store and
 * movement recovery; they share nothing but the store.
 */
import { expect } from 'chai';
import {
  checkLedger,
  type AppendOptions,
  type EventStore,
  type EventToAppend,
  type LedgerReport,
  type ReadStreamOptions,
  type SqliteEventStore,
} from '@folio/shared';
import { idempotencyStreamName } from '../../src/idempotency/index.js';
import { ApiServer, openTempStore, readAllEvents, totalsPerCurrency, type ApiResponse, type StartApiOptions, type TempStore } from '../api/apiHarness.js';
import { interceptAppends, type AppendCall } from '../commandHandling/testSupport.js';

/**
 * The shared log as a write API of a multi-process deployment sees it: not the embedded store's
 * sole writer (whose idempotency store takes over another process's claim at once, as it can
 * only be a crashed earlier run), but one of several writers, as on EventStoreDB.
 */
export const asSharedLog = (store: SqliteEventStore): EventStore =>
  new Proxy(store, {
    get(target, property) {
      if (property === 'kind') return 'eventstoredb';
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

export interface TwoInstances {
  temp: TempStore;
  store: SqliteEventStore;
  a: ApiServer;
  b: ApiServer;
  /** Request `i` goes to A when even, to B when odd. */
  either(i: number): ApiServer;
  close(): Promise<void>;
}

/** Appends to streams named by `slow` reach the log `delayMs` late, as from a process further from the cluster. */
export const slowAppendsTo = (store: EventStore, slow: (streamName: string) => boolean, delayMs: number): EventStore =>
  new Proxy(store, {
    get(target, property) {
      if (property === 'appendToStream') {
        return async (streamName: string, events: readonly EventToAppend[], appendOptions?: AppendOptions) => {
          if (slow(streamName)) await new Promise((resolve) => setTimeout(resolve, delayMs));
          return target.appendToStream(streamName, events, appendOptions);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

/** Reads of `streamName` reach the log once `before` has resolved; others as they come. */
const readsOfDelayed = (store: EventStore, streamName: string, before: () => Promise<unknown>): EventStore =>
  new Proxy(store, {
    get(target, property) {
      if (property === 'readStream') {
        return (name: string, readOptions?: ReadStreamOptions) =>
          name !== streamName
            ? target.readStream(name, readOptions)
            : (async function* () {
                await before();
                yield* target.readStream(name, readOptions);
              })();
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

/** Reads of `streamName` reach the log `delayMs` late: this process decides what to do about it after the others. */
export const slowReadsOf = (store: EventStore, streamName: string, delayMs: number): EventStore =>
  readsOfDelayed(store, streamName, () => new Promise((resolve) => setTimeout(resolve, delayMs)));

/**
 * Appends that `held` picks wait until `release`: the process making them is stopped at that step
 * (between deciding a leg and appending it) for as long as a test needs.
 */
export interface AppendGate {
  wrap(store: EventStore): EventStore;
  /** Resolves with the first append held, once it is. */
  reached: Promise<AppendCall>;
  release(): void;
}

export const holdAppends = (held: (call: AppendCall) => boolean): AppendGate => {
  let reach!: (call: AppendCall) => void;
  const reached = new Promise<AppendCall>((resolve) => (reach = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    wrap: (store) =>
      interceptAppends(store, async (call, proceed) => {
        if (held(call)) {
          reach(call);
          await released;
        }
        return proceed();
      }),
    reached,
    release,
  };
};

/** The journal a posting append belongs to, if it is one. */
export const journalOf = (call: AppendCall): { id: string; kind: string; leg: string } | undefined =>
  (call.events[0]?.data as { journal?: { id: string; kind: string; leg: string } } | undefined)?.journal;

/** Reads of `streamName` wait until `until` resolves: this process looks at it only once the test lets it. */
export const readsOfAfter = (store: EventStore, streamName: string, until: Promise<void>): EventStore =>
  readsOfDelayed(store, streamName, () => until);

export interface TwoInstancesOptions {
  /** For both instances. */
  api?: StartApiOptions;
  /** Writes to the log before either starts (what a crashed run left). */
  prepare?: (store: SqliteEventStore) => Promise<void>;
  /** The log as each instance reaches it. */
  wrap?: { a?: (store: EventStore) => EventStore; b?: (store: EventStore) => EventStore };
}

export const startTwoInstances = async ({ api = {}, prepare, wrap = {} }: TwoInstancesOptions = {}): Promise<TwoInstances> => {
  const temp = openTempStore(api.clock);
  if (prepare !== undefined) await prepare(temp.store);
  const shared = asSharedLog(temp.store);
  // Started together, as two processes restarted after one crash: their recoveries race.
  const [a, b] = await Promise.all([
    ApiServer.start(temp.store, { ...api, eventStore: wrap.a?.(shared) ?? shared }),
    ApiServer.start(temp.store, { ...api, eventStore: wrap.b?.(shared) ?? shared }),
  ]);
  return {
    temp,
    store: temp.store,
    a,
    b,
    either: (i) => (i % 2 === 0 ? a : b),
    close: async () => {
      await Promise.all([a.stop(), b.stop()]);
      await temp.dispose();
    },
  };
};

/** Replays the whole log: no violation of the books' rules at any position, Σ balances + in transit = 0 per currency. */
export const expectBooksRight = async (store: EventStore): Promise<LedgerReport> => {
  const report = checkLedger(await readAllEvents(store));
  expect(report.violations, report.violations.join('\n')).to.deep.equal([]);
  for (const [currency, total] of totalsPerCurrency(report)) expect(total, currency).to.equal(0n);
  return report;
};

export const SOURCE = '7300000000000009001';
export const DESTINATION = '7300000000000009002';
/** Callers are not authenticated yet: every request is this caller's. */
export const CALLER = 'anonymous';

export interface Answer {
  status: number;
  body: any;
}

export interface TransferRoute {
  send: (api: ApiServer, key: string) => Promise<ApiResponse>;
  answerOf: (response: ApiResponse) => Answer;
}

/** The transfer asked for, alone or as the only item of a batch, and how to read its own answer. */
export const transferRoutes: Record<string, TransferRoute> = {
  'a transfer': {
    send: (api, key) => api.transfer(SOURCE, DESTINATION, '500', { key }),
    answerOf: (response) => response,
  },
  'a batch item': {
    send: (api, key) =>
      api.post('/v1/transfers/batch', { transfers: [{ fromAccountId: SOURCE, toAccountId: DESTINATION, amount: '500', currency: 'EUR' }] }, { key }),
    answerOf: (response) => {
      expect(response.status, response.text).to.equal(200);
      return response.body.results[0] as Answer;
    },
  },
};

/** The append recording the answer to `key` of `CALLER`. */
export const completionOf =
  (key: string) =>
  (call: AppendCall): boolean =>
    call.streamName === idempotencyStreamName(CALLER, key) && call.events.some((event) => event.type === 'IdempotentRequestCompleted');

/**
 * The write API over real HTTP on the embedded store, assembled as `standalone/src/folio.ts`
 * assembles it (correlation id → health → write routes → 404 → problem details), so a test sees
 * what a product backend would see: status codes, headers and problem documents as sent.
 */
import { request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import {
  checkLedger,
  collect,
  correlationId,
  healthRouter,
  notFoundHandler,
  problemDetailsHandler,
  StoreUnavailableError,
  type AppendOptions,
  type EventStore,
  type EventToAppend,
  type GlobalPosition,
  type LedgerReport,
  type RecordedEvent,
  type SqliteEventStore,
} from '@folio/shared';
import { createWriteApi, type WriteApi, type WriteApiOptions } from '../../src/writeApi.js';
import { openTempStore } from '../tempEventStore.js';

export interface ApiResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  /** The parsed JSON body, or `undefined` when the body is not JSON. */
  body: any;
  text: string;
}

export { openTempStore, type TempStore } from '../tempEventStore.js';

export interface StartApiOptions extends Partial<Omit<WriteApiOptions, 'eventStore'>> {
  /** The store the write API uses, when it must differ from the harness's (a proxy that fails appends). */
  eventStore?: EventStore;
}

export interface OpenAccountOptions {
  ownerId?: string;
  currency?: string;
  kind?: 'customer' | 'merchant';
  overdraftLimit?: string;
}

/** Every id minted by a write API in these tests comes from its own node id, so restarts never collide. */
let nextNodeId = 1;

const toHeaderRecord = (headers: Headers | IncomingHttpHeaders): Record<string, string> => {
  const record: Record<string, string> = {};
  if (headers instanceof Headers) {
    headers.forEach((value, name) => (record[name] = value));
  } else {
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined) record[name] = Array.isArray(value) ? value.join(', ') : value;
    }
  }
  return record;
};

const parseBody = (text: string, contentType: string | undefined): unknown => {
  if (contentType === undefined || !/json/.test(contentType)) return undefined;
  return text === '' ? undefined : JSON.parse(text);
};

export class ApiServer {
  private constructor(
    readonly store: SqliteEventStore,
    readonly writeApi: WriteApi,
    private readonly server: Server,
    readonly baseUrl: string,
  ) {}

  /** A write API on `store`, started (interrupted movements resumed) and listening on a free port. */
  static async start(store: SqliteEventStore, options: StartApiOptions = {}): Promise<ApiServer> {
    const { eventStore, ...rest } = options;
    const writeApi = createWriteApi({
      nodeId: nextNodeId++,
      // Errors the write side logs on its own (a failed resume) would clutter the test output.
      onError: () => {},
      ...rest,
      eventStore: eventStore ?? store,
    });
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    app.use(correlationId());
    app.use(healthRouter({ version: 'test', eventStore: eventStore ?? store }));
    app.use(writeApi.router);
    app.use(notFoundHandler());
    app.use(problemDetailsHandler());
    await writeApi.start();
    const server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    const { port } = server.address() as AddressInfo;
    return new ApiServer(store, writeApi, server, `http://127.0.0.1:${port}`);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    await this.writeApi.stop();
  }

  async request(method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}) {
    const hasBody = init.body !== undefined;
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...init.headers },
      ...(hasBody ? { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) } : {}),
    });
    const text = await response.text();
    const headers = toHeaderRecord(response.headers);
    return { status: response.status, headers, text, body: parseBody(text, headers['content-type']) } as ApiResponse;
  }

  /** POST a JSON body (an object is serialised, a string is sent as is), with an optional idempotency key. */
  post(path: string, body: unknown, options: { key?: string; headers?: Record<string, string> } = {}) {
    const headers = { ...(options.key === undefined ? {} : { 'idempotency-key': options.key }), ...options.headers };
    return this.request('POST', path, { body, headers });
  }

  get(path: string) {
    return this.request('GET', path);
  }

  /**
   * A request through `node:http`, for what fetch will not send: no Content-Type at all, or a
   * body streamed in chunks without a Content-Length.
   */
  raw(options: { method: string; path: string; headers?: Record<string, string>; chunks?: (string | Buffer)[] }) {
    return new Promise<ApiResponse>((resolve, reject) => {
      const request = httpRequest(`${this.baseUrl}${options.path}`, { method: options.method, headers: options.headers ?? {} });
      request.on('error', reject);
      request.on('response', (response) => {
        const parts: Buffer[] = [];
        response.on('data', (part: Buffer) => parts.push(part));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          const headers = toHeaderRecord(response.headers);
          resolve({ status: response.statusCode ?? 0, headers, text, body: parseBody(text, headers['content-type']) });
        });
      });
      for (const chunk of options.chunks ?? []) request.write(chunk);
      request.end();
    });
  }

  async openAccount(options: OpenAccountOptions = {}): Promise<any> {
    const response = await this.post('/v1/accounts', {
      ownerId: options.ownerId ?? 'owner-1',
      currency: options.currency ?? 'EUR',
      kind: options.kind ?? 'customer',
      ...(options.overdraftLimit === undefined ? {} : { overdraftLimit: options.overdraftLimit }),
    });
    expect(response.status, response.text).to.equal(201);
    return response.body;
  }

  async deposit(accountId: string, amount: string, currency = 'EUR', key = uniqueKey('deposit')): Promise<ApiResponse> {
    return this.post('/v1/deposits', { accountId, amount, currency, reference: `deposit ${key}` }, { key });
  }

  /** Opens an account and deposits `amount` into it (skipped for "0"); returns the account's id. */
  async openFundedAccount(amount: string, options: OpenAccountOptions = {}): Promise<string> {
    const account = await this.openAccount(options);
    if (amount !== '0') {
      const deposited = await this.deposit(account.id, amount, options.currency ?? 'EUR');
      expect(deposited.status, deposited.text).to.equal(201);
    }
    return account.id as string;
  }

  transfer(
    fromAccountId: string,
    toAccountId: string,
    amount: string,
    options: { currency?: string; key?: string; extra?: Record<string, unknown> } = {},
  ): Promise<ApiResponse> {
    return this.post(
      '/v1/transfers',
      { fromAccountId, toAccountId, amount, currency: options.currency ?? 'EUR', ...options.extra },
      { key: options.key ?? uniqueKey('transfer') },
    );
  }

  async account(accountId: string): Promise<any> {
    const response = await this.get(`/v1/accounts/${accountId}`);
    expect(response.status, response.text).to.equal(200);
    return response.body;
  }

  async available(accountId: string): Promise<string> {
    return (await this.account(accountId)).balance.available as string;
  }
}

let keyCounter = 0;
/** An idempotency key no other request of the run uses. */
export const uniqueKey = (prefix = 'key'): string => `${prefix}-${process.pid}-${++keyCounter}-${Date.now()}`;

export const readAllEvents = (store: EventStore): Promise<RecordedEvent[]> => collect(store.readAll());

const isIdempotencyRecord = (event: RecordedEvent) => event.streamName.startsWith('idempotency-');

/** The books' events: everything but idempotency records (which a remembered rejection does write). */
export const ledgerEvents = async (store: EventStore): Promise<RecordedEvent[]> =>
  (await readAllEvents(store)).filter((event) => !isIdempotencyRecord(event));

/** Where the log ends; unchanged across a request means the request wrote nothing at all. */
export const headPosition = async (store: EventStore): Promise<GlobalPosition | undefined> => store.headPosition();

/** Replays the whole log through the ledger checks and fails the test on any violation. */
export const expectBooksBalanced = async (store: EventStore): Promise<LedgerReport> => {
  const report = checkLedger(await readAllEvents(store));
  expect(report.violations, report.violations.join('\n')).to.deep.equal([]);
  return report;
};

/** Σ balances + in transit per currency, from a ledger report: zero for every currency when money is conserved. */
export const totalsPerCurrency = (report: LedgerReport): Map<string, bigint> => {
  const totals = new Map<string, bigint>();
  for (const { currency, balance } of report.balances.values()) totals.set(currency, (totals.get(currency) ?? 0n) + balance);
  for (const [currency, transit] of report.inTransit) totals.set(currency, (totals.get(currency) ?? 0n) + transit);
  return totals;
};

/** A temp store and a write API on it: what most test files need, torn down in one call. */
export interface ApiHarness {
  api: ApiServer;
  store: SqliteEventStore;
  /** Runs `request` and asserts it answered below 500 and left the log exactly as it was. */
  expectNothingWritten(request: () => Promise<ApiResponse>): Promise<ApiResponse>;
  close(): Promise<void>;
}

/** A minor-unit amount or position as the API writes it: digits, no sign, no leading zero. */
export const DIGITS = /^(0|[1-9][0-9]*)$/;

/** `wrap`: the store the write API uses, made from the harness's (a proxy that fails appends). */
export const createApiHarness = async (options: StartApiOptions = {}, wrap?: (store: EventStore) => EventStore): Promise<ApiHarness> => {
  const temp = openTempStore(options.clock);
  const api = await ApiServer.start(temp.store, wrap === undefined ? options : { ...options, eventStore: wrap(temp.store) });
  return {
    api,
    store: temp.store,
    async expectNothingWritten(request) {
      const before = await headPosition(temp.store);
      const response = await request();
      expect(response.status, response.text).to.be.below(500);
      expect(await headPosition(temp.store), `wrote after ${response.status} ${response.text}`).to.equal(before);
      return response;
    },
    close: async () => {
      await api.stop();
      await temp.dispose();
    },
  };
};

/** Polls `probe` until it returns true, failing after `timeoutMs`. */
export const eventually = async (probe: () => Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

/** Asserts a problem document of `status` whose type ends with `slug`. */
export const expectProblem = (response: ApiResponse, status: number, slug: string): any => {
  expect(response.status, response.text).to.equal(status);
  expect(response.headers['content-type'], response.text).to.match(/^application\/problem\+json/);
  expect(response.body.type, response.text).to.equal(`urn:folio:problem:${slug}`);
  expect(response.body.status).to.equal(status);
  return response.body;
};

/** Asserts a 400 validation problem naming each of `paths` among its errors. */
export const expectValidation = (response: ApiResponse, ...paths: string[]): any => {
  const problem = expectProblem(response, 400, 'validation');
  const named = (problem.errors ?? []).map((issue: { path: string }) => issue.path);
  for (const path of paths) expect(named, response.text).to.include(path);
  return problem;
};

/** `store` with every append to the stream `failing()` names refused, as if the store were unreachable for it. */
export const failingAppendsTo = (store: EventStore, failing: () => string | undefined): EventStore =>
  new Proxy(store, {
    get(target, property) {
      if (property === 'appendToStream') {
        return (streamName: string, events: readonly EventToAppend[], options?: AppendOptions) =>
          streamName === failing()
            ? Promise.reject(new StoreUnavailableError('the store is unreachable'))
            : target.appendToStream(streamName, events, options);
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

/** A write API on a store that is down for one stream while `failing.stream` names it. */
export type FlakyApiHarness = ApiHarness & { failing: { stream: string | undefined } };

export const createFlakyApiHarness = async (): Promise<FlakyApiHarness> => {
  const failing: { stream: string | undefined } = { stream: undefined };
  const harness = await createApiHarness({}, (store) => failingAppendsTo(store, () => failing.stream));
  return { ...harness, failing };
};

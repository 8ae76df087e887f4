/**
 * The read API over real HTTP, in-process on temp-dir SQLite stores, assembled as
 * `standalone/src/folio.ts` assembles it: the write API writes real transfers, the projectors
 * follow the log, and the read API (and the UI beside it) answers from their read models.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import express, { type Router } from 'express';
import {
  correlationId,
  createLogger,
  notFoundHandler,
  openSqliteDocumentStore,
  openSqliteEventStore,
  openSqliteSearchIndex,
  problemDetailsHandler,
  type DocumentStore,
  type SearchIndex,
  type SqliteEventStore,
} from '@folio/shared';
import { createWriteApi, readModelDiscrepancies, type WriteApi, type WriteApiOptions } from '@folio/command-side';
import { createProjections, createStoredProgress, projectionDefinitions, type Projections, type StoredProgress } from '@folio/projections';
import { createReadApi } from '../src/readApi.js';
import { DEFAULT_READ_WAIT_MS, ReadModelBehindError } from '../src/readYourWrites.js';
import { createWebUi } from '../src/webUi.js';

export interface ApiResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: any;
  text: string;
}

export interface ReadStackOptions {
  readWaitMs?: number;
  /** Where the write side's clock starts; every write moves it on by `stepMs`. */
  startAt?: string;
  stepMs?: number;
  /** The log stamps commit times with the write side's clock (which `advance` moves), not the real time. */
  logFollowsClock?: boolean;
  /** Write side options beyond the store and the clock (the sandbox provider's behaviour). */
  write?: Partial<WriteApiOptions>;
  /**
   * The projectors wait for the test to start them, and the read API knows their progress from
   * the checkpoints they store, as the query side running apart does.
   */
  projectLater?: boolean;
}

let nextNodeId = 1;
let keyCounter = 0;
const uniqueKey = (prefix: string) => `${prefix}-${process.pid}-${++keyCounter}`;

export class ReadStack {
  private constructor(
    private readonly directory: string,
    readonly eventStore: SqliteEventStore,
    readonly documents: DocumentStore,
    readonly searchIndex: SearchIndex,
    readonly writeApi: WriteApi,
    readonly projections: Projections,
    private readonly storedProgress: StoredProgress | undefined,
    private readonly server: Server,
    readonly baseUrl: string,
    private readonly readOnlyServer: Server,
    /** The read API and the UI alone, as the query side runs apart from the write side. */
    readonly readOnlyUrl: string,
    private readonly time: { now: number; stepMs: number },
    private readonly unexpected: unknown[],
  ) {}

  /** The position of the latest write: idempotency records may follow it, which no projector reads. */
  lastWrite = 0n;

  private wrote(body: { position?: unknown }): void {
    if (typeof body.position === 'string' && BigInt(body.position) > this.lastWrite) this.lastWrite = BigInt(body.position);
  }

  static async start(options: ReadStackOptions = {}): Promise<ReadStack> {
    const directory = mkdtempSync(join(tmpdir(), 'folio-read-'));
    const time = { now: Date.parse(options.startAt ?? '2026-03-01T10:00:00.000Z'), stepMs: options.stepMs ?? 60_000 };
    const eventStore = openSqliteEventStore({
      path: join(directory, 'events.sqlite'),
      ...(options.logFollowsClock === true ? { clock: () => new Date(time.now) } : {}),
    });
    const documents = openSqliteDocumentStore({ path: join(directory, 'readmodels.sqlite') });
    const searchIndex = openSqliteSearchIndex({ path: join(directory, 'search.sqlite') });
    const projections = createProjections({ eventStore, documents, searchIndex });
    const storedProgress =
      options.projectLater === true
        ? createStoredProgress({ documents, eventStore, definitions: projectionDefinitions, pollMs: 20, logger: createLogger({ service: 'query-side', level: 'silent' }) })
        : undefined;
    const writeApi = createWriteApi({
      eventStore,
      nodeId: nextNodeId++,
      clock: () => new Date(time.now),
      onError: () => {},
      onStuck: () => {},
      discrepancies: readModelDiscrepancies({ documents, progress: storedProgress ?? projections, log: eventStore, waitMs: options.readWaitMs ?? DEFAULT_READ_WAIT_MS }),
      ...options.write,
    });
    await writeApi.start();
    await (storedProgress ?? projections).start();
    // A 503 read-model-behind is an answer; any other 5xx fails the suite when it stops.
    const unexpected: unknown[] = [];
    const readApi = createReadApi({
      documents,
      searchIndex,
      projections: storedProgress ?? projections,
      eventStore,
      ...(options.readWaitMs === undefined ? {} : { readWaitMs: options.readWaitMs }),
    });
    const serve = (routers: Router[]) => {
      const app = express();
      app.disable('x-powered-by');
      app.set('etag', false);
      app.use(correlationId());
      for (const router of routers) app.use(router);
      app.use(notFoundHandler());
      app.use(problemDetailsHandler({ onUnexpectedError: (error) => error instanceof ReadModelBehindError || unexpected.push(error) }));
      return new Promise<Server>((resolve) => {
        const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
      });
    };
    const server = await serve([writeApi.router, readApi, createWebUi()]);
    const readOnlyServer = await serve([readApi, createWebUi()]);
    const { port } = server.address() as AddressInfo;
    return new ReadStack(
      directory,
      eventStore,
      documents,
      searchIndex,
      writeApi,
      projections,
      storedProgress,
      server,
      `http://127.0.0.1:${port}`,
      readOnlyServer,
      `http://127.0.0.1:${(readOnlyServer.address() as AddressInfo).port}`,
      time,
      unexpected,
    );
  }

  async stop(): Promise<void> {
    for (const server of [this.server, this.readOnlyServer]) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await this.writeApi.stop();
    this.storedProgress?.stop();
    await this.projections.stop();
    await this.documents.close();
    await this.searchIndex.close();
    await this.eventStore.close();
    rmSync(this.directory, { recursive: true, force: true });
    expect(this.unexpected, 'errors that became a 5xx').to.deep.equal([]);
  }

  /** Moves the write side's clock (and the log's, when it follows it) on: time passes without sleeping. */
  advance(ms: number): void {
    this.time.now += ms;
  }

  /** The write side's time for the next write (ISO), after which it moves on by one step. */
  private tick(): string {
    this.time.now += this.time.stepMs;
    return new Date(this.time.now).toISOString();
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    baseUrl = this.baseUrl,
  ): Promise<ApiResponse> {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const responseHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => (responseHeaders[name] = value));
    const json = /json/.test(responseHeaders['content-type'] ?? '') && text !== '' ? JSON.parse(text) : undefined;
    return { status: response.status, headers: responseHeaders, body: json, text };
  }

  get(path: string): Promise<ApiResponse> {
    return this.request('GET', path);
  }

  /** A read from the query side running apart (where the write API does not answer first). */
  read(path: string): Promise<ApiResponse> {
    return this.request('GET', path, undefined, {}, this.readOnlyUrl);
  }

  /** A write that moves money or a payment on; records its position for `settle`. */
  async post(path: string, body: unknown, expectedStatus: number, key = uniqueKey('write')): Promise<any> {
    this.tick();
    const response = await this.request('POST', path, body, { 'idempotency-key': key });
    expect(response.status, response.text).to.equal(expectedStatus);
    this.wrote(response.body.payment ?? response.body);
    return response.body;
  }

  async openAccount(currency = 'EUR'): Promise<string> {
    this.tick();
    const response = await this.request('POST', '/v1/accounts', { ownerId: 'owner-1', currency, kind: 'customer' });
    expect(response.status, response.text).to.equal(201);
    this.wrote(response.body);
    return response.body.id as string;
  }

  async deposit(accountId: string, amount: string, reference: string, currency = 'EUR'): Promise<any> {
    const requestedAt = this.tick();
    const response = await this.request('POST', '/v1/deposits', { accountId, amount, currency, reference }, { 'idempotency-key': uniqueKey('deposit') });
    expect(response.status, response.text).to.equal(201);
    this.wrote(response.body);
    return { ...response.body, requestedAt };
  }

  /** A transfer (completed or failed); its body (id, status, position) and when it was requested. */
  async transfer(from: string, to: string, amount: string, extra: Record<string, unknown> = {}, currency = 'EUR'): Promise<any> {
    const requestedAt = this.tick();
    const response = await this.request(
      'POST',
      '/v1/transfers',
      { fromAccountId: from, toAccountId: to, amount, currency, ...extra },
      { 'idempotency-key': uniqueKey('transfer') },
    );
    expect(response.status, response.text).to.equal(201);
    this.wrote(response.body);
    return { ...response.body, requestedAt };
  }

  async freeze(accountId: string): Promise<void> {
    this.tick();
    const response = await this.request('POST', `/v1/accounts/${accountId}/freeze`);
    expect(response.status, response.text).to.equal(200);
    this.wrote(response.body);
  }

  /** Waits until the read models reflect every write so far. */
  async settle(): Promise<void> {
    expect(await this.projections.waitFor(this.lastWrite, 5_000), 'projections caught up').to.equal(true);
  }
}

/** Asserts a problem document of `status` whose type ends with `slug`. */
export const expectProblem = (response: ApiResponse, status: number, slug: string): any => {
  expect(response.status, response.text).to.equal(status);
  expect(response.headers['content-type'], response.text).to.match(/^application\/problem\+json/);
  expect(response.body.type, response.text).to.equal(`urn:folio:problem:${slug}`);
  return response.body;
};

/** Asserts a 400 validation problem naming `path` among its errors. */
export const expectValidation = (response: ApiResponse, path: string): any => {
  const problem = expectProblem(response, 400, 'validation');
  expect(problem.errors.map((issue: { path: string }) => issue.path), response.text).to.include(path);
  return problem;
};

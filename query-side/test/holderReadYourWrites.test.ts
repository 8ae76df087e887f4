/**
 * A holder's read carrying a write's `position`, right after an account of its was opened, on a
 * process whose credential directory has not followed the log that far yet (the query side
 * running apart, or a subscription lagging): the read waits for the directory as for the read
 * models, behind the security middleware over real HTTP, on the embedded stores.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import {
  composeSecurity,
  correlationId,
  createCredentialCommands,
  createLogger,
  loadConfig,
  notFoundHandler,
  problemDetailsHandler,
  type EventStore,
  type SubscriptionMessage,
} from '@folio/shared';
import { createReadApi, visibleAccountsOf } from '../src/readApi.js';
import { expectProblem, ReadStack, type ApiResponse } from './readStack.js';

/** The log as the directory follows it: its subscriptions deliver nothing while held. */
const holdable = (eventStore: EventStore) => {
  let held: Promise<void> = Promise.resolve();
  let release = () => {};
  const store: EventStore = {
    ...eventStore,
    subscribeToAll: (options) => {
      const subscription = eventStore.subscribeToAll(options);
      async function* messages(): AsyncGenerator<SubscriptionMessage> {
        for await (const message of subscription) {
          await held;
          yield message;
        }
      }
      return { [Symbol.asyncIterator]: messages, runs: () => subscription.runs(), unsubscribe: () => subscription.unsubscribe() };
    },
  };
  return {
    store,
    hold: () => {
      held = new Promise((resolve) => (release = resolve));
    },
    release: () => release(),
  };
};

describe("read API: a holder's read-your-writes on an account just opened", () => {
  let stack: ReadStack;
  let log: ReturnType<typeof holdable>;
  let security: ReturnType<typeof composeSecurity>;
  const servers: Server[] = [];
  /** Generous: the reads below wait for the directory, which the test releases. */
  let patientUrl: string;
  let briefUrl: string;

  const keyOf = async (ownerId: string) =>
    (await createCredentialCommands({ eventStore: stack.eventStore, clock: () => new Date(), actor: 'test' }).createKey({ role: 'customer', ownerId })).token;

  const openAccountOf = async (ownerId: string) => {
    const opened = await stack.request('POST', '/v1/accounts', { ownerId, currency: 'EUR', kind: 'customer' });
    expect(opened.status, opened.text).to.equal(201);
    return opened.body.id as string;
  };

  const read = (baseUrl: string, path: string, key: string): Promise<ApiResponse> =>
    stack.request('GET', path, undefined, { authorization: `Bearer ${key}` }, baseUrl);

  const serve = async (readWaitMs: number): Promise<string> => {
    const app = express();
    app.use(correlationId());
    app.use(security.middleware);
    app.use(
      createReadApi({
        documents: stack.documents,
        searchIndex: stack.searchIndex,
        projections: stack.projections,
        eventStore: stack.eventStore,
        readWaitMs,
        visibleAccounts: visibleAccountsOf(security.directory),
      }),
    );
    app.use(notFoundHandler());
    app.use(problemDetailsHandler({}));
    const server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    servers.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  before(async () => {
    stack = await ReadStack.start();
    log = holdable(stack.eventStore);
    security = composeSecurity({ eventStore: log.store, config: loadConfig({}), logger: createLogger({ service: 'query-side', level: 'silent' }) });
    await security.start({ bootstrap: false });
    patientUrl = await serve(30_000);
    briefUrl = await serve(300);
  });

  afterEach(() => log.release());

  after(async () => {
    for (const server of servers) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await security.stop();
    await stack.stop();
  });

  it("finds the deposit on an account the directory has not seen yet, once it has, in a search and as a transaction's detail", async () => {
    const key = await keyOf('owner-a');
    log.hold();
    const account = await openAccountOf('owner-a');
    const deposit = await stack.deposit(account, '100', 'first');
    const search = read(patientUrl, `/v1/transactions?position=${deposit.position}`, key);
    const detail = read(patientUrl, `/v1/transactions/${deposit.id}?position=${deposit.position}`, key);
    // Both reads are in flight while the directory still holds back the account's opening.
    await new Promise((resolve) => setTimeout(resolve, 100));
    log.release();

    const found = await search;
    expect(found.status, found.text).to.equal(200);
    expect(found.body.items.map((item: { reference: string }) => item.reference)).to.deep.equal(['first']);
    const shown = await detail;
    expect(shown.status, shown.text).to.equal(200);
    expect(shown.body).to.include({ id: deposit.id, toAccountId: account });
  });

  it('answers 503 read-model-behind, naming the holder accounts, when the directory does not reach the position within the bound', async () => {
    const key = await keyOf('owner-b');
    log.hold();
    const account = await openAccountOf('owner-b');
    const deposit = await stack.deposit(account, '100', 'second');
    expect(await stack.projections.waitFor(BigInt(deposit.position), 5_000), 'the read models reflect the deposit').to.equal(true);

    for (const path of [`/v1/transactions?position=${deposit.position}`, `/v1/transactions/${deposit.id}?position=${deposit.position}`]) {
      const problem = expectProblem(await read(briefUrl, path, key), 503, 'read-model-behind');
      expect(problem.requestedPosition).to.equal(deposit.position);
      const holderAccounts = problem.projections.find(({ name }: { name: string }) => name === 'holder-accounts');
      expect(holderAccounts, JSON.stringify(problem)).to.not.equal(undefined);
      expect(BigInt(holderAccounts.position ?? '-1') < BigInt(deposit.position), JSON.stringify(holderAccounts)).to.equal(true);
    }
  });

  it('keeps reads without a position, and reads by keys that see every account, from waiting for the directory', async () => {
    const key = await keyOf('owner-c');
    const admin = (await createCredentialCommands({ eventStore: stack.eventStore, clock: () => new Date(), actor: 'test' }).createKey({ role: 'admin' })).token;
    log.hold();
    const account = await openAccountOf('owner-c');
    const deposit = await stack.deposit(account, '100', 'third');
    expect(await stack.projections.waitFor(BigInt(deposit.position), 5_000), 'the read models reflect the deposit').to.equal(true);

    const unwaited = await read(briefUrl, '/v1/transactions', key);
    expect(unwaited.status, unwaited.text).to.equal(200);
    const staff = await read(briefUrl, `/v1/transactions?account=${account}&position=${deposit.position}`, admin);
    expect(staff.status, staff.text).to.equal(200);
    expect(staff.body.items.map((item: { reference: string }) => item.reference)).to.deep.equal(['third']);
  });
});

/**
 * A holder's search over real HTTP behind the security middleware: keys of the customer role,
 * the read API scoping its searches to the key's accounts, on the embedded stores.
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
} from '@folio/shared';
import { createReadApi, visibleAccountsOf } from '../src/readApi.js';
import { ReadStack } from './readStack.js';

describe('read API: a holder paging through its own transactions', () => {
  let stack: ReadStack;
  let security: ReturnType<typeof composeSecurity>;
  let server: Server;
  let baseUrl: string;
  let holderKey: string;

  const search = async (query: string, key = holderKey) => {
    const response = await fetch(`${baseUrl}/v1/transactions?${query}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: response.status, body: (await response.json()) as any };
  };

  before(async () => {
    stack = await ReadStack.start();
    const logger = createLogger({ service: 'query-side', level: 'silent' });
    security = composeSecurity({ eventStore: stack.eventStore, config: loadConfig({}), logger });
    await security.start({ bootstrap: false });
    holderKey = (await createCredentialCommands({ eventStore: stack.eventStore, clock: () => new Date(), actor: 'test' }).createKey({ role: 'customer', ownerId: 'owner-1' })).token;
    const app = express();
    app.use(correlationId());
    app.use(security.middleware);
    app.use(
      createReadApi({
        documents: stack.documents,
        searchIndex: stack.searchIndex,
        projections: stack.projections,
        eventStore: stack.eventStore,
        visibleAccounts: visibleAccountsOf(security.directory),
      }),
    );
    app.use(notFoundHandler());
    app.use(problemDetailsHandler({}));
    server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await security.stop();
    await stack.stop();
  });

  it('pages on with its cursor after the holder opens another account', async () => {
    const first = await stack.openAccount();
    for (const reference of ['one', 'two', 'three']) await stack.deposit(first, '100', reference);
    await stack.settle();
    const page1 = await search('limit=2');
    expect(page1.status, JSON.stringify(page1.body)).to.equal(200);
    expect(page1.body.items.map((item: { reference: string }) => item.reference)).to.deep.equal(['three', 'two']);

    const second = await stack.openAccount();
    await stack.settle();
    for (let tries = 0; !security.directory.accountsOf('owner-1', 'customer').includes(second); tries++) {
      expect(tries, 'the directory follows the new account').to.be.below(100);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    const page2 = await search(`limit=2&cursor=${page1.body.nextCursor}`);
    expect(page2.status, JSON.stringify(page2.body)).to.equal(200);
    expect(page2.body.items.map((item: { reference: string }) => item.reference)).to.deep.equal(['one']);
  });

  it("refuses a holder's cursor to another holder, whose search never reaches the first one's accounts", async () => {
    const commands = createCredentialCommands({ eventStore: stack.eventStore, clock: () => new Date(), actor: 'test' });
    const otherKey = (await commands.createKey({ role: 'customer', ownerId: 'owner-2' })).token;
    const opened = await stack.request('POST', '/v1/accounts', { ownerId: 'owner-2', currency: 'EUR', kind: 'customer' });
    const other = opened.body.id as string;
    const deposit = await stack.deposit(other, '100', 'theirs');
    expect(await stack.projections.waitFor(BigInt(deposit.position), 5_000)).to.equal(true);
    for (let tries = 0; !security.directory.accountsOf('owner-2', 'customer').includes(other); tries++) {
      expect(tries, 'the directory follows the new account').to.be.below(100);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const mine = await search('limit=1');
    const theirs = await search(`limit=1&cursor=${mine.body.nextCursor}`, otherKey);
    expect(theirs.status, JSON.stringify(theirs.body)).to.equal(400);
    expect(theirs.body.errors.map((issue: { path: string }) => issue.path)).to.deep.equal(['query.cursor']);
    const all = await search('limit=100');
    expect(all.body.items.map((item: { reference: string }) => item.reference)).to.not.include('theirs');
    expect((await search(`account=${other}`)).body.items).to.deep.equal([]);
    expect((await search('limit=100', otherKey)).body.items.map((item: { reference: string }) => item.reference)).to.deep.equal(['theirs']);
  });

  it('refuses a bad search text whatever accounts the holder has: none, or another holder’s asked for', async () => {
    const commands = createCredentialCommands({ eventStore: stack.eventStore, clock: () => new Date(), actor: 'test' });
    const emptyKey = (await commands.createKey({ role: 'customer', ownerId: 'owner-without-accounts' })).token;
    const opened = await stack.request('POST', '/v1/accounts', { ownerId: 'owner-3', currency: 'EUR', kind: 'customer' });
    const others = opened.body.id as string;
    for (let tries = 0; (await search('limit=1', emptyKey)).status === 401; tries++) {
      expect(tries, 'the directory follows the new key').to.be.below(100);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const tooManyWords = Array.from({ length: 40 }, (_, i) => `w${i}`).join('+');
    for (const [query, key] of [
      ['q=%23', emptyKey],
      [`q=${tooManyWords}`, emptyKey],
      [`q=%23&account=${others}`, holderKey],
    ] as const) {
      const refused = await search(query, key);
      expect(refused.status, `${query}: ${JSON.stringify(refused.body)}`).to.equal(400);
      expect(refused.body.errors.map((issue: { path: string }) => issue.path), query).to.deep.equal(['query.q']);
    }
    expect((await search('q=rent', emptyKey)).body.items).to.deep.equal([]);
  });
});

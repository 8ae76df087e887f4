import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { collect, openSqliteDocumentStore } from '@folio/shared';
import { balancesProjection, liveCollections, projectionDefinitions, type BalancePointsDocument } from '@folio/projections';
import { getBalancePoints } from '../src/accountReads.js';
import { expectProblem, ReadStack } from './readStack.js';

describe('read API: balances, balance points and projections', () => {
  let stack: ReadStack;
  let alice: string;
  let bob: string;
  const times: string[] = [];

  before(async () => {
    stack = await ReadStack.start();
    alice = await stack.openAccount();
    bob = await stack.openAccount();
    times.push((await stack.deposit(alice, '10000', 'funding')).requestedAt);
    for (const amount of ['100', '200', '300', '400']) times.push((await stack.transfer(alice, bob, amount)).requestedAt);
    await stack.settle();
  });

  after(() => stack.stop());

  it("answers an account's balance and the position it reflects, 404 for an unknown account", async () => {
    const response = await stack.get(`/v1/accounts/${alice}/balance`);
    expect(response.status, response.text).to.equal(200);
    expect(response.body).to.deep.include({
      accountId: alice,
      currency: 'EUR',
      kind: 'customer',
      status: 'active',
      posted: '9000',
      available: '9000',
      pending: '0',
      debits: '1000',
      credits: '10000',
    });
    expect(response.body).to.not.have.any.keys('_id', 'sortableLastPosition');
    expect(BigInt(response.body.position) >= stack.lastWrite).to.equal(true);
    expect(BigInt(response.headers['folio-read-position']!) >= stack.lastWrite).to.equal(true);
    expectProblem(await stack.get('/v1/accounts/123456789/balance'), 404, 'account-not-found');
  });

  it("does not clash with the write side's account, which it leaves to the command side", async () => {
    const account = await stack.get(`/v1/accounts/${alice}`);
    expect(account.status, account.text).to.equal(200);
    expect(account.body.balance.posted).to.equal('9000');
  });

  it('charts the posted balance after each posting, oldest first', async () => {
    const response = await stack.get(`/v1/accounts/${alice}/balance-points`);
    expect(response.status, response.text).to.equal(200);
    expect(response.body).to.deep.equal({
      accountId: alice,
      currency: 'EUR',
      truncated: false,
      items: response.body.items,
    });
    expect(response.body.items.map((point: any) => point.posted)).to.deep.equal(['10000', '9900', '9700', '9400', '9000']);
    const ats = response.body.items.map((point: any) => point.at);
    expect(ats).to.deep.equal([...ats].sort());
    expect(Object.keys(response.body.items[0])).to.have.members(['at', 'posted']);
  });

  it('limits balance points to a time window, keeping the latest when there are more', async () => {
    const points = async (query: string) => (await stack.get(`/v1/accounts/${alice}/balance-points?${query}`)).body;
    const all = (await points('')).items as { at: string; posted: string }[];
    const window = await points(`from=${all[1]!.at}&to=${all[3]!.at}`);
    expect(window.items).to.deep.equal(all.slice(1, 4));
    const latest = await points('limit=2');
    expect(latest).to.deep.include({ truncated: true, items: all.slice(3) });
    const early = await points(`to=${all[1]!.at}&limit=1`);
    expect(early).to.deep.include({ truncated: true, items: [all[1]] });
    expect((await points('from=2026-03-02')).items).to.deep.equal([]);
    expectProblem(await stack.get('/v1/accounts/123456789/balance-points'), 404, 'account-not-found');
  });

  it('charts the same points from documents a catch-up filled, many points to a document', async () => {
    const collections = liveCollections(balancesProjection);
    const caughtUp = openSqliteDocumentStore({ path: join(mkdtempSync(join(tmpdir(), 'folio-points-')), 'readmodels.sqlite') });
    try {
      const handler = balancesProjection.create({ collections, searchIndexes: {} });
      const events = await collect(stack.eventStore.readAll());
      await caughtUp.withTransaction((session) => handler.handle(events, session));
      const [document] = (await caughtUp.find<BalancePointsDocument>(collections.points!, { idPrefix: `${alice}:` })).items;
      expect(document?.points, "all of the account's points in one document").to.have.length(5);
      const all = (await stack.get(`/v1/accounts/${alice}/balance-points`)).body.items;
      const chart = (query: { from?: string; to?: string; limit: number }) =>
        getBalancePoints(caughtUp, collections, { accountId: alice, ...query });
      expect((await chart({ limit: 1000 })).items).to.deep.equal(all);
      expect(await chart({ limit: 2 })).to.deep.include({ truncated: true, items: all.slice(3) });
      expect((await chart({ from: all[1].at, to: all[3].at, limit: 1000 })).items).to.deep.equal(all.slice(1, 4));
    } finally {
      await caughtUp.close();
    }
  });

  it("reports each projector's position, whether it caught up, and its lag", async () => {
    const response = await stack.get('/v1/projections');
    expect(response.status, response.text).to.equal(200);
    const head = BigInt(response.body.headPosition);
    expect(head >= stack.lastWrite).to.equal(true);
    expect(response.body.projections.map((projection: any) => projection.name)).to.have.members(projectionDefinitions.map((definition) => definition.name));
    for (const projection of response.body.projections) {
      expect(projection.caughtUp).to.equal(true);
      expect(BigInt(projection.position) >= stack.lastWrite).to.equal(true);
      expect(projection.lag).to.equal((head - BigInt(projection.position)).toString());
      // Only accounts and movements were written: read models of other streams have seen no event yet.
      if (projection.name !== 'balances' && projection.name !== 'history' && projection.lastEventAt === null) continue;
      expect(Date.parse(projection.lastEventAt)).to.be.a('number').and.not.NaN;
      expect(projection.secondsSinceLastEvent).to.be.within(0, 60);
    }
  });
});

describe('read API: balance points when the writers\' clock steps back', () => {
  let stack: ReadStack;

  before(async () => {
    stack = await ReadStack.start();
  });
  after(() => stack.stop());

  it('keeps every point of a time window, a posting stamped before the one it follows included', async () => {
    const account = await stack.openAccount();
    await stack.deposit(account, '100', 'one');
    const second = await stack.deposit(account, '200', 'two');
    // A clock stepped back (or another writer's, behind this one's) stamps the next posting earlier.
    stack.advance(-30 * 60_000);
    await stack.deposit(account, '300', 'three');
    await stack.settle();
    const points = async (query: string) => (await stack.get(`/v1/accounts/${account}/balance-points?${query}`)).body.items;
    const all = (await points('')) as { at: string; posted: string }[];
    expect(all.map(({ posted }) => posted)).to.deep.equal(['100', '300', '600']);
    const ats = all.map(({ at }) => at);
    expect(ats, 'times never decrease along the account').to.deep.equal([...ats].sort());
    const from = new Date(Date.parse(second.requestedAt) - 1_000).toISOString();
    expect((await points(`from=${from}`)).map(({ posted }: { posted: string }) => posted)).to.deep.equal(['300', '600']);
  });
});

import { expect } from 'chai';
import type { TransactionView } from '../src/transactionSearch.js';
import { movementPostings, movementTimeline } from '../src/transactionDetail.js';
import { expectProblem, ReadStack } from './readStack.js';

const movement = (overrides: Partial<TransactionView>): TransactionView => ({
  id: '7',
  type: 'transfer',
  status: 'completed',
  fromAccountId: '1',
  toAccountId: '2',
  amount: '1050',
  currency: 'JPY',
  reference: 'ref',
  description: null,
  metadata: null,
  requestedAt: '2026-03-01T10:00:00.000Z',
  endedAt: '2026-03-01T10:00:01.000Z',
  failureReason: null,
  paymentId: null,
  payoutId: null,
  provider: null,
  providerRef: null,
  ...overrides,
});

describe('transaction detail: postings and lifecycle of a movement', () => {
  it('a completed transfer debited its source first, then credited its destination', () => {
    expect(movementPostings(movement({}))).to.deep.equal([
      { leg: 'first', accountId: '1', side: 'debit', amount: '1050', currency: 'JPY' },
      { leg: 'second', accountId: '2', side: 'credit', amount: '1050', currency: 'JPY' },
    ]);
  });

  it('a deposit credited its account first, then debited the bank', () => {
    expect(movementPostings(movement({ type: 'deposit' }))).to.deep.equal([
      { leg: 'first', accountId: '2', side: 'credit', amount: '1050', currency: 'JPY' },
      { leg: 'second', accountId: '1', side: 'debit', amount: '1050', currency: 'JPY' },
    ]);
  });

  it('a failed movement reversed its first leg on the same account; one in transit has its first leg only', () => {
    expect(movementPostings(movement({ type: 'deposit', status: 'failed' })).map(({ leg, accountId, side }) => [leg, accountId, side])).to.deep.equal([
      ['first', '2', 'credit'],
      ['reversal', '2', 'debit'],
    ]);
    expect(movementPostings(movement({ status: 'in_transit', endedAt: null })).map(({ leg }) => leg)).to.deep.equal(['first']);
  });

  it('tells the lifecycle: requested, then in transit, completed or failed with its reason', () => {
    expect(movementTimeline(movement({}))).to.deep.equal([
      { state: 'requested', at: '2026-03-01T10:00:00.000Z', detail: null },
      { state: 'completed', at: '2026-03-01T10:00:01.000Z', detail: null },
    ]);
    const failed = movementTimeline(movement({ status: 'failed', failureReason: { type: 'account-frozen', detail: 'account 2 is frozen' } }));
    expect(failed[1]).to.deep.equal({
      state: 'failed',
      at: '2026-03-01T10:00:01.000Z',
      detail: 'account-frozen: account 2 is frozen; the first leg was reversed',
    });
    const open = movementTimeline(movement({ status: 'in_transit', endedAt: null }));
    expect(open[1]).to.include({ state: 'in_transit', at: null });
    expect(open[1]!.detail).to.contain('debit on account 1');
  });
});

describe('read API: transaction detail, currencies and the web UI', () => {
  let stack: ReadStack;
  let alice: string;
  let deposit: { id: string };

  before(async () => {
    stack = await ReadStack.start();
    alice = await stack.openAccount('OMR');
    deposit = await stack.deposit(alice, '12345', 'wire 42', 'OMR');
    await stack.settle();
  });

  after(() => stack.stop());

  it("answers a deposit's postings, both sides in its currency's minor units", async () => {
    const response = await stack.get(`/v1/transactions/${deposit.id}?position=${stack.lastWrite}`);
    expect(response.status, response.text).to.equal(200);
    const { postings, timeline, fromAccountId } = response.body;
    expect(postings).to.deep.equal([
      { leg: 'first', accountId: alice, side: 'credit', amount: '12345', currency: 'OMR' },
      { leg: 'second', accountId: fromAccountId, side: 'debit', amount: '12345', currency: 'OMR' },
    ]);
    expect(timeline.map((entry: { state: string }) => entry.state)).to.deep.equal(['requested', 'completed']);
  });

  it('lists every currency with its minor unit exponent, for formatting', async () => {
    const response = await stack.get('/v1/currencies');
    expect(response.status, response.text).to.equal(200);
    const exponents = new Map(response.body.items.map(({ code, exponent }: { code: string; exponent: number }) => [code, exponent]));
    expect(exponents.get('JPY')).to.equal(0);
    expect(exponents.get('EUR')).to.equal(2);
    expect(exponents.get('OMR')).to.equal(3);
    expect(exponents.size).to.be.greaterThan(150);
  });

  it('serves the UI page at / with a strict content security policy', async () => {
    const response = await stack.get('/');
    expect(response.status).to.equal(200);
    expect(response.headers['content-type']).to.match(/^text\/html/);
    expect(response.text).to.contain('<main id="view"');
    expect(response.headers['content-security-policy']).to.contain("default-src 'self'").and.contain("frame-ancestors 'none'");
    expect(response.headers['x-content-type-options']).to.equal('nosniff');
    expect(response.headers['referrer-policy']).to.equal('no-referrer');
  });

  it('serves every asset the page names from this server, and nothing from elsewhere', async () => {
    const page = (await stack.get('/')).text;
    const assets = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!).filter((url) => !url.startsWith('#'));
    expect(assets).to.include.members(['/ui/folio.css', '/ui/js/main.js']);
    for (const asset of assets) {
      expect(asset, 'same-origin path').to.match(/^\/[^/]/);
      const response = await stack.get(asset);
      expect(response.status, asset).to.equal(200);
      expect(response.headers['content-security-policy'], asset).to.contain("default-src 'self'");
    }
    const script = await stack.get('/ui/js/main.js');
    expect(script.headers['content-type']).to.match(/^text\/javascript/);
    for (const match of script.text.matchAll(/from '([^']+)'/g)) {
      expect(match[1], 'module imports stay relative').to.match(/^\.\/[a-zA-Z]+\.js$/);
      expect((await stack.get(`/ui/js/${match[1]!.slice(2)}`)).status, match[1]).to.equal(200);
    }
  });

  it('answers an unknown asset with a 404 problem, and does not serve files outside the UI', async () => {
    expectProblem(await stack.get('/ui/nothing-here.js'), 404, 'route-not-found');
    expectProblem(await stack.get('/ui/js/..%2F..%2Fpackage.json'), 404, 'route-not-found');
    expect((await stack.get('/ui/../package.json')).status).to.equal(404);
  });
});

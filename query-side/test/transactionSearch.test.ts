import { expect } from 'chai';
import { expectProblem, expectValidation, ReadStack } from './readStack.js';

const PUBLIC_FIELDS = [
  'id',
  'type',
  'status',
  'fromAccountId',
  'toAccountId',
  'amount',
  'currency',
  'reference',
  'description',
  'metadata',
  'requestedAt',
  'endedAt',
  'failureReason',
  'paymentId',
  'payoutId',
  'provider',
  'providerRef',
];

const compareBigints = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

describe('read API: transaction search', () => {
  let stack: ReadStack;
  let alice: string;
  let bob: string;
  let carol: string;
  let dave: string;
  let erin: string;
  let frank: string;
  let grace: string;
  /** The transfers alice → bob, by amount. */
  const rent: Record<string, any> = {};
  let lunch: any;
  let failed: any;
  let usdTransfer: any;
  let bulk: any[];

  const ids = (response: { body: { items: { id: string }[] } }) => response.body.items.map((item) => item.id);

  /** Every page of a search, following nextCursor. */
  const allPages = async (query: string, limit = 7): Promise<any[]> => {
    const items: any[] = [];
    let cursor: string | null = null;
    do {
      const response = await stack.get(`/v1/transactions?${query}&limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`);
      expect(response.status, response.text).to.equal(200);
      items.push(...response.body.items);
      cursor = response.body.nextCursor;
    } while (cursor !== null);
    return items;
  };

  before(async () => {
    stack = await ReadStack.start();
    alice = await stack.openAccount();
    bob = await stack.openAccount();
    carol = await stack.openAccount();
    dave = await stack.openAccount('USD');
    erin = await stack.openAccount('USD');
    frank = await stack.openAccount();
    grace = await stack.openAccount();
    await stack.deposit(alice, '1000000', 'funding alice');
    await stack.deposit(dave, '100000', 'funding dave', 'USD');
    await stack.deposit(frank, '1000000', 'funding frank');
    rent['999'] = await stack.transfer(alice, bob, '999', {
      reference: 'invoice INV-1001',
      description: 'March rent',
      metadata: { orderId: 'ord-77', channel: 'web' },
    });
    rent['1000'] = await stack.transfer(alice, bob, '1000', { reference: 'invoice INV-1002' });
    rent['1001'] = await stack.transfer(alice, bob, '1001', { reference: 'payroll run 7' });
    rent['5000'] = await stack.transfer(alice, bob, '5000', { reference: 'coffee beans', description: 'office supplies' });
    lunch = await stack.transfer(alice, carol, '250', { reference: 'lunch split' });
    usdTransfer = await stack.transfer(dave, erin, '700', { reference: 'invoice INV-2001' }, 'USD');
    await stack.freeze(carol);
    failed = await stack.transfer(alice, carol, '300', { reference: 'refund attempt' });
    expect(failed.status).to.equal('failed');
    bulk = [];
    for (let i = 0; i < 20; i += 1) bulk.push(await stack.transfer(frank, grace, String(100 + ((i * 37) % 50)), { reference: `bulk ${i}` }));
    await stack.settle();
  });

  after(() => stack.stop());

  it('finds a transfer by words of its reference, with exact amounts and only public fields', async () => {
    const response = await stack.get('/v1/transactions?q=INV-1001');
    expect(response.status, response.text).to.equal(200);
    expect(response.body.nextCursor).to.equal(null);
    expect(response.body.items).to.have.length(1);
    const [item] = response.body.items;
    expect(Object.keys(item)).to.have.members(PUBLIC_FIELDS);
    expect(item).to.deep.include({
      id: rent['999'].id,
      type: 'transfer',
      status: 'completed',
      fromAccountId: alice,
      toAccountId: bob,
      amount: '999',
      currency: 'EUR',
      reference: 'invoice INV-1001',
      description: 'March rent',
      metadata: { orderId: 'ord-77', channel: 'web' },
      requestedAt: rent['999'].requestedAt,
      failureReason: null,
    });
    expect(item.endedAt).to.be.a('string');
  });

  it('finds by description and metadata words, by prefix, and nothing for unknown words', async () => {
    expect(ids(await stack.get('/v1/transactions?q=rent'))).to.deep.equal([rent['999'].id]);
    expect(ids(await stack.get('/v1/transactions?q=ord-77'))).to.deep.equal([rent['999'].id]);
    expect(ids(await stack.get('/v1/transactions?q=suppl'))).to.deep.equal([rent['5000'].id]);
    expect(ids(await stack.get('/v1/transactions?q=invoice&sort=requestedAt'))).to.deep.equal([
      rent['999'].id,
      rent['1000'].id,
      usdTransfer.id,
    ]);
    const none = await stack.get('/v1/transactions?q=zebra');
    expect(none.body).to.deep.equal({ items: [], nextCursor: null });
  });

  it('refuses a search text with no letter or digit rather than list every transaction; an empty one or one of spaces filters nothing', async () => {
    for (const q of ['%F0%9F%98%80', '%23', '--', '%3F!']) {
      const problem = expectValidation(await stack.get(`/v1/transactions?q=${q}`), 'query.q');
      expect(problem.detail, q).to.include('query.q: holds no letter or digit to search for');
    }
    const everything = ids(await stack.get('/v1/transactions?limit=100'));
    expect(everything.length).to.be.above(25);
    expect(ids(await stack.get('/v1/transactions?q=&limit=100'))).to.deep.equal(everything);
    expect(ids(await stack.get('/v1/transactions?q=+%09+&limit=100'))).to.deep.equal(everything);
  });

  it('filters by account on either side of the movement', async () => {
    expect(ids(await stack.get(`/v1/transactions?account=${carol}`))).to.have.members([lunch.id, failed.id]);
    expect(ids(await stack.get(`/v1/transactions?account=${bob}`))).to.have.members(Object.values(rent).map((t) => t.id));
    const aliceItems = (await stack.get(`/v1/transactions?account=${alice}&limit=100`)).body.items;
    expect(aliceItems).to.have.length(7);
    expect(aliceItems.filter((item: any) => item.type === 'deposit').map((item: any) => item.toAccountId)).to.deep.equal([alice]);
  });

  it('filters by type, status and currency', async () => {
    const deposits = (await stack.get('/v1/transactions?type=deposit')).body.items;
    expect(deposits.map((item: any) => item.reference)).to.have.members(['funding alice', 'funding dave', 'funding frank']);
    const failures = (await stack.get('/v1/transactions?status=failed')).body.items;
    expect(failures.map((item: any) => item.id)).to.deep.equal([failed.id]);
    expect(failures[0].failureReason.type).to.equal('account-frozen');
    expect(failures[0].endedAt).to.be.a('string');
    const usd = (await stack.get('/v1/transactions?currency=USD&status=completed')).body.items;
    expect(usd.map((item: any) => item.reference)).to.have.members(['funding dave', 'invoice INV-2001']);
    expect((await stack.get('/v1/transactions?currency=USD&type=transfer')).body.items.map((item: any) => item.id)).to.deep.equal([
      usdTransfer.id,
    ]);
  });

  it('filters amount ranges exactly, both bounds inclusive', async () => {
    const amounts = async (query: string) =>
      (await stack.get(`/v1/transactions?account=${bob}&${query}`)).body.items.map((item: any) => item.amount).sort(compareBigints);
    expect(await amounts('minAmount=1000&maxAmount=1000')).to.deep.equal(['1000']);
    expect(await amounts('minAmount=999&maxAmount=1001')).to.deep.equal(['999', '1000', '1001']);
    expect(await amounts('minAmount=1001')).to.deep.equal(['1001', '5000']);
    expect(await amounts('maxAmount=999')).to.deep.equal(['999']);
    expect(await amounts('minAmount=1002&maxAmount=4999')).to.deep.equal([]);
    expect(await amounts('minAmount=0&maxAmount=999999999999999999')).to.have.length(4);
  });

  it('filters time ranges inclusively, in any zone, and by whole days', async () => {
    const window = async (query: string) => ids(await stack.get(`/v1/transactions?${query}&sort=requestedAt`));
    const from: string = rent['1000'].requestedAt;
    const to: string = rent['1001'].requestedAt;
    expect(await window(`from=${from}&to=${to}`)).to.deep.equal([rent['1000'].id, rent['1001'].id]);
    // The same instants written as Berlin time (UTC+01:00 in March).
    const berlin = (iso: string) => encodeURIComponent(new Date(Date.parse(iso) + 3_600_000).toISOString().slice(0, 19) + '+01:00');
    expect(await window(`from=${berlin(from)}&to=${berlin(to)}`)).to.deep.equal([rent['1000'].id, rent['1001'].id]);
    const justAfter = new Date(Date.parse(from) + 1).toISOString();
    expect(await window(`from=${justAfter}&to=${to}`)).to.deep.equal([rent['1001'].id]);
    expect((await stack.get('/v1/transactions?from=2026-03-01&to=2026-03-01&limit=100')).body.items).to.have.length(30);
    expect((await stack.get('/v1/transactions?to=2026-02-28')).body.items).to.deep.equal([]);
    expect((await stack.get('/v1/transactions?from=2026-03-02')).body.items).to.deep.equal([]);
  });

  it('sorts by time and by amount, both ways, newest first by default', async () => {
    const sorted = async (sort: string | undefined) =>
      allPages(`account=${alice}${sort === undefined ? '' : `&sort=${sort}`}`, 3);
    const byTime = (a: any, b: any) => (a.requestedAt < b.requestedAt ? -1 : a.requestedAt > b.requestedAt ? 1 : 0);
    const byAmount = (a: any, b: any) => compareBigints(a.amount, b.amount);
    const newestFirst = await sorted(undefined);
    expect(newestFirst).to.have.length(7);
    expect(newestFirst).to.deep.equal([...newestFirst].sort(byTime).reverse());
    expect(await sorted('-requestedAt')).to.deep.equal(newestFirst);
    expect(await sorted('requestedAt')).to.deep.equal([...newestFirst].reverse());
    const ascending = await sorted('amount');
    expect(ascending.map((item) => item.amount)).to.deep.equal(['250', '300', '999', '1000', '1001', '5000', '1000000']);
    expect(ascending).to.deep.equal([...ascending].sort(byAmount));
    expect((await sorted('-amount')).map((item) => item.amount)).to.deep.equal(
      ['250', '300', '999', '1000', '1001', '5000', '1000000'].reverse(),
    );
  });

  it('pages with the default limit of 25, and from 1 to 100 on request', async () => {
    const page = await stack.get('/v1/transactions');
    expect(page.body.items).to.have.length(25);
    expect(page.body.nextCursor).to.be.a('string');
    const rest = await stack.get(`/v1/transactions?cursor=${page.body.nextCursor}`);
    expect(rest.body.items).to.have.length(5);
    expect(rest.body.nextCursor).to.equal(null);
    expect((await stack.get('/v1/transactions?limit=1')).body.items).to.have.length(1);
    expect((await stack.get('/v1/transactions?limit=100')).body.items).to.have.length(30);
  });

  for (const sort of ['-requestedAt', 'requestedAt', '-amount', 'amount']) {
    it(`keeps cursor pages stable while transfers are written between them (sort ${sort})`, async () => {
      const before = new Set(bulk.map((transfer) => transfer.id));
      const seen: string[] = [];
      let cursor: string | null = null;
      let page = 0;
      do {
        const response = await stack.get(`/v1/transactions?account=${grace}&sort=${sort}&limit=6${cursor === null ? '' : `&cursor=${cursor}`}`);
        expect(response.status, response.text).to.equal(200);
        seen.push(...ids(response));
        cursor = response.body.nextCursor;
        // New transfers of the smallest, a middle and the largest amount land before, among and after the pages read.
        await stack.transfer(frank, grace, ['100', '125', '149'][page % 3]!, { reference: `during ${sort} ${page}` });
        page += 1;
      } while (cursor !== null);
      expect(new Set(seen).size, 'no transaction twice').to.equal(seen.length);
      for (const id of before) expect(seen, `transfer ${id} written before paging`).to.include(id);
      bulk.push(...(await stack.get(`/v1/transactions?account=${grace}&limit=100&sort=requestedAt`)).body.items.filter((item: any) => !before.has(item.id)));
    });
  }

  it('answers a transaction by id with its postings and lifecycle, 404 for an unknown one', async () => {
    const response = await stack.get(`/v1/transactions/${failed.id}`);
    expect(response.status, response.text).to.equal(200);
    expect(Object.keys(response.body)).to.have.members([...PUBLIC_FIELDS, 'postings', 'timeline']);
    expect(response.body).to.deep.include({ id: failed.id, status: 'failed', amount: '300', fromAccountId: alice, toAccountId: carol });
    expect(response.body.postings).to.deep.equal([
      { leg: 'first', accountId: alice, side: 'debit', amount: '300', currency: 'EUR' },
      { leg: 'reversal', accountId: alice, side: 'credit', amount: '300', currency: 'EUR' },
    ]);
    expect(response.body.timeline.map((entry: { state: string }) => entry.state)).to.deep.equal(['requested', 'failed']);
    expect(response.headers['folio-read-position']).to.match(/^[0-9]+$/);
    const missing = expectProblem(await stack.get('/v1/transactions/123456789'), 404, 'transaction-not-found');
    expect(missing.id).to.equal('123456789');
  });

  it("pages an account's history newest first, 404 for an unknown account", async () => {
    const history: any[] = [];
    let cursor: string | null = null;
    do {
      const response = await stack.get(`/v1/accounts/${alice}/history?limit=3${cursor === null ? '' : `&cursor=${cursor}`}`);
      expect(response.status, response.text).to.equal(200);
      expect(response.body.items.length).to.be.at.most(3);
      history.push(...response.body.items);
      cursor = response.body.nextCursor;
    } while (cursor !== null);
    expect(history).to.deep.equal((await stack.get(`/v1/transactions?account=${alice}&limit=100`)).body.items);
    expect(history.map((item) => item.requestedAt)).to.deep.equal(history.map((item) => item.requestedAt).sort().reverse());
    expectProblem(await stack.get('/v1/accounts/123456789/history'), 404, 'account-not-found');
  });

  it("refuses another query's cursor and a cursor it did not issue", async () => {
    const first = await stack.get('/v1/transactions?sort=amount&limit=2');
    const cursor = first.body.nextCursor as string;
    expect((await stack.get(`/v1/transactions?sort=amount&limit=5&cursor=${cursor}`)).status, 'another limit is the same query').to.equal(200);
    expectValidation(await stack.get(`/v1/transactions?sort=-amount&cursor=${cursor}`), 'query.cursor');
    expectValidation(await stack.get(`/v1/transactions?sort=amount&type=deposit&cursor=${cursor}`), 'query.cursor');
    expectValidation(await stack.get(`/v1/accounts/${alice}/history?cursor=${cursor}`), 'query.cursor');
    expectValidation(await stack.get('/v1/transactions?cursor=not-a-cursor'), 'query.cursor');
    const forged = Buffer.from(JSON.stringify({ q: 'x', a: 1 })).toString('base64url');
    expectValidation(await stack.get(`/v1/transactions?cursor=${forged}`), 'query.cursor');
  });
});

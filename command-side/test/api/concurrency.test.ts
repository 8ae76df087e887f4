/**
 * The acceptance points on concurrency, over HTTP: many requests in flight at once on
 * one write API, the books checked by replaying the whole log afterwards.
 */
import { expect } from 'chai';
import {
  createApiHarness,
  expectBooksBalanced,
  readAllEvents,
  totalsPerCurrency,
  uniqueKey,
  type ApiHarness,
  type ApiResponse,
  type ApiServer,
} from './apiHarness.js';

/** A small seeded generator, so a failing run can be repeated with the seed it prints. */
const seededRandom = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

describe('write API over HTTP: concurrency', () => {
  let harness: ApiHarness;
  let api: ApiServer;

  before(async () => {
    harness = await createApiHarness();
    api = harness.api;
  });
  after(() => harness.close());

  describe('200 concurrent transfers out of an account that can afford exactly 50', () => {
    let source: string;
    let destinations: string[];
    let responses: ApiResponse[];

    before(async () => {
      // 4000 deposited + 1000 overdraft = 5000 available = 50 transfers of 100.
      source = await api.openFundedAccount('4000', { overdraftLimit: '1000' });
      destinations = [];
      for (let i = 0; i < 4; i++) destinations.push((await api.openAccount({ kind: i % 2 ? 'merchant' : 'customer' })).id);
      responses = await Promise.all(
        Array.from({ length: 200 }, (_, i) => api.transfer(source, destinations[i % destinations.length]!, '100')),
      );
    });

    it('completes exactly 50 (201) and refuses exactly 150 (422 insufficient funds), nothing else', () => {
      const others = responses.filter((r) => r.status !== 201 && r.status !== 422).map((r) => `${r.status} ${r.text}`);
      expect(others).to.deep.equal([]);
      const completed = responses.filter((r) => r.status === 201);
      expect(completed.length).to.equal(50);
      expect(completed.every((r) => r.body.status === 'completed')).to.equal(true);
      const refused = responses.filter((r) => r.status === 422);
      expect(refused.length).to.equal(150);
      for (const r of refused) {
        expect(r.body.type).to.equal('urn:folio:problem:insufficient-funds');
        // A refusal never reports a balance that would have paid the transfer.
        expect(BigInt(r.body.available) < 100n, r.text).to.equal(true);
      }
    });

    it('leaves the source at exactly 0 available, its overdraft spent, the destinations holding the 5000', async () => {
      expect((await api.account(source)).balance).to.deep.equal({ posted: '-1000', pending: '0', available: '0' });
      const received = await Promise.all(destinations.map(async (id) => BigInt((await api.account(id)).balance.posted)));
      expect(received.reduce((a, b) => a + b, 0n)).to.equal(5000n);
    });

    it('never lets the available balance go below the limit, at any position of the log, and conserves money', async () => {
      const report = await expectBooksBalanced(harness.store);
      expect(report.openJournals).to.equal(0);
      for (const [currency, total] of totalsPerCurrency(report)) expect(total, currency).to.equal(0n);
    });
  });

  describe('a retry storm: one idempotency key sent 20 times at once', () => {
    const storm = async (from: string, to: string, amount: string) => {
      const key = uniqueKey('storm');
      const body = { fromAccountId: from, toAccountId: to, amount, currency: 'EUR' };
      return Promise.all(Array.from({ length: 20 }, () => api.post('/v1/transfers', body, { key })));
    };

    const expectIdenticalAnswers = (responses: ApiResponse[], status: number) => {
      for (const response of responses) {
        expect(response.status, response.text).to.equal(status);
        expect(response.body).to.deep.equal(responses[0]!.body);
      }
      const replayed = responses.filter((r) => r.headers['idempotent-replayed'] === 'true').length;
      expect(replayed).to.be.within(19, 20);
    };

    it('has one effect and gives 20 identical answers', async () => {
      const from = await api.openFundedAccount('1000');
      const to = (await api.openAccount()).id;
      const before = (await readAllEvents(harness.store)).filter((e) => e.type === 'TransferCompleted').length;
      const responses = await storm(from, to, '250');
      expectIdenticalAnswers(responses, 201);
      const completed = (await readAllEvents(harness.store)).filter((e) => e.type === 'TransferCompleted');
      expect(completed.length - before).to.equal(1);
      expect((completed.at(-1)!.data as { transferId: string }).transferId).to.equal(responses[0]!.body.id);
      const debits = (await readAllEvents(harness.store)).filter((e) => e.streamName === `account-${from}` && e.type === 'AccountDebited');
      expect(debits.length).to.equal(1);
      expect((await api.account(from)).balance.posted).to.equal('750');
      expect((await api.account(to)).balance.posted).to.equal('250');
    });

    it('gives 20 identical rejections when the transfer cannot be paid, and no posting', async () => {
      const from = await api.openFundedAccount('10');
      const to = (await api.openAccount()).id;
      const responses = await storm(from, to, '11');
      expectIdenticalAnswers(responses, 422);
      expect(responses[0]!.body.type).to.equal('urn:folio:problem:insufficient-funds');
      const postings = (await readAllEvents(harness.store)).filter(
        (e) => e.streamName === `account-${from}` && e.type === 'AccountDebited',
      );
      expect(postings.length).to.equal(0);
    });
  });

  it('opens one account when one idempotency key is sent 10 times at once', async () => {
    const key = uniqueKey('open-storm');
    const body = { ownerId: 'storm', currency: 'EUR', kind: 'customer' };
    const responses = await Promise.all(Array.from({ length: 10 }, () => api.post('/v1/accounts', body, { key })));
    for (const response of responses) {
      expect(response.status, response.text).to.equal(201);
      expect(response.body).to.deep.equal(responses[0]!.body);
    }
    const opened = (await readAllEvents(harness.store)).filter(
      (e) => e.type === 'AccountOpened' && (e.data as { ownerId: string }).ownerId === 'storm',
    );
    expect(opened.length).to.equal(1);
  });

  describe('a ring of accounts paying each other concurrently', () => {
    const seed = Number(process.env.FOLIO_TEST_SEED ?? Date.now() % 1_000_000);
    const ringSize = 6;
    const initial = 1000n;
    let ring: string[];
    let sent: { from: number; to: number; amount: bigint; response: ApiResponse }[];

    before(async () => {
      const random = seededRandom(seed);
      ring = [];
      for (let i = 0; i < ringSize; i++) ring.push(await api.openFundedAccount(initial.toString()));
      const plan = Array.from({ length: 240 }, (_, i) => {
        const from = i % ringSize;
        // Mostly to the next account, sometimes across the ring.
        const to = random() < 0.75 ? (from + 1) % ringSize : (from + 1 + Math.floor(random() * (ringSize - 1))) % ringSize;
        return { from, to, amount: BigInt(1 + Math.floor(random() * 150)) };
      });
      sent = await Promise.all(
        plan.map(async (transfer) => ({
          ...transfer,
          response: await api.transfer(ring[transfer.from]!, ring[transfer.to]!, transfer.amount.toString()),
        })),
      );
    });

    it('answers every transfer 201 or 422 insufficient funds', () => {
      for (const { response } of sent) {
        if (response.status === 201) expect(response.body.status).to.equal('completed');
        else expect([response.status, response.body?.type], `seed ${seed}: ${response.text}`).to.deep.equal([422, 'urn:folio:problem:insufficient-funds']);
      }
      expect(sent.some(({ response }) => response.status === 201)).to.equal(true);
    });

    it("ends with each balance what its answered transfers say, and the ring's money conserved", async () => {
      const expected = ring.map(() => initial);
      for (const { from, to, amount, response } of sent) {
        if (response.status !== 201) continue;
        expected[from]! -= amount;
        expected[to]! += amount;
      }
      const actual = await Promise.all(ring.map(async (id) => BigInt((await api.account(id)).balance.posted)));
      expect(actual, `seed ${seed}`).to.deep.equal(expected);
      expect(actual.reduce((a, b) => a + b, 0n)).to.equal(initial * BigInt(ringSize));
      for (const balance of actual) expect(balance >= 0n).to.equal(true);
    });

    it('keeps every invariant of the books', async () => {
      const report = await expectBooksBalanced(harness.store);
      expect(report.openJournals).to.equal(0);
      for (const [currency, total] of totalsPerCurrency(report)) expect(total, currency).to.equal(0n);
    });
  });
});

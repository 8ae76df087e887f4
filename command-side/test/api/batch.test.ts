import { expect } from 'chai';
import { accountStream } from '@folio/shared';
import {
  createApiHarness,
  createFlakyApiHarness,
  expectBooksBalanced,
  expectProblem,
  expectValidation,
  readAllEvents,
  uniqueKey,
  type ApiHarness,
  type ApiResponse,
  type ApiServer,
  type FlakyApiHarness,
} from './apiHarness.js';

const BATCH = '/v1/transfers/batch';

describe('write API over HTTP: transfer batches', () => {
  let harness: ApiHarness;
  let api: ApiServer;

  before(async () => {
    harness = await createApiHarness();
    api = harness.api;
  });
  after(() => harness.close());

  const item = (fromAccountId: string, toAccountId: string, amount: string, extra: Record<string, unknown> = {}) => ({
    fromAccountId,
    toAccountId,
    amount,
    currency: 'EUR',
    ...extra,
  });

  describe('a mixed batch', () => {
    let from: string;
    let to: string;
    let frozen: string;
    let key: string;
    let body: { transfers: unknown[] };
    let response: ApiResponse;

    before(async () => {
      from = await api.openFundedAccount('1000');
      to = (await api.openAccount()).id;
      frozen = (await api.openAccount()).id;
      await api.post(`/v1/accounts/${frozen}/freeze`, {});
      key = uniqueKey('batch');
      body = {
        transfers: [
          item(from, to, '300', { reference: 'first' }),
          item(from, to, '5000'), // more than the account holds
          item(from, to, '1.5'), // not minor units
          item(from, frozen, '200'), // refused by the destination, compensated
          item(from, '7300000000000000096', '10'), // no such destination
          item(from, to, '100'),
        ],
      };
      response = await api.post(BATCH, body, { key });
    });

    it('answers 200 with one result per item, in order, each with its own transfer id', () => {
      expect(response.status, response.text).to.equal(200);
      const results = response.body.results as { index: number; id: string; status: number; body: any }[];
      expect(results.map((result) => result.index)).to.deep.equal([0, 1, 2, 3, 4, 5]);
      expect(results.map((result) => result.status)).to.deep.equal([201, 422, 400, 201, 404, 201]);
      for (const result of results) expect(Object.keys(result).sort()).to.deep.equal(['body', 'id', 'index', 'status']);
      // Item i is transfer first + i, so a retried batch maps its items to the same transfers.
      const first = BigInt(results[0]!.id);
      expect(results.map((result) => BigInt(result.id))).to.deep.equal(results.map((_, index) => first + BigInt(index)));
    });

    it('gives each item the body a single transfer would get', () => {
      const [ok, poor, invalid, refused, missing, last] = response.body.results;
      expect(ok.body).to.include({ id: ok.id, status: 'completed', amount: '300', reference: 'first', fromAccountId: from, toAccountId: to });
      expect(ok.body.position).to.match(/^[1-9][0-9]*$/);
      expect(poor.body.type).to.equal('urn:folio:problem:insufficient-funds');
      expect(poor.body).to.include({ status: 422, requested: '5000', currency: 'EUR' });
      expect(poor.body.available).to.be.oneOf(['700', '600', '400', '500', '1000', '900', '800']);
      expect(invalid.body.type).to.equal('urn:folio:problem:validation');
      const paths = invalid.body.errors.map((issue: { path: string }) => issue.path);
      expect(paths.join(), 'the item’s bad field').to.match(/^body\.(transfers\.2\.)?amount$/);
      expect(refused.body).to.include({ status: 'failed' });
      expect(refused.body.failureReason.type).to.equal('account-frozen');
      expect(missing.body.type).to.equal('urn:folio:problem:account-not-found');
      expect(last.body.status).to.equal('completed');
    });

    it('moves exactly the money of the items that completed', async () => {
      expect((await api.account(from)).balance.posted).to.equal('600');
      expect((await api.account(to)).balance.posted).to.equal('400');
      expect((await api.account(frozen)).balance.posted).to.equal('0');
    });

    it('replays the same key with an identical body and writes nothing', async () => {
      const replay = await harness.expectNothingWritten(() => api.post(BATCH, body, { key }));
      expect(replay.status).to.equal(200);
      expect(replay.body).to.deep.equal(response.body);
      expect(replay.headers['idempotent-replayed']).to.equal('true');
      expect((await api.account(from)).balance.posted).to.equal('600');
    });

    it('refuses the same key with another batch: 422, nothing written', async () => {
      const other = { transfers: body.transfers.slice(0, 1) };
      expectProblem(await harness.expectNothingWritten(() => api.post(BATCH, other, { key })), 422, 'idempotency-key-reused');
    });
  });

  it('requires an Idempotency-Key, writing nothing', async () => {
    const from = await api.openFundedAccount('100');
    const to = (await api.openAccount()).id;
    const response = await harness.expectNothingWritten(() => api.post(BATCH, { transfers: [item(from, to, '1')] }));
    expectProblem(response, 400, 'idempotency-key-required');
  });

  it('refuses more than 1000 items, an empty batch and unknown fields with 400, writing nothing', async () => {
    const tooMany = { transfers: Array.from({ length: 1001 }, () => ({})) };
    expectValidation(await harness.expectNothingWritten(() => api.post(BATCH, tooMany, { key: uniqueKey() })), 'body.transfers');
    expectValidation(await harness.expectNothingWritten(() => api.post(BATCH, { transfers: [] }, { key: uniqueKey() })), 'body.transfers');
    expectValidation(await harness.expectNothingWritten(() => api.post(BATCH, { transfers: 'x' }, { key: uniqueKey() })), 'body.transfers');
    expectValidation(
      await harness.expectNothingWritten(() => api.post(BATCH, { transfers: [{}], atomic: true }, { key: uniqueKey() })),
      'body.atomic',
    );
  });

  it('refuses an item nested thousands deep with 400, writing nothing', async () => {
    const deep = `{"transfers":[${'['.repeat(5000)}${']'.repeat(5000)}]}`;
    const response = await harness.expectNothingWritten(() => api.post(BATCH, deep, { key: uniqueKey() }));
    expectProblem(response, 400, 'validation');
  });

  it('refuses an item holding a number too large for JSON (1e400) with 400 naming where, writing nothing', async () => {
    const from = await api.openFundedAccount('100');
    const to = (await api.openAccount()).id;
    const raw = `{"transfers":[{"fromAccountId":"${from}","toAccountId":"${to}","amount":"1","currency":"EUR","metadata":{"n":1e400}}]}`;
    const response = await harness.expectNothingWritten(() => api.post(BATCH, raw, { key: uniqueKey('too-large') }));
    expectValidation(response, 'body.transfers.0.metadata.n');
  });

  describe('a full batch of 1000 transfers (bigger than a single request’s 64 KiB)', () => {
    let accounts: string[];
    let transfers: ReturnType<typeof item>[];

    before(async () => {
      accounts = [];
      for (let i = 0; i < 10; i++) accounts.push(await api.openFundedAccount('100000'));
      transfers = Array.from({ length: 1000 }, (_, i) =>
        item(accounts[i % 10]!, accounts[(i * 7 + 3) % 10]!, String(1 + (i % 97)), { reference: `batch item ${i}` }),
      ).filter((transfer) => transfer.fromAccountId !== transfer.toAccountId);
      while (transfers.length < 1000) transfers.push(item(accounts[0]!, accounts[1]!, '1'));
      expect(Buffer.byteLength(JSON.stringify({ transfers }))).to.be.greaterThan(64 * 1024);
    });

    it('runs every item', async () => {
      const response = await api.post(BATCH, { transfers }, { key: uniqueKey() });
      expect(response.status, response.text.slice(0, 500)).to.equal(200);
      const statuses = response.body.results.map((result: { status: number }) => result.status);
      expect(statuses.filter((status: number) => status !== 201), 'items that did not complete').to.deep.equal([]);
      const completed = (await readAllEvents(harness.store)).filter((event) => event.type === 'TransferCompleted');
      const ids = new Set(completed.map((event) => (event.data as { transferId: string }).transferId));
      for (const result of response.body.results) expect(ids.has(result.id), `transfer ${result.id} completed`).to.equal(true);
      const total = (await Promise.all(accounts.map((id) => api.account(id)))).reduce(
        (sum, account) => sum + BigInt(account.balance.posted),
        0n,
      );
      expect(total).to.equal(1_000_000n);
    });

    it('is the batch endpoint with a trailing slash too (same route, same body limit)', async () => {
      const response = await api.post(`${BATCH}/`, { transfers }, { key: uniqueKey() });
      expect(response.status, response.text.slice(0, 300)).to.equal(200);
    });
  });

  describe('the books afterwards', () => {
    it('balance', async () => {
      const report = await expectBooksBalanced(harness.store);
      expect(report.openJournals).to.equal(0);
    });
  });
});

describe('write API over HTTP: a batch whose store fails for some items', () => {
  let harness: FlakyApiHarness;
  let api: ApiServer;

  before(async () => {
    harness = await createFlakyApiHarness();
    api = harness.api;
  });
  after(() => harness.close());

  /** A batch of three from a source holding 1000: one that goes through, one to an account the store fails, one too large. */
  const batchWithUnreachableItem = async (keyLabel: string) => {
    const from = await api.openFundedAccount('1000');
    const to = (await api.openAccount()).id;
    const unreachable = (await api.openAccount()).id;
    const body = {
      transfers: [
        { fromAccountId: from, toAccountId: to, amount: '100', currency: 'EUR' },
        { fromAccountId: from, toAccountId: unreachable, amount: '200', currency: 'EUR' },
        { fromAccountId: from, toAccountId: to, amount: '5000', currency: 'EUR' },
      ],
    };
    harness.failing.stream = accountStream(unreachable);
    return { from, to, unreachable, body, key: uniqueKey(keyLabel) };
  };

  it('answers 503 with every item\'s result and remembers nothing, so a retry with the same key finishes it once', async () => {
    const { from, to, unreachable, body, key } = await batchWithUnreachableItem('flaky-batch');

    const first = await api.post(BATCH, body, { key });

    const problem = expectProblem(first, 503, 'batch-incomplete');
    expect(first.headers['retry-after']).to.equal('1');
    expect(problem.results.map((result: { status: number }) => result.status)).to.deep.equal([201, 503, 422]);
    const ids = problem.results.map((result: { id: string }) => result.id);

    harness.failing.stream = undefined;
    const retried = await api.post(BATCH, body, { key });
    expect(retried.status, retried.text).to.equal(200);
    expect(retried.headers['idempotent-replayed']).to.equal(undefined);
    expect(retried.body.results.map((result: { id: string }) => result.id)).to.deep.equal(ids);
    expect(retried.body.results.map((result: { status: number; body: { status?: string } }) => [result.status, result.body.status])).to.deep.equal([
      [201, 'completed'],
      [201, 'completed'],
      [422, 422],
    ]);
    const replayed = await api.post(BATCH, body, { key });
    expect(replayed.headers['idempotent-replayed']).to.equal('true');
    expect(replayed.body).to.deep.equal(retried.body);

    expect((await api.account(from)).balance.posted).to.equal('700');
    expect((await api.account(to)).balance.posted).to.equal('100');
    expect((await api.account(unreachable)).balance.posted).to.equal('200');
    const report = await expectBooksBalanced(harness.store);
    expect(report.openJournals).to.equal(0);
  });

  it('keeps an item rejected in the 503 answer rejected on every retry, though it could complete by then', async () => {
    const { from, to, body, key } = await batchWithUnreachableItem('flaky-batch-rejected');
    const first = expectProblem(await api.post(BATCH, body, { key }), 503, 'batch-incomplete');
    expect(first.results.map((result: { status: number }) => result.status)).to.deep.equal([201, 503, 422]);
    // The client acts on the 422 (it may resend that transfer under a new key); the account can now pay it.
    expect((await api.deposit(from, '10000')).status).to.equal(201);

    const stillFailing = expectProblem(await api.post(BATCH, body, { key }), 503, 'batch-incomplete');
    expect(stillFailing.results[2]).to.deep.equal(first.results[2]);
    harness.failing.stream = undefined;
    const retried = await api.post(BATCH, body, { key });

    expect(retried.status, retried.text).to.equal(200);
    expect(retried.body.results[2]).to.deep.equal(first.results[2]);
    expect(retried.body.results[0]).to.deep.equal(first.results[0]);
    expect(retried.body.results[1]).to.include({ status: 201, id: first.results[1].id });
    expect((await api.account(from)).balance.posted).to.equal('10700');
    expect((await api.account(to)).balance.posted).to.equal('100');
    const report = await expectBooksBalanced(harness.store);
    expect(report.openJournals).to.equal(0);
  });
});

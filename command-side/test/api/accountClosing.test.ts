import { expect } from 'chai';
import { accountStream, systemAccountId } from '@folio/shared';
import { createFlakyApiHarness, expectBooksBalanced, expectProblem, uniqueKey, type ApiServer, type FlakyApiHarness } from './apiHarness.js';

describe('write API over HTTP: closing an account with money in transit', () => {
  let harness: FlakyApiHarness;
  let api: ApiServer;

  before(async () => {
    harness = await createFlakyApiHarness();
    api = harness.api;
  });
  after(() => harness.close());

  it('refuses to close an account whose debit is on its way, so a refused credit can still come back to it', async () => {
    const from = await api.openFundedAccount('300');
    const to = (await api.openAccount()).id;
    const key = uniqueKey('in-transit');
    harness.failing.stream = accountStream(to);
    const interrupted = await api.transfer(from, to, '300', { key });
    expect(interrupted.status, interrupted.text).to.equal(503);
    expect((await api.account(from)).balance.posted).to.equal('0');

    const refused = await api.post(`/v1/accounts/${from}/close`, {});

    const problem = expectProblem(refused, 409, 'account-money-in-transit');
    expect(problem.movements).to.have.length(1);
    expect(problem.movements[0]).to.match(/^transfer-\d+$/);
    expect((await api.account(from)).status).to.equal('active');

    // The destination refuses once the store answers again: the debit comes back to an account that can hold it.
    harness.failing.stream = undefined;
    expect((await api.post(`/v1/accounts/${to}/freeze`, {})).status).to.equal(200);
    const retried = await api.transfer(from, to, '300', { key });
    expect(retried.status, retried.text).to.equal(201);
    expect(retried.body.status).to.equal('failed');
    expect((await api.account(from)).balance.posted).to.equal('300');
    expectProblem(await api.post(`/v1/accounts/${from}/close`, {}), 409, 'account-not-empty');
    const report = await expectBooksBalanced(harness.store);
    expect(report.openJournals).to.equal(0);
  });

  it('closes an account at zero once its movements have ended', async () => {
    const from = await api.openFundedAccount('300');
    const to = (await api.openAccount()).id;
    expect((await api.transfer(from, to, '300')).status).to.equal(201);

    const closed = await api.post(`/v1/accounts/${from}/close`, {});

    expect(closed.status, closed.text).to.equal(200);
    expect(closed.body.status).to.equal('closed');
  });

  it('refuses to close a system account as allowing no transition, not as money in transit to wait for', async () => {
    await api.openFundedAccount('1'); // opens the EUR bank account on first use
    const bank = systemAccountId({ role: 'bank', currency: 'EUR' });
    const to = (await api.openAccount()).id;
    const depositKey = uniqueKey('in-transit');
    harness.failing.stream = accountStream(bank);
    expect((await api.deposit(to, '300', 'EUR', depositKey)).status).to.equal(503);
    harness.failing.stream = undefined;

    const refused = await harness.expectNothingWritten(() => api.post(`/v1/accounts/${bank}/close`, {}));

    const problem = expectProblem(refused, 409, 'illegal-account-transition');
    expect(problem.allowedTransitions).to.deep.equal([]);
    expect(refused.headers['retry-after']).to.equal(undefined);
    expect((await api.deposit(to, '300', 'EUR', depositKey)).body.status).to.equal('completed');
  });

  it('does not remember a refusal for money in transit under an Idempotency-Key: the same key closes the account once the movements ended', async () => {
    const from = await api.openFundedAccount('300');
    const to = (await api.openAccount()).id;
    const transferKey = uniqueKey('in-transit');
    harness.failing.stream = accountStream(to);
    expect((await api.transfer(from, to, '300', { key: transferKey })).status).to.equal(503);
    harness.failing.stream = undefined;
    const closeKey = uniqueKey('close');

    const refused = await api.post(`/v1/accounts/${from}/close`, {}, { key: closeKey });

    expectProblem(refused, 409, 'account-money-in-transit');
    expect(refused.headers['retry-after']).to.equal('1');
    expect((await api.transfer(from, to, '300', { key: transferKey })).status).to.equal(201);
    const closed = await api.post(`/v1/accounts/${from}/close`, {}, { key: closeKey });
    expect(closed.status, closed.text).to.equal(200);
    expect(closed.headers['idempotent-replayed']).to.equal(undefined);
    expect(closed.body.status).to.equal('closed');
    const replayed = await api.post(`/v1/accounts/${from}/close`, {}, { key: closeKey });
    expect(replayed.headers['idempotent-replayed']).to.equal('true');
    expect(replayed.body).to.deep.equal(closed.body);
  });
});

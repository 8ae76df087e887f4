import { expect } from 'chai';
import { MAX_MINOR_UNITS, systemAccountId } from '@folio/shared';
import {
  createApiHarness,
  DIGITS,
  expectBooksBalanced,
  expectProblem,
  expectValidation,
  headPosition,
  uniqueKey,
  type ApiHarness,
  type ApiServer,
} from './apiHarness.js';

describe('write API over HTTP: accounts', () => {
  let harness: ApiHarness;
  let api: ApiServer;

  before(async () => {
    harness = await createApiHarness();
    api = harness.api;
  });
  after(() => harness.close());

  describe('open', () => {
    it('answers 201 with Location, ETag and the account with every amount as a minor-unit string', async () => {
      const response = await api.post('/v1/accounts', { ownerId: 'owner-42', currency: 'EUR', kind: 'merchant', overdraftLimit: '2500' });
      expect(response.status, response.text).to.equal(201);
      const account = response.body;
      expect(account.id).to.match(DIGITS);
      expect(response.headers.location).to.equal(`/v1/accounts/${account.id}`);
      expect(response.headers.etag).to.equal(`W/"${account.revision}"`);
      expect(account).to.deep.equal({
        id: account.id,
        ownerId: 'owner-42',
        currency: 'EUR',
        kind: 'merchant',
        status: 'active',
        overdraftLimit: '2500',
        // The overdraft counts as available: an empty account may spend its limit.
        balance: { posted: '0', pending: '0', available: '2500' },
        revision: '0',
        position: account.position,
      });
      expect(account.position).to.be.a('string').and.match(DIGITS);
      expect(BigInt(account.position)).to.equal(await headPosition(harness.store));
    });

    it('defaults the overdraft limit to zero', async () => {
      const account = await api.openAccount({ currency: 'JPY' });
      expect(account.overdraftLimit).to.equal('0');
      expect(account.balance).to.deep.equal({ posted: '0', pending: '0', available: '0' });
    });

    it('opens once per idempotency key: a retry answers the same account, replayed', async () => {
      const key = uniqueKey('open');
      const body = { ownerId: 'owner-7', currency: 'USD', kind: 'customer' };
      const first = await api.post('/v1/accounts', body, { key });
      const head = await headPosition(harness.store);
      const again = await api.post('/v1/accounts', body, { key });
      expect(first.status).to.equal(201);
      expect(again.status).to.equal(201);
      expect(again.body).to.deep.equal(first.body);
      expect(again.headers['idempotent-replayed']).to.equal('true');
      expect(await headPosition(harness.store)).to.equal(head);
    });

    const badOpens: [string, Record<string, unknown> | string, string[]][] = [
      ['an unknown currency', { ownerId: 'o', currency: 'XYZ', kind: 'customer' }, ['body.currency']],
      ['a lower-case currency', { ownerId: 'o', currency: 'eur', kind: 'customer' }, ['body.currency']],
      ['kind system', { ownerId: 'o', currency: 'EUR', kind: 'system' }, ['body.kind']],
      ['a negative overdraft', { ownerId: 'o', currency: 'EUR', kind: 'customer', overdraftLimit: '-1' }, ['body.overdraftLimit']],
      ['an inexact overdraft', { ownerId: 'o', currency: 'EUR', kind: 'customer', overdraftLimit: '10.5' }, ['body.overdraftLimit']],
      ['an overdraft as a JSON number', { ownerId: 'o', currency: 'EUR', kind: 'customer', overdraftLimit: 100 }, ['body.overdraftLimit']],
      [
        'an overdraft beyond the money bound',
        { ownerId: 'o', currency: 'EUR', kind: 'customer', overdraftLimit: (MAX_MINOR_UNITS + 1n).toString() },
        ['body.overdraftLimit'],
      ],
      ['an unknown field', { ownerId: 'o', currency: 'EUR', kind: 'customer', nickname: 'x' }, ['body.nickname']],
      ['a blank owner', { ownerId: '   ', currency: 'EUR', kind: 'customer' }, ['body.ownerId']],
      // Free text shown in the history UI refuses control characters elsewhere (reference, description).
      ['an owner with a control character', { ownerId: 'owner\u0000\n1', currency: 'EUR', kind: 'customer' }, ['body.ownerId']],
      ['no field at all', {}, ['body.ownerId', 'body.currency', 'body.kind']],
      [
        'several bad fields at once',
        { ownerId: 'o', currency: 'ABC', kind: 'system', overdraftLimit: '-5' },
        ['body.currency', 'body.kind', 'body.overdraftLimit'],
      ],
      ['a __proto__ key', '{"ownerId":"o","currency":"EUR","kind":"customer","__proto__":{"status":"frozen"}}', ['body.__proto__']],
      ['a nested constructor key', '{"ownerId":"o","currency":"EUR","kind":"customer","x":{"constructor":1}}', ['body.x.constructor']],
      ['a JSON array', '[]', ['body']],
    ];
    for (const [what, body, paths] of badOpens) {
      it(`refuses ${what} with 400 naming ${paths.join(', ')}, writing nothing`, async () => {
        const response = await harness.expectNothingWritten(() => api.post('/v1/accounts', body));
        expectValidation(response, ...paths);
      });
    }
  });

  describe('read', () => {
    it('answers 200 with the account and its ETag', async () => {
      const opened = await api.openAccount({ ownerId: 'reader', currency: 'GBP' });
      const response = await api.get(`/v1/accounts/${opened.id}`);
      expect(response.status).to.equal(200);
      expect(response.body).to.deep.equal(opened);
      expect(response.headers.etag).to.equal(`W/"${opened.revision}"`);
    });

    it('shows a deposit in the posted and available balances', async () => {
      const id = await api.openFundedAccount('1234', { overdraftLimit: '100' });
      const account = await api.account(id);
      expect(account.balance).to.deep.equal({ posted: '1234', pending: '0', available: '1334' });
      expect(account.revision).to.equal('1');
    });

    it('answers 404 account-not-found for an id nobody opened', async () => {
      const response = await api.get('/v1/accounts/7300000000000000001');
      const problem = expectProblem(response, 404, 'account-not-found');
      expect(problem.accountId).to.equal('7300000000000000001');
      expect(problem.instance).to.equal('/v1/accounts/7300000000000000001');
    });

    for (const id of ['abc', '-1', '0012', '1.5', '99999999999999999999']) {
      it(`answers 400 naming params.id for the malformed id ${JSON.stringify(id)}`, async () => {
        expectValidation(await api.get(`/v1/accounts/${encodeURIComponent(id)}`), 'params.id');
      });
    }

    it('answers a problem document with the correlation id the caller sent', async () => {
      const response = await api.request('GET', '/v1/accounts/nope', { headers: { 'x-correlation-id': 'trace-123' } });
      expect(response.headers['x-correlation-id']).to.equal('trace-123');
      expect(expectValidation(response, 'params.id').correlationId).to.equal('trace-123');
    });
  });

  describe('freeze, unfreeze, close', () => {
    it('freezes, unfreezes and freezes again, each legal move answering 200 with the new status', async () => {
      const { id } = await api.openAccount();
      const frozen = await api.post(`/v1/accounts/${id}/freeze`, { reason: 'suspicious activity' });
      expect(frozen.status, frozen.text).to.equal(200);
      expect(frozen.body.status).to.equal('frozen');
      expect(frozen.headers.etag).to.equal(`W/"${frozen.body.revision}"`);
      const unfrozen = await api.post(`/v1/accounts/${id}/unfreeze`, undefined);
      expect(unfrozen.status, unfrozen.text).to.equal(200);
      expect(unfrozen.body.status).to.equal('active');
      expect((await api.post(`/v1/accounts/${id}/freeze`, {})).body.status).to.equal('frozen');
      expect((await api.account(id)).status).to.equal('frozen');
    });

    it('refuses to unfreeze an active account with 409 naming its state and what it allows', async () => {
      const { id } = await api.openAccount();
      const response = await harness.expectNothingWritten(() => api.post(`/v1/accounts/${id}/unfreeze`, {}));
      const problem = expectProblem(response, 409, 'illegal-account-transition');
      expect(problem.currentState).to.equal('active');
      expect(problem.allowedTransitions).to.deep.equal(['freeze', 'close']);
    });

    it('refuses to freeze a frozen account with 409 naming its state and what it allows', async () => {
      const { id } = await api.openAccount();
      await api.post(`/v1/accounts/${id}/freeze`, {});
      const response = await harness.expectNothingWritten(() => api.post(`/v1/accounts/${id}/freeze`, {}));
      const problem = expectProblem(response, 409, 'account-frozen');
      expect(problem.currentState).to.equal('frozen');
      expect(problem.allowedTransitions).to.deep.equal(['unfreeze', 'close']);
    });

    it('refuses to close an account with money on it: 409 account-not-empty', async () => {
      const id = await api.openFundedAccount('500');
      const response = await harness.expectNothingWritten(() => api.post(`/v1/accounts/${id}/close`, {}));
      const problem = expectProblem(response, 409, 'account-not-empty');
      expect(problem.currentState).to.equal('active');
      expect((await api.account(id)).status).to.equal('active');
    });

    it('closes an account at zero (200), after which every move is refused with an empty list of transitions', async () => {
      const { id } = await api.openAccount();
      const closed = await api.post(`/v1/accounts/${id}/close`, {});
      expect(closed.status, closed.text).to.equal(200);
      expect(closed.body.status).to.equal('closed');
      for (const action of ['freeze', 'unfreeze', 'close']) {
        const response = await harness.expectNothingWritten(() => api.post(`/v1/accounts/${id}/${action}`, {}));
        expect(response.status, `${action}: ${response.text}`).to.equal(409);
        expect(response.body.currentState).to.equal('closed');
        expect(response.body.allowedTransitions).to.deep.equal([]);
      }
    });

    it('closes a frozen account at zero', async () => {
      const { id } = await api.openAccount();
      await api.post(`/v1/accounts/${id}/freeze`, {});
      const closed = await api.post(`/v1/accounts/${id}/close`, {});
      expect(closed.status, closed.text).to.equal(200);
      expect(closed.body.status).to.equal('closed');
    });

    it('answers 404 for a lifecycle move on an unknown account, writing nothing', async () => {
      const response = await harness.expectNothingWritten(() => api.post('/v1/accounts/7300000000000000002/freeze', {}));
      expectProblem(response, 404, 'account-not-found');
    });

    it('refuses unknown fields in a lifecycle body, and a malformed id, with 400', async () => {
      const { id } = await api.openAccount();
      expectValidation(await harness.expectNothingWritten(() => api.post(`/v1/accounts/${id}/close`, { force: true })), 'body.force');
      expectValidation(await harness.expectNothingWritten(() => api.post(`/v1/accounts/${id}/freeze`, { reason: 7 })), 'body.reason');
      expectValidation(await harness.expectNothingWritten(() => api.post('/v1/accounts/x1/freeze', {})), 'params.id');
    });

    it('refuses to freeze a system account', async () => {
      await api.openFundedAccount('1'); // opens the EUR bank account on first use
      const bank = systemAccountId({ role: 'bank', currency: 'EUR' });
      const response = await harness.expectNothingWritten(() => api.post(`/v1/accounts/${bank}/freeze`, {}));
      expect(response.status, response.text).to.equal(409);
    });
  });

  describe('the books afterwards', () => {
    it('balance', async () => {
      await expectBooksBalanced(harness.store);
    });
  });
});

import { expect } from 'chai';
import { startSecuredFolio, type SecuredFolio } from './securityHarness.js';

const PROBLEM = 'application/problem+json';

describe('security: who may call what', function () {
  this.timeout(30_000);
  let system: SecuredFolio;
  let alice: string;
  let aliceAccount: string;
  let bobAccount: string;
  let shopAccount: string;

  before(async () => {
    system = await startSecuredFolio();
    alice = await system.key({ role: 'customer', ownerId: 'alice' });
    aliceAccount = await system.fundedAccount('alice');
    bobAccount = await system.fundedAccount('bob');
    shopAccount = await system.fundedAccount('shop', 'merchant', '0');
  });

  after(() => system?.stop());

  describe('authentication', () => {
    it('answers 401 to a missing, malformed, unknown or wrong key, saying the same each time, and writes nothing', async () => {
      const before = await system.head();
      const wrongSecret = `${alice.slice(0, -4)}AAAA`;
      for (const key of [undefined, 'not-a-key', 'folio_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', wrongSecret]) {
        const answer = await system.request('POST', '/v1/transfers', {
          key,
          body: { fromAccountId: bobAccount, toAccountId: aliceAccount, amount: '1', currency: 'EUR' },
        });
        expect(answer.status, String(key)).to.equal(401);
        expect(answer.headers.get('content-type')).to.contain(PROBLEM);
        expect(answer.body.type).to.equal('urn:folio:problem:unauthenticated');
        expect(answer.body.detail).to.equal('a valid API key is required: send Authorization: Bearer <key>');
      }
      const scheme = await system.request('GET', '/v1/currencies', { headers: { authorization: `Basic ${alice}` } });
      expect(scheme.status).to.equal(401);
      expect(await system.head()).to.equal(before);
    });

    it('stops accepting a revoked key within a second', async () => {
      const key = await system.key({ role: 'auditor' });
      expect((await system.request('GET', '/v1/currencies', { key })).status).to.equal(200);
      await system.commands.revokeKey(key.split('_')[1]!);
      const deadline = Date.now() + 1000;
      let status = 200;
      while (status === 200 && Date.now() < deadline) {
        status = (await system.request('GET', '/v1/currencies', { key })).status;
        if (status === 200) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(status).to.equal(401);
    });

    it('keeps the UI and provider callbacks reachable without a key', async () => {
      expect((await system.request('GET', '/')).status).to.equal(200);
      expect((await system.request('GET', '/ui/folio.css')).status).to.equal(200);
      // Reached: refused for its missing provider signature, not for a missing key.
      const callback = await system.request('POST', '/v1/providers/sandbox/callbacks', { body: { id: 'x' } });
      expect(callback.status).to.be.within(400, 499);
      expect(callback.body.type).to.not.equal('urn:folio:problem:unauthenticated');
    });
  });

  describe('roles', () => {
    it('answers 403 to a role calling what it may not', async () => {
      const auditor = await system.key({ role: 'auditor' });
      const operator = await system.key({ role: 'operator' });
      const merchant = await system.key({ role: 'merchant', ownerId: 'shop' });
      const cases: [string, string, string, unknown?][] = [
        [auditor, 'POST', '/v1/deposits', { accountId: aliceAccount, amount: '1', currency: 'EUR', reference: 'x' }],
        [operator, 'GET', '/v1/audit/balances'],
        [alice, 'GET', '/v1/operations/in-transit'],
        [alice, 'POST', `/v1/accounts/${aliceAccount}/freeze`, {}],
        [alice, 'GET', '/v1/projections'],
        [alice, 'POST', '/v1/statements', {}],
        [merchant, 'POST', '/v1/deposits', { accountId: shopAccount, amount: '1', currency: 'EUR', reference: 'x' }],
        [alice, 'GET', '/v1/some-future-endpoint'],
      ];
      const before = await system.head();
      for (const [key, method, path, body] of cases) {
        const answer = await system.request(method, path, { key, ...(body === undefined ? {} : { body }) });
        expect(answer.status, `${method} ${path}`).to.equal(403);
        expect(answer.body.type).to.equal('urn:folio:problem:forbidden');
      }
      expect(await system.head()).to.equal(before);
    });

    it('lets auditors reach the audit endpoints and operators the reconciliation ones', async () => {
      const auditor = await system.key({ role: 'auditor' });
      const operator = await system.key({ role: 'operator' });
      // No such endpoint on this build: the policy let the request through to the router.
      expect((await system.request('GET', '/v1/audit/anything', { key: auditor })).body.type).to.equal('urn:folio:problem:route-not-found');
      expect((await system.request('GET', '/v1/reconciliation/exceptions', { key: operator })).body.type).to.equal(
        'urn:folio:problem:route-not-found',
      );
      expect((await system.request('GET', '/v1/operations/in-transit', { key: operator })).status).to.equal(200);
      // The sandbox's statements are what operators reconcile against: its report and its bank's.
      for (const statement of ['settlement-report', 'bank-statement']) {
        expect((await system.request('GET', `/v1/providers/sandbox/sandbox/${statement}`, { key: operator })).status, statement).to.equal(200);
        expect((await system.request('GET', `/v1/providers/sandbox/sandbox/${statement}`, { key: auditor })).status, statement).to.equal(403);
      }
    });
  });

  describe("a customer's own accounts", () => {
    it("answers another customer's account exactly as a missing one", async () => {
      const missing = '999999999999';
      for (const suffix of ['', '/balance', '/history', '/balance-points']) {
        const other = await system.request('GET', `/v1/accounts/${bobAccount}${suffix}`, { key: alice });
        const none = await system.request('GET', `/v1/accounts/${missing}${suffix}`, { key: alice });
        expect(other.status, suffix).to.equal(404);
        expect(none.status).to.equal(404);
        expect({ ...other.body, detail: undefined, id: undefined, instance: undefined, correlationId: undefined }).to.deep.equal({
          ...none.body,
          detail: undefined,
          id: undefined,
          instance: undefined,
          correlationId: undefined,
        });
      }
      const own = await system.request('GET', `/v1/accounts/${aliceAccount}`, { key: alice });
      expect(own.status).to.equal(200);
      expect(own.body.ownerId).to.equal('alice');
    });

    it("refuses to move money from another customer's account, with 404 and nothing written", async () => {
      const device = await system.device(alice);
      const before = await system.head();
      const answer = await system.request('POST', '/v1/transfers', {
        key: alice,
        device,
        body: { fromAccountId: bobAccount, toAccountId: aliceAccount, amount: '100', currency: 'EUR' },
      });
      expect(answer.status).to.equal(404);
      expect(answer.body.type).to.equal('urn:folio:problem:account-not-found');
      const payout = await system.request('POST', '/v1/payouts', {
        key: alice,
        device,
        body: { accountId: bobAccount, amount: '100', currency: 'EUR', provider: 'sandbox', destination: 'iban' },
      });
      expect(payout.status).to.equal(404);
      expect(await system.head()).to.equal(before);
    });

    it('opens accounts only for its own holder and of its own kind', async () => {
      const forBob = await system.request('POST', '/v1/accounts', { key: alice, body: { ownerId: 'bob', currency: 'EUR', kind: 'customer' } });
      expect(forBob.status).to.equal(403);
      const merchantKind = await system.request('POST', '/v1/accounts', { key: alice, body: { ownerId: 'alice', currency: 'EUR', kind: 'merchant' } });
      expect(merchantKind.status).to.equal(403);
      const own = await system.request('POST', '/v1/accounts', { key: alice, body: { ownerId: 'alice', currency: 'USD', kind: 'customer' } });
      expect(own.status).to.equal(201);
    });

    it('opens accounts without an overdraft: an overdraft limit above zero is for staff to grant', async () => {
      const merchant = await system.key({ role: 'merchant', ownerId: 'shop' });
      const before = await system.head();
      for (const [key, ownerId, kind, overdraftLimit] of [
        [alice, 'alice', 'customer', '100000000'],
        [alice, 'alice', 'customer', '1'],
        [alice, 'alice', 'customer', 'not-an-amount'],
        [merchant, 'shop', 'merchant', '500'],
      ] as const) {
        const answer = await system.request('POST', '/v1/accounts', { key, body: { ownerId, currency: 'EUR', kind, overdraftLimit } });
        expect(answer.status, `${kind} ${overdraftLimit}`).to.equal(403);
        expect(answer.body.type).to.equal('urn:folio:problem:overdraft-not-permitted');
      }
      expect(await system.head(), 'nothing written').to.equal(before);
      const zero = await system.request('POST', '/v1/accounts', { key: alice, body: { ownerId: 'alice', currency: 'EUR', kind: 'customer', overdraftLimit: '0' } });
      expect(zero.status).to.equal(201);
      const granted = await system.request('POST', '/v1/accounts', {
        key: system.folio.adminKey,
        body: { ownerId: 'alice', currency: 'EUR', kind: 'customer', overdraftLimit: '5000' },
      });
      expect(granted.status).to.equal(201);
      expect(granted.body.overdraftLimit).to.equal('5000');
    });

    it("judges a percent-encoded id as the route decodes it: another holder's account stays missing", async () => {
      const encoded = (id: string) => `${id.slice(0, -1)}%${id.charCodeAt(id.length - 1).toString(16)}`;
      for (const suffix of ['', '/balance', '/history', '/balance-points']) {
        const other = await system.request('GET', `/v1/accounts/${encoded(bobAccount)}${suffix}`, { key: alice });
        expect(other.status, suffix).to.equal(404);
        expect(other.body.type).to.equal('urn:folio:problem:account-not-found');
        expect((await system.request('GET', `/v1/accounts/${encoded(aliceAccount)}${suffix}`, { key: alice })).status, suffix).to.equal(200);
      }
      for (const id of [`${bobAccount.slice(0, -1)}%E0%A4%A`, `${bobAccount}%2Fbalance`, '..%2F..%2Fx', '%20']) {
        const answer = await system.request('GET', `/v1/accounts/${id}`, { key: alice });
        expect(answer.status, id).to.equal(404);
        expect(answer.body.type).to.equal('urn:folio:problem:account-not-found');
      }
      const toBob = await system.request('POST', '/v1/transfers', {
        key: system.folio.adminKey,
        body: { fromAccountId: bobAccount, toAccountId: aliceAccount, amount: '1', currency: 'EUR' },
      });
      const bobOnly = await system.request('POST', '/v1/transfers', {
        key: system.folio.adminKey,
        body: { fromAccountId: bobAccount, toAccountId: await system.fundedAccount('dave', 'customer', '0'), amount: '1', currency: 'EUR' },
      });
      expect((await system.request('GET', `/v1/transfers/${encoded(toBob.body.id)}`, { key: alice })).status).to.equal(200);
      expect((await system.request('GET', `/v1/transfers/${encoded(bobOnly.body.id)}`, { key: alice })).status).to.equal(404);
    });

    it('sees only transactions touching its own accounts, whatever it searches for', async () => {
      const carol = await system.fundedAccount('carol');
      const admin = system.folio.adminKey;
      const between = await system.request('POST', '/v1/transfers', {
        key: admin,
        body: { fromAccountId: bobAccount, toAccountId: carol, amount: '5', currency: 'EUR', reference: 'BOB-TO-CAROL' },
      });
      const toAlice = await system.request('POST', '/v1/transfers', {
        key: admin,
        body: { fromAccountId: bobAccount, toAccountId: aliceAccount, amount: '7', currency: 'EUR', reference: 'BOB-TO-ALICE' },
      });
      expect(await system.folio.system.projections.waitFor(BigInt(toAlice.body.position), 10_000)).to.equal(true);
      const search = async (query: string) => (await system.request('GET', `/v1/transactions?position=${toAlice.body.position}&${query}`, { key: alice })).body;
      const touchesAlice = (item: { fromAccountId: string; toAccountId: string }) => item.fromAccountId === aliceAccount || item.toAccountId === aliceAccount;
      const all = await search('limit=100');
      expect(all.items.length).to.be.greaterThan(0);
      expect(all.items.every(touchesAlice)).to.equal(true);
      expect((await search(`account=${bobAccount}`)).items.every(touchesAlice)).to.equal(true);
      expect((await search('q=BOB-TO-CAROL')).items).to.deep.equal([]);
      expect((await search('q=BOB-TO-ALICE')).items.map((item: { reference: string }) => item.reference)).to.deep.equal(['BOB-TO-ALICE']);
      expect((await system.request('GET', `/v1/transactions/${between.body.id}`, { key: alice })).status).to.equal(404);
      expect((await system.request('GET', `/v1/transactions/${toAlice.body.id}`, { key: alice })).status).to.equal(200);
      expect((await system.request('GET', `/v1/transfers/${between.body.id}`, { key: alice })).status).to.equal(404);
      expect((await system.request('GET', `/v1/transfers/${toAlice.body.id}`, { key: alice })).status).to.equal(200);
      // Staff see everything.
      expect((await system.request('GET', `/v1/transactions/${between.body.id}`, { key: admin })).status).to.equal(200);
    });

    it('scopes idempotency keys by credential: the same key from two callers is two requests', async () => {
      const admin = system.folio.adminKey;
      const operator = await system.key({ role: 'operator' });
      const body = { accountId: aliceAccount, amount: '3', currency: 'EUR', reference: 'scoped' };
      const first = await system.request('POST', '/v1/deposits', { key: admin, body, idempotencyKey: 'shared-key' });
      const second = await system.request('POST', '/v1/deposits', { key: operator, body, idempotencyKey: 'shared-key' });
      expect(first.status).to.equal(201);
      expect(second.status).to.equal(201);
      expect(second.headers.get('idempotent-replayed')).to.equal(null);
      expect(second.body.id).to.not.equal(first.body.id);
    });
  });

  describe('merchants', () => {
    it("take payments into their own merchant accounts only", async () => {
      const merchant = await system.key({ role: 'merchant', ownerId: 'shop' });
      const other = await system.fundedAccount('other-shop', 'merchant', '0');
      const own = await system.request('POST', '/v1/payments', {
        key: merchant,
        body: { merchantAccountId: shopAccount, amount: '250', currency: 'EUR', provider: 'sandbox' },
      });
      expect(own.status).to.equal(201);
      const foreign = await system.request('POST', '/v1/payments', {
        key: merchant,
        body: { merchantAccountId: other, amount: '250', currency: 'EUR', provider: 'sandbox' },
      });
      expect(foreign.status).to.equal(404);
      expect((await system.request('GET', `/v1/payments/${own.body.id}`, { key: merchant })).status).to.equal(200);
      const otherMerchant = await system.key({ role: 'merchant', ownerId: 'other-shop' });
      expect((await system.request('GET', `/v1/payments/${own.body.id}`, { key: otherMerchant })).status).to.equal(404);
    });
  });
});

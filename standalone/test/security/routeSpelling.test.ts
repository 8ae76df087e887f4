import { expect } from 'chai';
import { startSecuredFolio, type SecuredFolio } from './securityHarness.js';

/**
 * Express picks a route whatever the case of its path: the gate judges the route Express will
 * pick, so a path spelled in capitals reaches nothing its lower-case spelling may not.
 */
describe('security: a route is judged however its path is spelled', function () {
  this.timeout(30_000);
  let system: SecuredFolio;
  let merchant: string;
  let till: string;

  before(async () => {
    system = await startSecuredFolio();
    till = await system.fundedAccount('till-shop', 'merchant', '0');
    merchant = await system.key({ role: 'merchant', ownerId: 'till-shop' });
  });

  after(() => system?.stop());

  const submittedPayment = async (): Promise<string> => {
    const created = await system.request('POST', '/v1/payments', {
      key: merchant,
      body: { merchantAccountId: till, amount: '5000', currency: 'EUR', provider: 'sandbox' },
    });
    expect(created.status).to.equal(201);
    const submitted = await system.request('POST', `/v1/payments/${created.body.id}/submit`, { key: merchant, body: {} });
    expect(submitted.status).to.equal(200);
    return created.body.id as string;
  };

  it("lets no merchant capture or settle its own payment by spelling the action in capitals", async () => {
    const payment = await submittedPayment();
    for (const action of ['capture', 'Capture', 'CAPTURE']) {
      const answer = await system.request('POST', `/v1/payments/${payment}/${action}`, { key: merchant, body: {} });
      expect(answer.status, action).to.equal(403);
      expect(answer.body.type).to.equal('urn:folio:problem:forbidden');
    }
    const settled = await system.request('POST', `/v1/payments/${payment}/SETTLE`, { key: merchant, body: { fee: '0' } });
    expect(settled.status).to.equal(403);
    expect((await system.request('GET', `/v1/payments/${payment}`, { key: merchant })).body.state, 'neither captured nor settled').to.equal('PENDING');
  });

  it('refuses a path in capitals to a role its lower-case spelling refuses, and serves it to one it serves', async () => {
    const customer = await system.key({ role: 'customer', ownerId: 'caps-customer' });
    const wallet = await system.fundedAccount('caps-customer');
    const deposit = await system.request('POST', '/V1/DEPOSITS', {
      key: customer,
      body: { accountId: wallet, amount: '100', currency: 'EUR', reference: 'caps' },
    });
    expect(deposit.status).to.equal(403);
    expect((await system.request('POST', `/v1/Accounts/${wallet}/Freeze`, { key: customer, body: {} })).status).to.equal(403);
    const account = await system.request('GET', `/v1/accounts/${wallet}`, { key: system.folio.adminKey });
    expect(account.body).to.deep.include({ status: 'active', balance: { posted: '10000', pending: '0', available: '10000' } });
    const operator = await system.key({ role: 'operator' });
    const payment = await submittedPayment();
    const captured = await system.request('POST', `/V1/Payments/${payment}/Capture`, { key: operator, body: {} });
    expect(captured.status).to.equal(200);
    expect(captured.body.state).to.equal('PAID');
  });
});

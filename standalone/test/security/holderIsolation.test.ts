import { expect } from 'chai';
import { systemAccountId } from '@folio/shared';
import { startSecuredFolio, type SecuredFolio } from './securityHarness.js';

describe("security: a holder sees none of another's money", function () {
  this.timeout(30_000);
  let system: SecuredFolio;

  before(async () => {
    system = await startSecuredFolio();
  });

  after(() => system?.stop());

  it("gives a holder named like the books' own owner none of the system accounts", async () => {
    // The system accounts are opened under the owner id `folio`; a merchant may well be called that.
    const own = await system.fundedAccount('folio', 'merchant', '0');
    const folio = await system.key({ role: 'merchant', ownerId: 'folio' });
    const bob = await system.fundedAccount('bob');
    const bank = systemAccountId({ role: 'bank', currency: 'EUR' });
    const position = (await system.head()).toString();
    for (const suffix of ['', '/balance', '/history', '/balance-points']) {
      const answer = await system.request('GET', `/v1/accounts/${bank}${suffix}?${suffix === '' ? '' : `position=${position}`}`, { key: folio });
      expect(answer.status, suffix).to.equal(404);
      expect(answer.body.type).to.equal('urn:folio:problem:account-not-found');
    }
    // The bank's history is every holder's deposits: none of bob's shows up in a search.
    const found = await system.request('GET', `/v1/transactions?limit=100&position=${position}`, { key: folio });
    expect(found.status).to.equal(200);
    expect(found.body.items.filter((item: { toAccountId: string }) => item.toAccountId === bob)).to.deep.equal([]);
    expect((await system.request('GET', `/v1/accounts/${own}`, { key: folio })).status).to.equal(200);
  });

  it("gives a merchant key none of the customer accounts under its owner id: they move money only with the customer's signature", async () => {
    // Owner ids come from the product's own records, where a customer and a merchant may share one.
    const wallet = await system.fundedAccount('42', 'customer');
    const till = await system.fundedAccount('42', 'merchant', '0');
    const merchant = await system.key({ role: 'merchant', ownerId: '42' });
    const before = await system.head();
    const moved = await system.request('POST', '/v1/transfers', {
      key: merchant,
      body: { fromAccountId: wallet, toAccountId: till, amount: '100', currency: 'EUR' },
    });
    expect(moved.status).to.equal(404);
    expect(moved.body.type).to.equal('urn:folio:problem:account-not-found');
    const paidOut = await system.request('POST', '/v1/payouts', {
      key: merchant,
      body: { accountId: wallet, amount: '100', currency: 'EUR', provider: 'sandbox', destination: 'iban' },
    });
    expect(paidOut.status).to.equal(404);
    expect(await system.head(), 'nothing written').to.equal(before);
    expect((await system.request('GET', `/v1/accounts/${wallet}/balance`, { key: merchant })).status).to.equal(404);
    const found = await system.request('GET', `/v1/transactions?limit=100&position=${before}`, { key: merchant });
    expect(found.body.items.filter((item: { toAccountId: string }) => item.toAccountId === wallet)).to.deep.equal([]);
    expect((await system.request('GET', `/v1/accounts/${till}`, { key: merchant })).status).to.equal(200);
  });
});

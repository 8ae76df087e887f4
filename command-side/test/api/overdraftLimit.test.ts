import { expect } from 'chai';
import { MAX_MINOR_UNITS } from '@folio/shared';
import { MAX_OVERDRAFT_LIMIT } from '../../src/accounts/accountDecider.js';
import { createApiHarness, expectValidation, type ApiHarness } from './apiHarness.js';

describe('write API over HTTP: the overdraft limit at opening', () => {
  let harness: ApiHarness;

  before(async () => {
    harness = await createApiHarness();
  });
  after(() => harness.close());

  for (const limit of [MAX_OVERDRAFT_LIMIT + 1n, MAX_MINOR_UNITS]) {
    it(`refuses ${limit}, above half the money bound, with 400 naming body.overdraftLimit, writing nothing`, async () => {
      const body = { ownerId: 'o', currency: 'EUR', kind: 'customer', overdraftLimit: limit.toString() };
      const response = await harness.expectNothingWritten(() => harness.api.post('/v1/accounts', body));
      const problem = expectValidation(response, 'body.overdraftLimit');
      expect(problem.detail).to.match(/at most 499999999999999999 minor units/);
    });
  }

  it('opens an account at the cap, which takes deposits until its available balance reaches the bound', async () => {
    const { api } = harness;
    const id = await api.openFundedAccount('1', { overdraftLimit: MAX_OVERDRAFT_LIMIT.toString() });
    expect((await api.deposit(id, (MAX_MINOR_UNITS - MAX_OVERDRAFT_LIMIT - 1n).toString())).status).to.equal(201);
    expect((await api.account(id)).balance).to.include({
      posted: (MAX_MINOR_UNITS - MAX_OVERDRAFT_LIMIT).toString(),
      available: MAX_MINOR_UNITS.toString(),
    });
  });
});

import { expect } from 'chai';
import { createApiHarness, uniqueKey, type ApiHarness } from '../api/apiHarness.js';

describe('write API over HTTP: an invalid item of a transfer batch', () => {
  let harness: ApiHarness;

  before(async () => {
    harness = await createApiHarness();
  });
  after(() => harness.close());

  it('names the item’s fields by their place in the batch in the detail as in the errors', async () => {
    const { api } = harness;
    const from = await api.openFundedAccount('100');
    const to = (await api.openAccount()).id as string;
    const valid = { fromAccountId: from, toAccountId: to, amount: '1', currency: 'EUR' };
    const body = { transfers: [valid, valid, valid, { ...valid, amount: '1.5', memo: 'x' }, 'not a transfer'] };

    const response = await api.post('/v1/transfers/batch', body, { key: uniqueKey('invalid-item') });

    expect(response.status, response.text).to.equal(200);
    const [, , , badFields, notAnObject] = response.body.results;
    expect(badFields.body.errors.map((issue: { path: string }) => issue.path)).to.deep.equal([
      'body.transfers.3.amount',
      'body.transfers.3.memo',
    ]);
    expect(badFields.body.detail).to.match(/^invalid transfer 3 of the batch: body\.transfers\.3\.amount: .+; body\.transfers\.3\.memo: /);
    expect(notAnObject.body.errors.map((issue: { path: string }) => issue.path)).to.deep.equal(['body.transfers.4']);
    expect(notAnObject.body.detail).to.match(/^invalid transfer 4 of the batch: body\.transfers\.4: /);
    expect(badFields.body.detail).not.to.match(/\bbody\.(amount|memo)\b/);
  });
});

import { expect } from 'chai';
import { parseStatement } from './statementSamples.js';

describe('statement importers: generic CSV row keys of several columns', () => {
  it('keeps two rows apart whose key columns differ only in where a "|" falls', async () => {
    const choice = { provider: 'acme', format: 'csv', mapping: { rowKey: ['account', 'ref'], currency: 'EUR', net: 'amount' } };
    const { rows } = await parseStatement(choice, { text: 'account,ref,amount\n"A|1",2,1.00\nA,"1|2",2.00\n' });
    expect(rows.map(({ row }) => row.net?.amount)).to.deep.equal([100n, 200n]);
    const [first, second] = rows.map(({ rowKey }) => rowKey);
    expect(first).to.not.equal(second);
  });

  it('keeps the key of columns without "|" or "\\" as it was: a file imported before is not new again', async () => {
    const choice = { provider: 'acme', format: 'csv', mapping: { rowKey: ['date', 'ref'], currency: 'EUR', net: 'amount' } };
    const { rows } = await parseStatement(choice, { text: 'date,ref,amount\n2024-06-01,A1,1.00\n' });
    expect(rows[0]!.rowKey).to.equal('2024-06-01|A1');
  });
});

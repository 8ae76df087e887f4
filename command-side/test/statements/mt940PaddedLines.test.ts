import { expect } from 'chai';
import { parseStatement } from './statementSamples.js';

const mt940 = { provider: 'nlbank', format: 'mt940' };

const statement = (...lines: string[]) =>
  [':20:STMT240501', ':25:NL91ABNA0417164300', ':28C:123/1', ':60F:C240430EUR1000,00', ...lines, ':62F:C240501EUR1064,74', ''].join('\r\n');

describe('statement importers: MT940 lines padded with spaces', () => {
  it('reads the customer reference of a :61: line without the spaces a fixed-width export pads it with', async () => {
    const { rows } = await parseStatement(mt940, {
      text: statement(':61:2405010501C32,37NTRFADYEN-BATCH-134   ', ':61:2405010501C32,37NTRFltx_01HX5K2M7A  //ACMEBANK77821'),
    });
    expect(rows.map(({ row }) => row.references)).to.deep.equal([
      [{ kind: 'customer_reference', value: 'ADYEN-BATCH-134' }],
      [
        { kind: 'customer_reference', value: 'ltx_01HX5K2M7A' },
        { kind: 'bank_reference', value: 'ACMEBANK77821' },
      ],
    ]);
  });

  it('takes a padded NONREF for no reference, as it takes a bare one', async () => {
    const { rows } = await parseStatement(mt940, { text: statement(':61:2405010501C32,37NTRFNONREF    ', ':61:2405010501C32,37NTRFNONREF') });
    expect(rows.map(({ row }) => row.references)).to.deep.equal([[], []]);
  });
});

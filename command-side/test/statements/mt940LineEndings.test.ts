import { expect } from 'chai';
import { statementLines } from '../../src/statements/importers/statementText.js';
import { parseStatement } from './statementSamples.js';

const mt940 = { provider: 'nlbank', format: 'mt940' };

const statement = [
  ':20:STMT240501',
  ':25:NL91ABNA0417164300',
  ':28C:123/1',
  ':60F:C240430EUR1000,00',
  ':61:2405010501C32,37NTRFADYEN-BATCH-134//ACMEBANK77821',
  ':86:/EREF/ADYEN-BATCH-134/REMI/Adyen payout batch 134',
  'AcmeCOM',
  ':61:2405010501D25,00NTRFltx01HX4ZZ9QD//ACMEBANK77822',
  ':62F:C240501EUR1007,37',
];

const linesOf = async (...chunks: string[]) => {
  const lines = [];
  for await (const line of statementLines((async function* () {
    yield* chunks;
  })())) lines.push(line);
  return lines;
};

describe('statement importers: MT940 line endings', () => {
  it('reads a file whose lines end in a lone CR as it reads one with LF or CRLF', async () => {
    const expected = await parseStatement(mt940, { text: `${statement.join('\n')}\n` });
    expect(expected.rows.map(({ row }) => row.line)).to.deep.equal([5, 8]);
    for (const ending of ['\r\n', '\r']) {
      expect(await parseStatement(mt940, { text: `${statement.join(ending)}${ending}` }), JSON.stringify(ending)).to.deep.equal(expected);
      expect(await parseStatement(mt940, { text: statement.join(ending) }), `${JSON.stringify(ending)}, no final break`).to.deep.equal(expected);
    }
  });

  it('takes a CRLF split between two chunks for one line break, and a CR ending a chunk for one', async () => {
    expect(await linesOf(':20:A\r', '\n:25:B\r', ':28C:1')).to.deep.equal([
      { line: 1, text: ':20:A' },
      { line: 2, text: ':25:B' },
      { line: 3, text: ':28C:1' },
    ]);
  });
});

import { ValidationError } from '@folio/shared';
import { expect } from 'chai';
import { parseStatement, rejectionOf, sampleText } from './statementSamples.js';

const bankCsv = () => ({ provider: 'nlbank', format: 'csv', mapping: sampleText('csv/bank-export.mapping.json') });

describe('statement importers: generic CSV with a column mapping', () => {
  it('reads rows through the mapping: delimiter, decimal comma, direction column, dates and references', async () => {
    const { rows, statements } = await parseStatement(bankCsv(), { sample: 'csv/bank-export.csv' });
    expect(statements).to.deep.equal([]);
    expect(rows).to.deep.equal([
      {
        rowKey: 'BR-20001',
        row: {
          line: 2,
          category: '',
          description: 'Adyen payout',
          net: { amount: 23950n, currency: 'EUR' },
          references: [
            { kind: 'end_to_end_id', value: 'ADYEN-BATCH-212' },
            { kind: 'bank_reference', value: 'BR-20001' },
          ],
          bookingDate: '2024-06-03',
          valueDate: '2024-06-03',
        },
      },
      {
        rowKey: 'BR-20002',
        row: {
          line: 3,
          category: '',
          description: 'Supplier batch; two payments',
          net: { amount: -8528n, currency: 'EUR' },
          references: [
            { kind: 'end_to_end_id', value: 'SEPA-BATCH-0603' },
            { kind: 'bank_reference', value: 'BR-20002' },
          ],
          bookingDate: '2024-06-03',
          valueDate: '2024-06-04',
        },
      },
      {
        rowKey: 'BR-20003',
        row: {
          line: 4,
          category: '',
          description: 'Card fee Tokyo',
          net: { amount: -1200n, currency: 'JPY' },
          references: [{ kind: 'bank_reference', value: 'BR-20003' }],
          bookingDate: '2024-06-04',
          valueDate: '2024-06-04',
        },
      },
    ]);
  });

  it('reads signed minor units, a composite row key and a fixed currency', async () => {
    const mapping = { rowKey: ['date', 'ref'], currency: 'KWD', gross: 'gross', fee: 'fee', amountUnit: 'minor', bookingDate: 'date', category: 'kind' };
    const { rows } = await parseStatement({ provider: 'acme', format: 'csv', mapping }, { text: 'kind,ref,date,gross,fee\nsale,A1,2024-06-01,12345,-5\n' });
    expect(rows).to.deep.equal([
      {
        rowKey: '2024-06-01|A1',
        row: {
          line: 2,
          category: 'sale',
          gross: { amount: 12345n, currency: 'KWD' },
          fee: { amount: -5n, currency: 'KWD' },
          references: [],
          bookingDate: '2024-06-01',
        },
      },
    ]);
  });

  it('rejects bad directions, dates and amounts off the currency exponent, row by row', async () => {
    const error = await rejectionOf(bankCsv(), { sample: 'csv/bank-export-malformed.csv' });
    expect(error.issues.map(({ line, column }) => [line, column])).to.deep.equal([
      [3, 'D/C'],
      [3, 'Booking date'],
      [4, 'Amount'],
    ]);
    expect(error.issues[2]!.reason).to.match(/"12,5" \(JPY\) has decimals, but JPY has no minor unit/);
  });

  it('rejects a row whose mapped gross or net is empty, naming its line and column', async () => {
    const netOnly = { provider: 'acme', format: 'csv', mapping: { rowKey: 'id', currency: 'EUR', net: 'amount' } };
    expect((await rejectionOf(netOnly, { text: 'id,amount\nA,\nB,1.00\n' })).issues).to.deep.equal([
      { line: 2, column: 'amount', reason: 'must not be empty: the row needs its amount' },
    ]);
    const grossAndFee = { provider: 'acme', format: 'csv', mapping: { rowKey: 'id', currency: 'EUR', gross: 'gross', fee: 'fee' } };
    expect((await rejectionOf(grossAndFee, { text: 'id,gross,fee\nA,10.00,\nB,,0.30\n' })).issues).to.deep.equal([
      { line: 3, column: 'gross', reason: 'must not be empty: the row needs its amount' },
    ]);
    // An empty fee cell is no fee.
    const { rows } = await parseStatement(grossAndFee, { text: 'id,gross,fee\nA,10.00,\n' });
    expect(rows[0]!.row).to.deep.include({ gross: { amount: 1000n, currency: 'EUR' } }).and.not.have.property('fee');
  });

  it('rejects a file missing a mapped column', async () => {
    const error = await rejectionOf(bankCsv(), { text: 'Booking date;Amount\n2024-06-03;1,00\n' });
    expect(error.issues[0]).to.deep.equal({ line: 1, column: 'Bank reference', reason: 'the header has no "Bank reference" column' });
  });

  it('refuses a mapping that is not JSON, or that misses what a row needs', async () => {
    const choose = (mapping: unknown) => parseStatement({ provider: 'acme', format: 'csv', mapping }, { text: 'a\n1\n' });
    for (const [mapping, path] of [
      ['{not json', 'mapping'],
      [{ rowKey: 'a', net: 'a' }, 'mapping.currency'],
      [{ rowKey: 'a', currency: 'EUR' }, 'mapping.net'],
      [{ rowKey: 'a', currency: 'EUR', net: 'a', extra: 1 }, 'mapping'],
      [undefined, 'mapping'],
    ] as const) {
      try {
        await choose(mapping);
        expect.fail(`accepted ${JSON.stringify(mapping)}`);
      } catch (error) {
        expect(error, JSON.stringify(mapping)).to.be.instanceOf(ValidationError);
        expect((error as ValidationError).issues.map((issue) => issue.path)).to.include(path);
      }
    }
  });
});

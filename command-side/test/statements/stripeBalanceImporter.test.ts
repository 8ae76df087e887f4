import { expect } from 'chai';
import { parseStatement, rejectionOf, sampleBytes } from './statementSamples.js';

const stripe = { provider: 'stripe' };

describe('statement importers: Stripe balance and payout reconciliation reports', () => {
  it('reads every row into exact minor units, with its references, payout and dates', async () => {
    const { rows, statements } = await parseStatement(stripe, { sample: 'stripe/payout-reconciliation.csv' });
    expect(statements).to.deep.equal([]);
    expect(rows.map(({ rowKey }) => rowKey)).to.deep.equal([
      'txn_1QAbCdEfGh000001',
      'txn_1QAbCdEfGh000002',
      'txn_1QAbCdEfGh000003',
      'txn_1QAbCdEfGh000004',
    ]);
    expect(rows[0]).to.deep.equal({
      rowKey: 'txn_1QAbCdEfGh000001',
      row: {
        line: 2,
        category: 'charge',
        description: 'Order 5531',
        gross: { amount: 12000n, currency: 'EUR' },
        fee: { amount: 378n, currency: 'EUR' },
        net: { amount: 11622n, currency: 'EUR' },
        references: [
          { kind: 'balance_transaction', value: 'txn_1QAbCdEfGh000001' },
          { kind: 'source', value: 'ch_1QAbCdEfGh000001' },
          { kind: 'charge', value: 'ch_1QAbCdEfGh000001' },
          { kind: 'payment_intent', value: 'pi_1QAbCdEfGh000001' },
          { kind: 'payment_metadata:order_ref', value: 'ord_5531' },
        ],
        payoutId: 'po_1QZyXwVu000777',
        bookingDate: '2024-06-03T09:14:05Z',
        valueDate: '2024-06-05T00:00:00Z',
      },
    });
    // A dispute takes money out and charges a fee: net = gross − fee, signs as Stripe writes them.
    expect(rows[2]!.row).to.include({ category: 'dispute', line: 4 });
    expect([rows[2]!.row.gross?.amount, rows[2]!.row.fee?.amount, rows[2]!.row.net?.amount]).to.deep.equal([-2000n, 1500n, -3500n]);
    // A quoted description keeps its comma.
    expect(rows[1]!.row.description).to.equal('Refund, order 5490');
    // The payout is the sum of the nets.
    expect(rows.reduce((sum, { row }) => sum + (row.net?.amount ?? 0n), 0n)).to.equal(4972n);
  });

  it('reads columns by name whatever their order, and a leading byte order mark changes nothing', async () => {
    const plain = await parseStatement(stripe, { sample: 'stripe/payout-reconciliation.csv' });
    const reordered = await parseStatement(stripe, { sample: 'stripe/payout-reconciliation-bom-reordered.csv' });
    expect(reordered.rows.map(({ row: { references, ...row }, rowKey }) => ({ rowKey, row, references: [...references].sort((a, b) => a.kind.localeCompare(b.kind)) }))).to.deep.equal(
      plain.rows.map(({ row: { references, ...row }, rowKey }) => ({ rowKey, row, references: [...references].sort((a, b) => a.kind.localeCompare(b.kind)) })),
    );
  });

  it('books zero-decimal and Stripe-specific currencies in ISO minor units, exactly', async () => {
    const { rows } = await parseStatement(stripe, {
      text: [
        'balance_transaction_id,currency,gross,fee,net,reporting_category',
        'txn_jpy,jpy,1500,45,1455,charge',
        'txn_isk,isk,1990.00,0.00,1990.00,charge',
        'txn_mga,mga,5000,0,5000,charge',
        'txn_kwd,kwd,12.345,0.100,12.245,charge',
      ].join('\n'),
    });
    expect(rows.map(({ row }) => [row.gross?.currency, row.gross?.amount])).to.deep.equal([
      ['JPY', 1500n],
      ['ISK', 1990n],
      ['MGA', 500000n],
      ['KWD', 12345n],
    ]);
  });

  it('rejects amounts off the currency exponent, unknown currencies and short rows, each with its line and column', async () => {
    const error = await rejectionOf(stripe, { sample: 'stripe/malformed-amounts.csv' });
    expect(error.issues.map(({ line, column }) => [line, column])).to.deep.equal([
      [3, 'gross'],
      [3, 'net'],
      [4, 'currency'],
      [5, undefined],
    ]);
    expect(error.issues[0]!.reason).to.match(/"10\.505" \(EUR\) has 3 decimals, but EUR has 2/);
    expect(error.issues[3]!.reason).to.equal('the row has 5 fields but the header has 7');
    expect(error.problemExtensions()).to.include({ line: 3, column: 'gross', issueCount: 4 });
  });

  it('rejects a header without a required column, and amounts Stripe could not have written', async () => {
    const missing = await rejectionOf(stripe, { sample: 'stripe/missing-column.csv' });
    expect(missing.issues).to.deep.equal([{ line: 1, column: 'gross', reason: 'the header has no "gross" column' }]);
    const isk = await rejectionOf(stripe, { text: 'balance_transaction_id,currency,gross,reporting_category\ntxn_1,isk,10.50,charge\n' });
    expect(isk.issues[0]).to.include({ line: 2, column: 'gross' });
    expect(isk.issues[0]!.reason).to.match(/not a whole number of ISK minor units/);
    const date = await rejectionOf(stripe, { text: 'balance_transaction_id,created_utc,currency,gross,reporting_category\ntxn_1,2024-02-30 10:00:00,eur,1.00,charge\ntxn_2,03/06/2024,eur,1.00,charge\n' });
    expect(date.issues).to.deep.equal([
      { line: 2, column: 'created_utc', reason: '"2024-02-30 10:00:00" is not a date and time of the calendar' },
      { line: 3, column: 'created_utc', reason: '"03/06/2024" is not a date-time such as "2024-05-01 14:03:11"' },
    ]);
    const empty = await rejectionOf(stripe, { text: '' });
    expect(empty.issues[0]).to.deep.equal({ line: 1, reason: 'the file is empty: expected a header line' });
    const quote = await rejectionOf(stripe, { text: 'balance_transaction_id,currency,gross,reporting_category\ntxn_1,eur,"10.00,charge\n' });
    expect(quote.issues[0]!.line).to.equal(2);
    expect(quote.issues[0]!.reason).to.match(/^not valid CSV/);
  });

  it('reads a file whose lines end in a lone CR as lines, not as one header record', async () => {
    const lines = ['balance_transaction_id,currency,gross,reporting_category,description', 'txn_1,usd,10.00,charge,Order 1'];
    const { rows } = await parseStatement(stripe, { text: `${lines.join('\r')}\r` });
    expect(rows.map(({ rowKey, row }) => [rowKey, row.line, row.gross?.amount])).to.deep.equal([['txn_1', 2, 1000n]]);
  });

  it('counts a CRLF inside a quoted field as one line, for the rows after it too', async () => {
    const lines = ['balance_transaction_id,currency,gross,reporting_category,description', 'txn_1,usd,10.00,charge,"Order 1\r\nsecond line"', 'txn_2,usd,1.001,charge,Order 2'];
    expect((await rejectionOf(stripe, { text: `${lines.join('\r\n')}\r\n` })).issues[0]).to.include({ line: 4, column: 'gross' });
  });

  it('rejects text that is not UTF-8 at the line it is on, not at the first line of its chunk', async () => {
    // Read whole, the sample is one chunk; inline, it comes in chunks of a few bytes.
    const expected = [{ line: 4, reason: 'the file is not valid UTF-8 text' }];
    expect((await rejectionOf(stripe, { sample: 'stripe/latin1-export.csv' })).issues).to.deep.equal(expected);
    expect((await rejectionOf(stripe, { text: sampleBytes('stripe/latin1-export.csv') })).issues).to.deep.equal(expected);
  });
});

import { expect } from 'chai';
import { parseStatement, rejectionOf, sampleText } from './statementSamples.js';

const paypal = { provider: 'paypal' };

describe('statement importers: PayPal settlement report (STL)', () => {
  it('reads the section as a statement and each SB record as a row, signed by its CR/DR flags', async () => {
    const { rows, statements } = await parseStatement(paypal, { sample: 'paypal/STL-20240603.01.009.CSV' });
    expect(statements).to.deep.equal([
      {
        statementId: 'SHOPACCT7788/2024-06-03T00:00:00-07:00',
        account: 'SHOPACCT7788',
        periodStart: '2024-06-03T00:00:00-07:00',
        periodEnd: '2024-06-03T23:59:59-07:00',
        createdAt: '2024-06-04T03:20:00-07:00',
        pageNumber: 1n,
        balances: [],
      },
    ]);
    expect(rows.map(({ row }) => [row.line, row.category, row.gross?.amount, row.fee?.amount])).to.deep.equal([
      [5, 'T0006', 8450n, 295n],
      // A refund takes money out and gives part of the fee back.
      [6, 'T1107', -1500n, -44n],
      // ¥120 with a ¥4 fee, written with two implied decimals like every PayPal amount.
      [7, 'T0006', 120n, 4n],
      [8, 'T0400', -5000n, 0n],
    ]);
    expect(rows[1]).to.deep.equal({
      rowKey: '2CD98765EF432109G',
      statementId: 'SHOPACCT7788/2024-06-03T00:00:00-07:00',
      row: {
        line: 6,
        category: 'T1107',
        gross: { amount: -1500n, currency: 'USD' },
        fee: { amount: -44n, currency: 'USD' },
        references: [
          { kind: 'transaction_id', value: '2CD98765EF432109G' },
          { kind: 'invoice_id', value: 'INV-3275' },
          { kind: 'paypal_reference:TXN', value: '5GH11122IJ334455K' },
          { kind: 'custom', value: 'ltx_7702' },
          { kind: 'consumer_id', value: 'payer2@example.com' },
        ],
        bookingDate: '2024-06-03T12:05:02-07:00',
        transactionDate: '2024-06-03T12:05:00-07:00',
      },
    });
  });

  it('reads amounts with two implied decimals in every currency: 12000 JPY is ¥120, 10050 JPY cannot be booked', async () => {
    const { rows } = await parseStatement(paypal, { sample: 'paypal/STL-20240603.01.009.CSV' });
    expect(rows[2]!.row.gross).to.deep.equal({ amount: 120n, currency: 'JPY' });
    const text = sampleText('paypal/STL-20240603.01.009.CSV').replace('"CR",12000,"JPY"', '"CR",12050,"JPY"');
    expect((await rejectionOf(paypal, { text })).issues).to.deep.equal([
      {
        line: 7,
        column: 'Gross Transaction Amount',
        reason: 'amount "120.50" (JPY) is not a whole number of JPY minor units (ISO 4217 gives it 0 decimals), so it cannot be booked exactly',
      },
    ]);
  });

  it('reads the file the same without its byte order mark and with columns in another order', async () => {
    const text = sampleText('paypal/STL-20240603.01.009.CSV').replace(/^\uFEFF/, '');
    const lines = text.split('\n');
    const swap = (line: string) => {
      const fields = line.split(',');
      [fields[1], fields[9]] = [fields[9]!, fields[1]!];
      return fields.join(',');
    };
    const reordered = lines.map((line) => (line.startsWith('"CH"') || line.startsWith('"SB"') ? swap(line) : line)).join('\n');
    const original = await parseStatement(paypal, { sample: 'paypal/STL-20240603.01.009.CSV' });
    expect(await parseStatement(paypal, { text: reordered })).to.deep.equal(original);
  });

  it('rejects a file cut short, a section whose count does not match, and bad flags and amounts', async () => {
    expect((await rejectionOf(paypal, { sample: 'paypal/truncated.CSV' })).issues).to.deep.equal([
      { line: 8, reason: 'the file ends without its footer (FF): it is truncated' },
    ]);
    expect((await rejectionOf(paypal, { sample: 'paypal/section-count-mismatch.CSV' })).issues[0]).to.include({ line: 7 });
    const bad = await rejectionOf(paypal, { sample: 'paypal/bad-rows.CSV' });
    expect(bad.issues).to.deep.equal([
      { line: 5, column: 'Transaction  Debit or Credit', reason: 'must be "CR" or "DR"' },
      { line: 6, column: 'Gross Transaction Amount', reason: 'amount "84.50" (USD) must be unsigned digits with two implied decimals' },
      { line: 7, column: 'Fee Debit or Credit', reason: 'a fee other than 0 needs "CR" or "DR"' },
    ]);
  });

  it('rejects records out of place', async () => {
    const error = await rejectionOf(paypal, { text: '"FH",01\n' });
    expect(error.issues[0]).to.deep.equal({ line: 1, reason: 'the file must start with the report header (RH), found "FH"' });
    const orphan = await rejectionOf(paypal, { text: '"RH","2024/06/04 03:20:00 -0700","A","X","009"\n"SB","1","T0006"\n' });
    expect(orphan.issues[0]!.reason).to.match(/before its section \(SH\) and column header \(CH\)/);
  });
});

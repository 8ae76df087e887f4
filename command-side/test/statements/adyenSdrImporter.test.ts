import { expect } from 'chai';
import { parseStatement, rejectionOf, sampleText } from './statementSamples.js';

const adyen = { provider: 'adyen' };

describe('statement importers: Adyen settlement details report', () => {
  it('reads a batch: direction from the debit or credit column, gross in its own currency, fees summed', async () => {
    const { rows, statements } = await parseStatement(adyen, { sample: 'adyen/settlement_detail_report_batch_212.csv' });
    expect(statements).to.deep.equal([{ statementId: 'ShopCoEU/212', account: 'ShopCoEU', sequenceNumber: 212n, balances: [] }]);
    expect(rows[3]).to.deep.equal({
      rowKey: 'ShopCoEU|212|Settled|7914482210101234|7914482210105678|',
      statementId: 'ShopCoEU/212',
      row: {
        line: 5,
        category: 'Settled',
        gross: { amount: 10000n, currency: 'USD' },
        fee: { amount: 210n, currency: 'EUR' },
        feeBreakdown: [
          { kind: 'markup', amount: 20n },
          { kind: 'scheme_fees', amount: 30n },
          { kind: 'interchange', amount: 160n },
        ],
        net: { amount: 8990n, currency: 'EUR' },
        exchangeRate: '0.92',
        references: [
          { kind: 'psp_reference', value: '7914482210101234' },
          { kind: 'merchant_reference', value: 'ORD-8805' },
          { kind: 'modification_reference', value: '7914482210105678' },
          { kind: 'merchant_account', value: 'ShopCoEU' },
          { kind: 'company_account', value: 'ShopCo' },
          { kind: 'payment_method', value: 'visacredit' },
        ],
        payoutId: '212',
        bookingDate: '2024-06-03T15:30:00',
        transactionDate: '2024-06-03T15:30:00',
        timeZone: 'CET',
      },
    });
    expect(rows.map(({ row }) => [row.category, row.net?.amount])).to.deep.equal([
      ['Settled', 24535n],
      ['Refunded', -6000n],
      ['Chargeback', -3500n],
      ['Settled', 8990n],
      ['Fee', -75n],
      ['MerchantPayout', -23950n],
    ]);
    // The batch closes: what the non-payout rows net is what the payout takes out.
    const payout = rows.find(({ row }) => row.category === 'MerchantPayout')!.row.net!.amount;
    const others = rows.filter(({ row }) => row.category !== 'MerchantPayout').reduce((sum, { row }) => sum + row.net!.amount, 0n);
    expect(others + payout).to.equal(0n);
  });

  it('reads the post-migration layout by header name, with booking dates, and numbers repeated batch-level rows', async () => {
    const { rows } = await parseStatement(adyen, { sample: 'adyen/settlement_detail_report_batch_213_migration.csv' });
    expect(rows.map(({ rowKey }) => rowKey)).to.deep.equal([
      'ShopCoEU|213|Settled|7914482210120001|7914482210120002|2024-06-05T02:00:00',
      'ShopCoEU|213|Fee|||2024-06-05T06:00:00#1',
      'ShopCoEU|213|Fee|||2024-06-05T06:00:00#2',
      'ShopCoEU|213|MerchantPayout|||2024-06-05T06:00:00#1',
    ]);
    expect(rows[0]!.row).to.include({ bookingDate: '2024-06-05T02:00:00', transactionDate: '2024-06-04T19:22:10', timeZone: 'Europe/Amsterdam' });
    expect(rows[1]!.row.fee).to.deep.equal({ amount: 40n, currency: 'EUR' });
  });

  it('accepts a byte order mark', async () => {
    const text = `\uFEFF${sampleText('adyen/settlement_detail_report_batch_212.csv')}`;
    const original = await parseStatement(adyen, { sample: 'adyen/settlement_detail_report_batch_212.csv' });
    expect(await parseStatement(adyen, { text })).to.deep.equal(original);
  });

  it('rejects an amount in both the debit and credit column, and amounts off the currency exponent', async () => {
    const error = await rejectionOf(adyen, { sample: 'adyen/ambiguous-direction.csv' });
    expect(error.issues.map(({ line, column }) => [line, column])).to.deep.equal([
      [2, 'Gross Credit (GC)'],
      [3, 'Gross Credit (GC)'],
    ]);
    expect(error.issues[0]!.reason).to.equal('both Gross Debit (GC) and Gross Credit (GC) are filled: the direction is ambiguous');
    expect(error.issues[1]!.reason).to.match(/"12\.3456" \(KWD\) has 4 decimals, but KWD has 3/);
  });
});

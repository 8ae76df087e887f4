import { bytesOf, expectNetRestated, rowEvents } from './statementRowEvents.js';
import { expect } from 'chai';
import { createStatementImportService } from '../../src/statements/statementImportService.js';
import { openTempStore, type TempStore } from '../tempEventStore.js';

const context = { correlationId: 'adyen-identity-test', actor: 'finance-ops', now: new Date('2024-06-05T08:00:00Z') };

const HEADER =
  'Company Account,Merchant Account,Psp Reference,Merchant Reference,Payment Method,Creation Date,TimeZone,Type,Modification Reference,Gross Currency,Gross Debit (GC),Gross Credit (GC),Exchange Rate,Net Currency,Net Debit (NC),Net Credit (NC),Commission (NC),Markup (NC),Scheme Fees (NC),Interchange (NC),Payment Method Variant,Modification Merchant Reference,Batch Number';

/** A classic-layout batch: one payment, then batch-level rows, several alike but for their amount, date or currency. */
const ROWS = {
  settled: 'ShopCo,ShopCoEU,7914482210056431,ORD-8801,visa,2024-06-03 08:12:44,CET,Settled,7914482210059902,EUR,,250.00,1,EUR,,245.35,,0.35,0.55,3.75,visadebit,,214',
  earlyFee: 'ShopCo,ShopCoEU,,,,2024-06-03 06:00:00,CET,Fee,,EUR,,,,EUR,0.40,,,,,,,,214',
  lateFee: 'ShopCo,ShopCoEU,,,,2024-06-04 06:00:00,CET,Fee,,EUR,,,,EUR,0.75,,,,,,,,214',
  lateSmallFee: 'ShopCo,ShopCoEU,,,,2024-06-04 06:00:00,CET,Fee,,EUR,,,,EUR,0.40,,,,,,,,214',
  invoice: 'ShopCo,ShopCoEU,,,,2024-06-04 06:00:00,CET,InvoiceDeduction,,EUR,,,,EUR,5.00,,,,,,,,214',
  transferEur: 'ShopCo,ShopCoEU,,,,2024-06-04 06:00:00,CET,Balancetransfer,,EUR,,,,EUR,,10.00,,,,,,,214',
  transferUsd: 'ShopCo,ShopCoEU,,,,2024-06-04 06:00:00,CET,Balancetransfer,,USD,,,,USD,,3.00,,,,,,,214',
  payout: 'ShopCo,ShopCoEU,,,,2024-06-04 07:00:00,CET,MerchantPayout,,EUR,,,,EUR,243.80,,,,,,,,214',
};

const fileOf = (rows: readonly string[]) => [HEADER, ...rows].join('\n');

describe('statement import: Adyen rows without a PSP reference keep their identity when the batch is exported again', () => {
  let temp: TempStore;
  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(() => temp.dispose());

  const original = [ROWS.settled, ROWS.earlyFee, ROWS.lateFee, ROWS.lateSmallFee, ROWS.invoice, ROWS.invoice, ROWS.transferEur, ROWS.transferUsd, ROWS.payout];
  const reordered = [ROWS.payout, ROWS.transferUsd, ROWS.invoice, ROWS.lateSmallFee, ROWS.settled, ROWS.transferEur, ROWS.earlyFee, ROWS.invoice, ROWS.lateFee];

  it('imports nothing new and restates nothing when the same rows come in another order; identical rows stay two', async () => {
    const service = createStatementImportService({ eventStore: temp.store });
    const first = await service.importStatement({ provider: 'adyen', content: bytesOf(fileOf(original)) }, context);
    expect(first.summary.rows).to.deep.equal({ total: 9, recorded: 9, restated: 0, unchanged: 0, duplicated: 0 });
    // Keys keep their earlier form: a row with a PSP reference, or alone with its tuple, is keyed as it was.
    const keys = (await rowEvents(temp.store)).map(({ data }) => [data.row.line, data.rowKey]).sort(([a], [b]) => Number(a) - Number(b));
    expect(keys).to.deep.equal([
      [2, 'ShopCoEU|214|Settled|7914482210056431|7914482210059902|'],
      [3, 'ShopCoEU|214|Fee|||#1'],
      [4, 'ShopCoEU|214|Fee|||#3'],
      [5, 'ShopCoEU|214|Fee|||#2'],
      [6, 'ShopCoEU|214|InvoiceDeduction|||#1'],
      [7, 'ShopCoEU|214|InvoiceDeduction|||#2'],
      [8, 'ShopCoEU|214|Balancetransfer|||#1'],
      [9, 'ShopCoEU|214|Balancetransfer|||#2'],
      [10, 'ShopCoEU|214|MerchantPayout|||#1'],
    ]);

    const again = await service.importStatement({ provider: 'adyen', content: bytesOf(fileOf(reordered)) }, context);
    expect(again.alreadyImported).to.equal(false);
    expect(again.summary.rows).to.deep.equal({ total: 9, recorded: 0, restated: 0, unchanged: 9, duplicated: 0 });
  });

  it('restates the very row whose amount changed in a reordered export', async () => {
    const service = createStatementImportService({ eventStore: temp.store });
    await service.importStatement({ provider: 'adyen', content: bytesOf(fileOf(original)) }, context);
    const recorded = await rowEvents(temp.store);
    const earlyFeeKey = recorded.find(({ data }) => data.row.category === 'Fee' && data.row.transactionDate === '2024-06-03T06:00:00')!.data.rowKey;

    const changed = reordered.map((row) => (row === ROWS.earlyFee ? row.replace('EUR,0.40,', 'EUR,0.45,') : row));
    const result = await service.importStatement({ provider: 'adyen', content: bytesOf(fileOf(changed)) }, context);
    expect(result.summary.rows).to.deep.equal({ total: 9, recorded: 0, restated: 1, unchanged: 8, duplicated: 0 });
    await expectNetRestated(temp.store, earlyFeeKey, -40n, -45n);
  });
});

import { bytesOf, expectNetRestated, rowEvents } from './statementRowEvents.js';
import { expect } from 'chai';
import { createStatementImportService } from '../../src/statements/statementImportService.js';
import { openTempStore, type TempStore } from '../tempEventStore.js';
import { recordAsPreviousVersion } from './previousVersionRows.js';

const context = { correlationId: 'mt940-identity-test', actor: 'finance-ops', now: new Date('2024-06-05T08:00:00Z') };

/** A day's statement whose bank gives most lines no reference: two of them identical, two alike but for their amount. */
const LINES = {
  referenced: [':61:2406030603C32,37NTRFADYEN-BATCH-134//ACMEBANK77821', ':86:/EREF/ADYEN-BATCH-134/REMI/Adyen payout batch 134'],
  stripe: [':61:2406030603C120,00NTRFNONREF', ':86:/EREF/STRIPE-po_1PQx/REMI/Stripe payout'],
  refund: [':61:2406030603D25,00NTRFNONREF//NONREF', ':86:/EREF/ltx_01HX4ZZ9QD/REMI/Refund order 1038'],
  weekendFee: [':61:2406010603D0,40NCHGNONREF', ':86:Account fee'],
  lateFee: [':61:2406030603D0,75NCHGNONREF', ':86:Account fee'],
  smallFee: [':61:2406030603D0,40NCHGNONREF', ':86:Account fee'],
  cardFee: [':61:2406030603D1,10NCHGNONREF', ':86:Card fee'],
};

const statementOf = (lines: readonly (readonly string[])[]) =>
  [':20:STARTUMS', ':25:DE02100100100006820101', ':28C:0', ':60F:C240602EUR1000,00', ...lines.flat(), ':62F:C240603EUR1123,62'].join('\n');

describe('statement import: MT940 lines without a bank reference keep their identity when the statement comes again in another order', () => {
  let temp: TempStore;
  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(() => temp.dispose());

  const original = [LINES.referenced, LINES.stripe, LINES.weekendFee, LINES.lateFee, LINES.cardFee, LINES.refund, LINES.cardFee, LINES.smallFee];
  const reordered = [LINES.smallFee, LINES.cardFee, LINES.refund, LINES.stripe, LINES.weekendFee, LINES.cardFee, LINES.referenced, LINES.lateFee];
  const importOf = (lines: readonly (readonly string[])[]) =>
    createStatementImportService({ eventStore: temp.store }).importStatement({ provider: 'nlbank', format: 'mt940', content: bytesOf(statementOf(lines)) }, context);

  it('imports nothing new and restates nothing; identical lines stay two rows and a line with a bank reference keeps its key', async () => {
    const first = await importOf(original);
    expect(first.summary.rows).to.deep.equal({ total: 8, recorded: 8, restated: 0, unchanged: 0, duplicated: 0 });
    const keys = (await rowEvents(temp.store)).map(({ data }) => data.rowKey);
    expect(keys).to.include('DE02100100100006820101/ACMEBANK77821');
    expect(new Set(keys).size).to.equal(8);

    const again = await importOf(reordered);
    expect(again.alreadyImported).to.equal(false);
    expect(again.summary.rows).to.deep.equal({ total: 8, recorded: 0, restated: 0, unchanged: 8, duplicated: 0 });
  });

  it('restates the very line whose amount the bank corrected, wherever it now stands', async () => {
    await importOf(original);
    const stripeKey = (await rowEvents(temp.store)).find(({ data }) => data.row.net?.amount === 12000n)!.data.rowKey;

    const corrected = reordered.map((line) => (line === LINES.stripe ? [line[0]!.replace('C120,00', 'C121,50'), line[1]!] : line));
    const result = await importOf(corrected);
    expect(result.summary.rows).to.deep.equal({ total: 8, recorded: 0, restated: 1, unchanged: 7, duplicated: 0 });
    await expectNetRestated(temp.store, stripeKey, 12000n, 12150n);
  });
});

describe('statement import: MT940 lines without a bank reference of a statement imported by the previous version keep its positional keys', () => {
  let temp: TempStore;
  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(() => temp.dispose());

  const original = [LINES.referenced, LINES.stripe, LINES.weekendFee, LINES.lateFee, LINES.cardFee, LINES.refund, LINES.cardFee, LINES.smallFee];
  /** The previous version keyed a line without a bank reference on its dates and its place among all the statement's lines. */
  const positionalKey = (valueDate: string, index: number) => `DE02100100100006820101/STARTUMS/0/2024-06-02/${valueDate}/2024-06-03#${index + 1}`;
  const importedByThePreviousVersion = () =>
    recordAsPreviousVersion(
      temp.store,
      { provider: 'nlbank', format: 'mt940', account: 'DE02100100100006820101', text: statementOf(original) },
      (row, index) => (original[index] === LINES.referenced ? row.rowKey : positionalKey(row.row.valueDate!, index)),
    );
  /** The same statement in another file: it came through a channel that ends lines in CRLF. */
  const deliveredAgain = (lines: readonly (readonly string[])[]) =>
    createStatementImportService({ eventStore: temp.store }).importStatement(
      { provider: 'nlbank', format: 'mt940', content: bytesOf(statementOf(lines).replace(/\n/g, '\r\n')) },
      context,
    );

  it('records nothing new and restates nothing when the statement comes again in the same order', async () => {
    await importedByThePreviousVersion();
    const again = await deliveredAgain(original);
    expect(again.alreadyImported).to.equal(false);
    expect(again.summary.rows).to.deep.equal({ total: 8, recorded: 0, restated: 0, unchanged: 8, duplicated: 0 });
    expect(await rowEvents(temp.store)).to.have.length(8);
  });

  it('keys a reordered statement by place as the previous version did, even when its first line lands where no such line stood', async () => {
    await importedByThePreviousVersion();
    const reordered = [LINES.smallFee, LINES.cardFee, LINES.refund, LINES.stripe, LINES.weekendFee, LINES.cardFee, LINES.referenced, LINES.lateFee];
    const again = await deliveredAgain(reordered);
    // Four lines restate the ones that stood at their places; three stand where the referenced line or a line of other dates did.
    expect(again.summary.rows).to.deep.equal({ total: 8, recorded: 3, restated: 4, unchanged: 1, duplicated: 0 });
    const written = (await rowEvents(temp.store)).slice(8).map(({ data }) => data.rowKey);
    const expected = [0, 1, 2, 3, 5, 7].map((index) => positionalKey('2024-06-03', index)).concat(positionalKey('2024-06-01', 4));
    expect(written.sort()).to.deep.equal(expected.sort());
  });
});

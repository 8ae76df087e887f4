import type { StatementEvent } from '@folio/shared';
import { bytesOf, expectNetRestated, rowEvents } from './statementRowEvents.js';
import { expect } from 'chai';
import { createStatementImportService } from '../../src/statements/statementImportService.js';
import { openTempStore, type TempStore } from '../tempEventStore.js';
import { recordAsPreviousVersion } from './previousVersionRows.js';

const context = { correlationId: 'camt-identity-test', actor: 'finance-ops', now: new Date('2024-06-05T08:00:00Z') };

const IBAN = 'DE02100100109307118603';

const entry = (amount: string, indicator: 'CRDT' | 'DBIT', date: string, inside = '') =>
  `<Ntry><Amt Ccy="EUR">${amount}</Amt><CdtDbtInd>${indicator}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>` +
  `<BookgDt><Dt>${date}</Dt></BookgDt><ValDt><Dt>${date}</Dt></ValDt>${inside}` +
  '<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd></Ntry>';

const transaction = (endToEnd: string, debtor: string, remittance: string) =>
  `<NtryDtls><TxDtls><Refs><EndToEndId>${endToEnd}</EndToEndId></Refs><RltdPties><Dbtr><Pty><Nm>${debtor}</Nm></Pty></Dbtr></RltdPties>` +
  `<RmtInf><Ustrd>${remittance}</Ustrd></RmtInf></TxDtls></NtryDtls>`;

/** A day's statement whose bank gives most entries no reference: two of them identical, two alike but for their amount. */
const ENTRIES = {
  referenced: entry('32.37', 'CRDT', '2024-06-03', '<AcctSvcrRef>BANK-77821</AcctSvcrRef>'),
  adyen: entry('245.35', 'CRDT', '2024-06-03', transaction('ADYEN-BATCH-134', 'Adyen N.V.', 'Adyen payout batch 134')),
  stripe: entry('120.00', 'CRDT', '2024-06-03', transaction('NOTPROVIDED', 'Stripe Payments Europe', 'STRIPE po_1PQx')),
  earlyFee: entry('0.40', 'DBIT', '2024-06-02'),
  lateFee: entry('0.75', 'DBIT', '2024-06-03'),
  lateSmallFee: entry('0.40', 'DBIT', '2024-06-03'),
  cardFee: entry('1.10', 'DBIT', '2024-06-03'),
};

const statementOf = (entries: readonly string[]) =>
  [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">',
    '<BkToCstmrStmt><GrpHdr><MsgId>BANK-0604</MsgId><CreDtTm>2024-06-04T05:00:00+02:00</CreDtTm></GrpHdr>',
    `<Stmt><Id>STMT-0603</Id><ElctrncSeqNb>88</ElctrncSeqNb><Acct><Id><IBAN>${IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>`,
    ...entries,
    '</Stmt></BkToCstmrStmt></Document>',
  ].join('\n');

describe('statement import: camt.053 entries without a reference keep their identity when the statement comes again in another order', () => {
  let temp: TempStore;
  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(() => temp.dispose());

  const original = [ENTRIES.adyen, ENTRIES.referenced, ENTRIES.earlyFee, ENTRIES.lateFee, ENTRIES.cardFee, ENTRIES.cardFee, ENTRIES.stripe, ENTRIES.lateSmallFee];
  const reordered = [ENTRIES.lateSmallFee, ENTRIES.cardFee, ENTRIES.stripe, ENTRIES.referenced, ENTRIES.lateFee, ENTRIES.cardFee, ENTRIES.earlyFee, ENTRIES.adyen];
  const importOf = (entries: readonly string[]) =>
    createStatementImportService({ eventStore: temp.store }).importStatement({ provider: 'nlbank', format: 'camt053', content: bytesOf(statementOf(entries)) }, context);

  it('imports nothing new and restates nothing; identical entries stay two rows and a referenced entry keeps its key', async () => {
    const first = await importOf(original);
    expect(first.summary.rows).to.deep.equal({ total: 8, recorded: 8, restated: 0, unchanged: 0, duplicated: 0 });
    const keys = (await rowEvents(temp.store)).map(({ data }) => data.rowKey);
    expect(keys).to.include(`${IBAN}/BANK-77821`);
    expect(new Set(keys).size).to.equal(8);

    const again = await importOf(reordered);
    expect(again.alreadyImported).to.equal(false);
    expect(again.summary.rows).to.deep.equal({ total: 8, recorded: 0, restated: 0, unchanged: 8, duplicated: 0 });
  });

  it('restates the very entry whose amount the bank corrected, wherever it now stands', async () => {
    await importOf(original);
    const isStripe = ({ data }: StatementEvent & { type: 'StatementRowRecorded' | 'StatementRowRestated' }) =>
      data.row.details?.[0]?.counterparty === 'Stripe Payments Europe';
    const stripeKey = (await rowEvents(temp.store)).find(isStripe)!.data.rowKey;

    const corrected = reordered.map((entry) => (entry === ENTRIES.stripe ? entry.replace('>120.00<', '>121.50<') : entry));
    const result = await importOf(corrected);
    expect(result.summary.rows).to.deep.equal({ total: 8, recorded: 0, restated: 1, unchanged: 7, duplicated: 0 });
    await expectNetRestated(temp.store, stripeKey, 12000n, 12150n);
  });
});

describe('statement import: camt.053 entries without a reference of a statement imported by the previous version keep its positional keys', () => {
  let temp: TempStore;
  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(() => temp.dispose());

  const original = [ENTRIES.adyen, ENTRIES.referenced, ENTRIES.earlyFee, ENTRIES.lateFee, ENTRIES.cardFee, ENTRIES.cardFee, ENTRIES.stripe, ENTRIES.lateSmallFee];
  /** The previous version keyed an entry without a reference on its place among all the statement's entries. */
  const positionalKey = (index: number) => `${IBAN}/STMT-0603#${index + 1}`;
  const importedByThePreviousVersion = () =>
    recordAsPreviousVersion(temp.store, { provider: 'nlbank', format: 'camt053', account: IBAN, text: statementOf(original) }, (row, index) =>
      original[index] === ENTRIES.referenced ? row.rowKey : positionalKey(index),
    );
  /** The same statement in another file: the bank's message has another id. */
  const deliveredAgain = (entries: readonly string[]) =>
    createStatementImportService({ eventStore: temp.store }).importStatement(
      { provider: 'nlbank', format: 'camt053', content: bytesOf(statementOf(entries).replace('<MsgId>BANK-0604</MsgId>', '<MsgId>BANK-0604-2</MsgId>')) },
      context,
    );

  it('records nothing new and restates nothing when the statement comes again in the same order', async () => {
    await importedByThePreviousVersion();
    const again = await deliveredAgain(original);
    expect(again.alreadyImported).to.equal(false);
    expect(again.summary.rows).to.deep.equal({ total: 8, recorded: 0, restated: 0, unchanged: 8, duplicated: 0 });
    expect(await rowEvents(temp.store)).to.have.length(8);
  });

  it('keys a reordered statement by place as the previous version did: its entries restate the ones that stood there before', async () => {
    await importedByThePreviousVersion();
    const reordered = [ENTRIES.lateSmallFee, ENTRIES.cardFee, ENTRIES.stripe, ENTRIES.referenced, ENTRIES.lateFee, ENTRIES.cardFee, ENTRIES.earlyFee, ENTRIES.adyen];
    const again = await deliveredAgain(reordered);
    // Five entries now stand where other entries without a reference stood; one stands where the referenced entry did.
    expect(again.summary.rows).to.deep.equal({ total: 8, recorded: 1, restated: 5, unchanged: 2, duplicated: 0 });
    const written = (await rowEvents(temp.store)).slice(8).map(({ data }) => data.rowKey);
    expect(written.sort()).to.deep.equal([0, 1, 2, 4, 6, 7].map(positionalKey).sort());
  });
});

import { collect, statementCatalog, type EventStore } from '@folio/shared';
import { expect } from 'chai';
import { createStatementImportService } from '../../src/statements/statementImportService.js';
import { openTempStore, type TempStore } from '../tempEventStore.js';
import { parseStatement, rejectionOf } from './statementSamples.js';

const camt = { provider: 'nlbank', format: 'camt053' };

const document = (...statements: string[]) =>
  '<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>\n' +
  '<GrpHdr><MsgId>NLBANK-20240502</MsgId><CreDtTm>2024-05-02T06:00:00+02:00</CreDtTm></GrpHdr>\n' +
  `${statements.join('\n')}\n</BkToCstmrStmt></Document>\n`;

const balance = (type: string, amount: string) =>
  `<Bal><Tp><CdOrPrtry><Cd>${type}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">${amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd></Bal>`;

/** A day's statement of one account, with one credit entry; banks often name it by the day alone. */
const dayStatement = (iban: string, amount: string, reference: string) =>
  `<Stmt><Id>20240501</Id><Acct><Id><IBAN>${iban}</IBAN></Id><Ccy>EUR</Ccy></Acct>${balance('OPBD', '0.00')}${balance('CLBD', amount)}\n` +
  `<Ntry><Amt Ccy="EUR">${amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><AcctSvcrRef>${reference}</AcctSvcrRef></Ntry></Stmt>`;

const entryWithCharges = (charges: string) =>
  document(
    '<Stmt><Id>S1</Id><Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id><Ccy>EUR</Ccy></Acct>\n' +
      `<Ntry><Amt Ccy="EUR">10.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><AcctSvcrRef>R1</AcctSvcrRef>\n<Chrgs>${charges}</Chrgs></Ntry></Stmt>`,
  );

const recordedRows = async (store: EventStore) =>
  (await collect(store.readAll()))
    .map((recorded) => statementCatalog.decode(recorded))
    .flatMap((event) => (event.type === 'StatementRowRecorded' ? [event.data] : []));

describe('statement importers: camt.053 statements that share an Id, and charges', () => {
  let temp: TempStore;
  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(() => temp.dispose());

  it('keeps each account\'s rows and totals with its own statement when two statements of a file share an Id', async () => {
    const service = createStatementImportService({ eventStore: temp.store });
    const xml = document(dayStatement('NL01BANK0000000001', '1.00', 'R1'), dayStatement('NL02BANK0000000002', '2.00', 'R2'));
    const { summary } = await service.importStatement(
      {
        provider: 'nlbank',
        format: 'camt053',
        content: (async function* () {
          yield Buffer.from(xml);
        })(),
      },
      { correlationId: 'shared-ids', actor: 'finance-ops', now: new Date('2024-05-02T08:00:00Z') },
    );
    expect(summary.statements.map(({ account, rowTotals }) => [account, rowTotals])).to.deep.equal([
      ['NL01BANK0000000001', [{ currency: 'EUR', count: 1, credits: 100n, debits: 0n }]],
      ['NL02BANK0000000002', [{ currency: 'EUR', count: 1, credits: 200n, debits: 0n }]],
    ]);
    expect(summary.statements.map(({ statementId }) => statementId)).to.deep.equal(['20240501', '20240501#2']);
    const rows = await recordedRows(temp.store);
    expect(rows.map(({ rowKey, statementId, account }) => [rowKey, statementId, account])).to.deep.equal([
      ['NL01BANK0000000001/R1', '20240501', 'NL01BANK0000000001'],
      ['NL02BANK0000000002/R2', '20240501#2', 'NL02BANK0000000002'],
    ]);
  });

  it('rejects charges of one entry in two currencies, which add up to no fee, at the line of the second', async () => {
    const error = await rejectionOf(
      camt,
      { text: entryWithCharges('\n<Rcrd><Amt Ccy="USD">1.00</Amt></Rcrd>\n<Rcrd><Amt Ccy="EUR">2.00</Amt></Rcrd>') },
    );
    expect(error.issues).to.have.length(1);
    // The document's lines: declaration, Document, GrpHdr, Stmt, Ntry, Chrgs, then one Rcrd each.
    expect(error.issues[0]).to.deep.include({ line: 8, column: 'Amt' });
    expect(error.issues[0]!.reason).to.match(/EUR.*USD|USD.*EUR/);
  });

  it('adds up charges in one currency into the entry\'s fee, a charge given back counting against it', async () => {
    const { rows } = await parseStatement(camt, {
      text: entryWithCharges('<Rcrd><Amt Ccy="EUR">1.00</Amt></Rcrd><Rcrd><Amt Ccy="EUR">0.25</Amt><CdtDbtInd>CRDT</CdtDbtInd></Rcrd>'),
    });
    expect(rows[0]!.row.fee).to.deep.equal({ amount: 75n, currency: 'EUR' });
  });
});

import {
  StoreUnavailableError,
  collect,
  statementCatalog,
  statementFileStream,
  statementRowStream,
  type AppendOptions,
  type EventStore,
  type EventToAppend,
  type StatementEvent,
} from '@folio/shared';
import { bytesOf } from './statementRowEvents.js';
import { expect } from 'chai';
import { MalformedStatementError } from '../../src/statements/importers/malformedStatementError.js';
import { createStatementImportService, type StatementImportRequest } from '../../src/statements/statementImportService.js';
import { openTempStore, type TempStore } from '../tempEventStore.js';
import { sampleBytes, sampleText } from './statementSamples.js';

const context = { correlationId: 'import-test', actor: 'finance-ops', now: new Date('2024-06-05T08:00:00Z') };

const request = (provider: string, sample: string, extra: Partial<StatementImportRequest> = {}): StatementImportRequest => ({
  provider,
  content: bytesOf(sampleBytes(sample)),
  ...extra,
});

const statementEvents = async (store: EventStore): Promise<(StatementEvent & { streamName: string })[]> =>
  (await collect(store.readAll()))
    .filter((event) => event.streamName.startsWith('statement'))
    .map((recorded) => ({ ...statementCatalog.decode(recorded), streamName: recorded.streamName }));

describe('statement import service', () => {
  let temp: TempStore;
  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(() => temp.dispose());

  it('records every row on its own stream, then the file on its stream, with statement totals', async () => {
    const service = createStatementImportService({ eventStore: temp.store });
    const result = await service.importStatement(request('nlbank', 'camt053/statement-20240603.xml', { format: 'camt053', fileName: 'stmt.xml' }), context);
    expect(result.alreadyImported).to.equal(false);
    expect(result.summary.rows).to.deep.equal({ total: 3, recorded: 3, restated: 0, unchanged: 0, duplicated: 0 });
    expect(result.summary).to.include({ provider: 'nlbank', format: 'camt053', fileName: 'stmt.xml', byteLength: sampleBytes('camt053/statement-20240603.xml').length });
    expect(result.summary.fileHash).to.match(/^[0-9a-f]{64}$/);
    const [statement] = result.summary.statements;
    expect(statement!.rowTotals).to.deep.equal([{ currency: 'EUR', count: 3, credits: 28950n, debits: 8528n }]);
    // Opening + Σ entries = closing: everything the balance check needs is in the event.
    const balance = (type: string) => statement!.balances.find((entry) => entry.type === type)!.amount;
    expect(balance('OPBD') + statement!.rowTotals[0]!.credits - statement!.rowTotals[0]!.debits).to.equal(balance('CLBD'));

    const events = await statementEvents(temp.store);
    expect(events.map(({ type }) => type)).to.deep.equal(['StatementRowRecorded', 'StatementRowRecorded', 'StatementRowRecorded', 'StatementImported']);
    const last = events[events.length - 1]!;
    expect(last.streamName).to.equal(statementFileStream('nlbank', result.summary.fileHash));
    expect(last.metadata).to.include({ $correlationId: 'import-test', actor: 'finance-ops', occurredAt: '2024-06-05T08:00:00.000Z' });
    expect(events[0]!.streamName).to.equal(statementRowStream('nlbank', 'NL02ABNA0123456789/NLBANK-30001'));
    expect(events[0]!.data).to.deep.include({
      provider: 'nlbank',
      format: 'camt053',
      rowKey: 'NL02ABNA0123456789/NLBANK-30001',
      statementId: 'STMT-20240603-EUR',
      account: 'NL02ABNA0123456789',
    });
    expect(result.position).to.equal(await temp.store.headPosition());
  });

  it('answers a re-import of the same file with the first result and writes nothing', async () => {
    const service = createStatementImportService({ eventStore: temp.store });
    const first = await service.importStatement(request('stripe', 'stripe/payout-reconciliation.csv'), context);
    const head = await temp.store.headPosition();
    const again = await service.importStatement(request('stripe', 'stripe/payout-reconciliation.csv'), { ...context, now: new Date('2024-06-06T00:00:00Z') });
    expect(again).to.deep.equal({ ...first, alreadyImported: true });
    expect(await temp.store.headPosition()).to.equal(head);
  });

  it('writes nothing for a row delivered again unchanged, and restates a changed row keeping both versions', async () => {
    const service = createStatementImportService({ eventStore: temp.store });
    const first = await service.importStatement(request('stripe', 'stripe/payout-reconciliation.csv'), context);
    // The same rows, columns reordered, in a file with other bytes: nothing new.
    const reordered = await service.importStatement(request('stripe', 'stripe/payout-reconciliation-bom-reordered.csv'), context);
    expect(reordered.alreadyImported).to.equal(false);
    expect(reordered.summary.fileHash).not.to.equal(first.summary.fileHash);
    expect(reordered.summary.rows).to.deep.equal({ total: 4, recorded: 0, restated: 0, unchanged: 4, duplicated: 0 });

    const restated = await service.importStatement(request('stripe', 'stripe/payout-reconciliation-restated.csv'), context);
    expect(restated.summary.rows).to.deep.equal({ total: 3, recorded: 1, restated: 1, unchanged: 1, duplicated: 0 });
    const history = (await collect(temp.store.readStream(statementRowStream('stripe', 'txn_1QAbCdEfGh000003')))).map((event) => statementCatalog.decode(event));
    expect(history.map(({ type }) => type)).to.deep.equal(['StatementRowRecorded', 'StatementRowRestated']);
    const restatement = history[1]!;
    if (restatement.type !== 'StatementRowRestated') expect.fail(restatement.type);
    expect(restatement.data.previous.fee?.amount).to.equal(1500n);
    expect(restatement.data.row.fee?.amount).to.equal(0n);
    expect(restatement.data.previousFileHash).to.equal(first.summary.fileHash);
    expect(restatement.data.previousVersionHash).to.equal((history[0]!.data as { versionHash: string }).versionHash);
    expect(restatement.data.changedFields).to.deep.equal(['fee', 'net']);
  });

  it('writes nothing for a Stripe report delivered again with its metadata columns in another order', async () => {
    const service = createStatementImportService({ eventStore: temp.store });
    const first = ['balance_transaction_id,currency,gross,reporting_category,payment_metadata[order_id],payment_metadata[ledger_tx_id]', 'txn_M,eur,10.00,charge,ord_1,ltx_1'];
    const swapped = ['balance_transaction_id,currency,gross,reporting_category,payment_metadata[ledger_tx_id],payment_metadata[order_id]', 'txn_M,eur,10.00,charge,ltx_1,ord_1'];
    await service.importStatement({ provider: 'stripe', content: bytesOf(first.join('\n')) }, context);
    const again = await service.importStatement({ provider: 'stripe', content: bytesOf(swapped.join('\n')) }, context);
    expect(again.summary.rows).to.deep.equal({ total: 1, recorded: 0, restated: 0, unchanged: 1, duplicated: 0 });
    const history = (await collect(temp.store.readStream(statementRowStream('stripe', 'txn_M')))).map((event) => statementCatalog.decode(event));
    expect(history.map(({ type }) => type)).to.deep.equal(['StatementRowRecorded']);
  });

  it('records a row identity repeated within a file beside its first occurrence', async () => {
    const service = createStatementImportService({ eventStore: temp.store });
    const csv = [
      'balance_transaction_id,currency,gross,reporting_category',
      'txn_A,eur,10.00,charge',
      'txn_A,eur,10.00,charge',
      'txn_A,eur,12.00,charge',
    ].join('\n');
    const result = await service.importStatement({ provider: 'stripe', content: bytesOf(csv) }, context);
    expect(result.summary.rows).to.deep.equal({ total: 3, recorded: 1, restated: 0, unchanged: 0, duplicated: 2 });
    const history = (await collect(temp.store.readStream(statementRowStream('stripe', 'txn_A')))).map((event) => statementCatalog.decode(event));
    const rowLine = (event: StatementEvent) => (event.type === 'StatementImported' ? undefined : event.data.row.line);
    expect(history.map((event) => [event.type, rowLine(event), 'identical' in event.data ? event.data.identical : undefined])).to.deep.equal([
      ['StatementRowRecorded', 2, undefined],
      ['StatementRowDuplicated', 3, true],
      ['StatementRowDuplicated', 4, false],
    ]);
  });

  it('writes nothing for in-file repeats delivered again in other bytes, and records all repeats of a file repeating once more', async () => {
    const service = createStatementImportService({ eventStore: temp.store });
    const lines = ['balance_transaction_id,currency,gross,reporting_category', 'txn_A,eur,10.00,charge', 'txn_A,eur,10.00,charge', 'txn_A,eur,12.00,charge'];
    await service.importStatement({ provider: 'stripe', content: bytesOf(lines.join('\n')) }, context);
    const before = await statementEvents(temp.store);
    // The same file saved with CRLF: same rows, other bytes.
    const crlf = await service.importStatement({ provider: 'stripe', content: bytesOf(lines.join('\r\n')) }, context);
    expect(crlf.alreadyImported).to.equal(false);
    expect(crlf.summary.rows).to.deep.equal({ total: 3, recorded: 0, restated: 0, unchanged: 1, duplicated: 2 });
    expect((await statementEvents(temp.store)).slice(before.length).map(({ type }) => type)).to.deep.equal(['StatementImported']);

    const oneMore = await service.importStatement({ provider: 'stripe', content: bytesOf([...lines, 'txn_A,eur,10.00,charge'].join('\n')) }, context);
    expect(oneMore.summary.rows).to.deep.equal({ total: 4, recorded: 0, restated: 0, unchanged: 1, duplicated: 3 });
    const history = (await collect(temp.store.readStream(statementRowStream('stripe', 'txn_A')))).map((event) => statementCatalog.decode(event));
    const rowLine = (event: StatementEvent) => (event.type === 'StatementImported' ? undefined : event.data.row.line);
    expect(history.map((event) => [event.type, rowLine(event)])).to.deep.equal([
      ['StatementRowRecorded', 2],
      ['StatementRowDuplicated', 3],
      ['StatementRowDuplicated', 4],
      // The latest file's repeats replace the earlier file's.
      ['StatementRowRedelivered', 2],
      ['StatementRowDuplicated', 3],
      ['StatementRowDuplicated', 4],
      ['StatementRowDuplicated', 5],
    ]);
  });

  it('records the repeat of a restating file even when an earlier file repeated the row alike', async () => {
    const service = createStatementImportService({ eventStore: temp.store });
    const file = (...grosses: string[]) => ['balance_transaction_id,currency,gross,reporting_category', ...grosses.map((gross) => `txn_A,eur,${gross},charge`)].join('\n');
    await service.importStatement({ provider: 'stripe', content: bytesOf(file('10.00', '11.00')) }, context);
    // Corrected: the first occurrence changes, the repeat stays as it was.
    const corrected = await service.importStatement({ provider: 'stripe', content: bytesOf(file('12.00', '11.00')) }, context);
    expect(corrected.summary.rows).to.deep.equal({ total: 2, recorded: 0, restated: 1, unchanged: 0, duplicated: 1 });
    const history = (await collect(temp.store.readStream(statementRowStream('stripe', 'txn_A')))).map((event) => statementCatalog.decode(event));
    expect(history.map((event) => [event.type, event.data.fileHash])).to.deep.equal([
      ['StatementRowRecorded', history[0]!.data.fileHash],
      ['StatementRowDuplicated', history[0]!.data.fileHash],
      ['StatementRowRestated', corrected.summary.fileHash],
      ['StatementRowDuplicated', corrected.summary.fileHash],
    ]);
  });

  it('records that a later file holds an unchanged row once where the stream last had it repeated', async () => {
    const service = createStatementImportService({ eventStore: temp.store });
    const file = (...grosses: string[]) => ['balance_transaction_id,currency,gross,reporting_category', ...grosses.map((gross) => `txn_A,eur,${gross},charge`)].join('\n');
    await service.importStatement({ provider: 'stripe', content: bytesOf(file('10.00', '10.00')) }, context);
    const corrected = await service.importStatement({ provider: 'stripe', content: bytesOf(file('10.00')) }, context);
    expect(corrected.summary.rows).to.deep.equal({ total: 1, recorded: 0, restated: 0, unchanged: 1, duplicated: 0 });
    const history = (await collect(temp.store.readStream(statementRowStream('stripe', 'txn_A')))).map((event) => statementCatalog.decode(event));
    const last = history[history.length - 1]!;
    expect([last.type, last.data.fileHash, 'occurrences' in last.data ? last.data.occurrences : undefined]).to.deep.equal([
      'StatementRowRedelivered',
      corrected.summary.fileHash,
      1,
    ]);

    // Once more in other bytes: the stream already says the row stands once.
    const before = await statementEvents(temp.store);
    await service.importStatement({ provider: 'stripe', content: bytesOf(file('10.00').replaceAll('\n', '\r\n')) }, context);
    expect((await statementEvents(temp.store)).slice(before.length).map(({ type }) => type)).to.deep.equal(['StatementImported']);
  });

  it('writes nothing for a restatement delivered again in other bytes', async () => {
    const service = createStatementImportService({ eventStore: temp.store });
    const file = (gross: string, newline: string) => ['balance_transaction_id,currency,gross,reporting_category', `txn_R,eur,${gross},charge`].join(newline);
    await service.importStatement({ provider: 'stripe', content: bytesOf(file('10.00', '\n')) }, context);
    await service.importStatement({ provider: 'stripe', content: bytesOf(file('11.00', '\n')) }, context);
    const again = await service.importStatement({ provider: 'stripe', content: bytesOf(file('11.00', '\r\n')) }, context);
    expect(again.summary.rows).to.deep.equal({ total: 1, recorded: 0, restated: 0, unchanged: 1, duplicated: 0 });
    const history = (await collect(temp.store.readStream(statementRowStream('stripe', 'txn_R')))).map((event) => statementCatalog.decode(event));
    expect(history.map(({ type }) => type)).to.deep.equal(['StatementRowRecorded', 'StatementRowRestated']);
  });

  it('records the next day\'s MT940 line without a bank reference as a new row, not a restatement of yesterday\'s', async () => {
    const service = createStatementImportService({ eventStore: temp.store });
    // Many banks send the same :20: and :28C: every day.
    const day = (opening: string, closing: string, line: string) =>
      [':20:STARTUMS', ':25:DE02100100100006820101', ':28C:0', `:60F:C${opening}EUR0,00`, `:61:${line}NTRFNONREF`, `:62F:C${closing}EUR1,00`].join('\n');
    const monday = await service.importStatement({ provider: 'debank', format: 'mt940', content: bytesOf(day('240602', '240603', '2406030603C1,00')) }, context);
    expect(monday.summary.rows).to.deep.equal({ total: 1, recorded: 1, restated: 0, unchanged: 0, duplicated: 0 });
    const tuesday = await service.importStatement({ provider: 'debank', format: 'mt940', content: bytesOf(day('240603', '240604', '2406040604D1,00')) }, context);
    expect(tuesday.summary.rows).to.deep.equal({ total: 1, recorded: 1, restated: 0, unchanged: 0, duplicated: 0 });
    expect((await statementEvents(temp.store)).filter(({ type }) => type === 'StatementRowRestated')).to.deep.equal([]);
  });

  it('writes nothing of a malformed file, even when its bad row comes after good ones', async () => {
    const service = createStatementImportService({ eventStore: temp.store });
    try {
      await service.importStatement(request('stripe', 'stripe/malformed-amounts.csv'), context);
      expect.fail('imported a malformed file');
    } catch (error) {
      expect(error).to.be.instanceOf(MalformedStatementError);
      expect((error as MalformedStatementError).line).to.equal(3);
    }
    expect(await temp.store.headPosition()).to.equal(undefined);
  });

  it('writes nothing of a file whose statement declares totals no event can hold, naming the line', async () => {
    const service = createStatementImportService({ eventStore: temp.store });
    const mt940 = [':20:STMT1', ':25:DE02100100100006820101', ':28C:1', ':60F:C240603EUR0,00', ':61:2406030603C1,00NTRFNONREF', ':62F:C240603EUR1,00', ':90C:99999999999999999EUR1,00'].join('\n');
    const camt = (count: string) =>
      `<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><GrpHdr><MsgId>M</MsgId><CreDtTm>2024-06-03T10:00:00</CreDtTm></GrpHdr><Stmt><Id>S1</Id><CreDtTm>2024-06-03T10:00:00</CreDtTm><Acct><Id><IBAN>DE02100100100006820101</IBAN></Id><Ccy>EUR</Ccy></Acct><TxsSummry><TtlCdtNtries><NbOfNtries>${count}</NbOfNtries><Sum>1.00</Sum></TtlCdtNtries></TxsSummry><Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2024-06-03</Dt></BookgDt><ValDt><Dt>2024-06-03</Dt></ValDt><AcctSvcrRef>R1</AcctSvcrRef></Ntry></Stmt></BkToCstmrStmt></Document>`;
    for (const [format, content, line] of [
      ['mt940', mt940, 7],
      ['camt053', camt('99999999999999999'), 1],
    ] as const) {
      try {
        await service.importStatement({ provider: 'debank', format, content: bytesOf(content) }, context);
        expect.fail(`imported a ${format} file declaring 99999999999999999 entries`);
      } catch (error) {
        expect(error, format).to.be.instanceOf(MalformedStatementError);
        expect((error as MalformedStatementError).line, format).to.equal(line);
      }
    }
    expect(await temp.store.headPosition()).to.equal(undefined);
  });

  it('writes nothing of a file whose declared control totals disagree with its entries, naming the line of the declaration', async () => {
    const service = createStatementImportService({ eventStore: temp.store });
    const mt940 = [':20:STMT1', ':25:DE02100100100006820101', ':28C:1', ':60F:C240603EUR0,00', ':61:2406030603C1,00NTRFNONREF', ':62F:C240603EUR1,00', ':90C:2EUR1,00'].join('\n');
    const camt = sampleText('camt053/statement-20240603.xml').replace('<Sum>289.50</Sum>', '<Sum>289.51</Sum>');
    for (const [format, content, line, reason] of [
      ['mt940', mt940, 7, /:90C: declares 2 credit entries but the statement has 1/],
      ['camt053', camt, 24, /TtlCdtNtries declares that the credit entries add up to 289\.51 EUR, but the statement's add up to 289\.50 EUR/],
    ] as const) {
      try {
        await service.importStatement({ provider: 'debank', format, content: bytesOf(content) }, context);
        expect.fail(`imported a ${format} file whose totals disagree with its entries`);
      } catch (error) {
        expect(error, format).to.be.instanceOf(MalformedStatementError);
        expect((error as MalformedStatementError).line, format).to.equal(line);
        expect((error as MalformedStatementError).message, format).to.match(reason);
      }
    }
    expect(await temp.store.headPosition()).to.equal(undefined);
  });

  it('completes an interrupted import when the file is imported again, with the same result', async () => {
    let failFileAppend = true;
    const flaky: EventStore = Object.create(temp.store, {
      appendToStream: {
        value: (streamName: string, events: readonly EventToAppend[], options?: AppendOptions) => {
          if (failFileAppend && streamName.startsWith('statement-')) return Promise.reject(new StoreUnavailableError('connection lost'));
          return temp.store.appendToStream(streamName, events, options);
        },
      },
    });
    const interrupted = createStatementImportService({ eventStore: flaky });
    try {
      await interrupted.importStatement(request('adyen', 'adyen/settlement_detail_report_batch_212.csv'), context);
      expect.fail('the append did not fail');
    } catch (error) {
      expect(error).to.be.instanceOf(StoreUnavailableError);
    }
    failFileAppend = false;
    const resumed = await createStatementImportService({ eventStore: temp.store }).importStatement(request('adyen', 'adyen/settlement_detail_report_batch_212.csv'), context);
    expect(resumed.alreadyImported).to.equal(false);
    expect(resumed.summary.rows).to.deep.equal({ total: 6, recorded: 6, restated: 0, unchanged: 0, duplicated: 0 });
    const types = (await statementEvents(temp.store)).map(({ type }) => type);
    expect(types.filter((type) => type === 'StatementRowRecorded')).to.have.length(6);
    expect(types.filter((type) => type === 'StatementImported')).to.have.length(1);
  });

  it('restates a row once when two files race to change it', async () => {
    const service = createStatementImportService({ eventStore: temp.store });
    const header = 'balance_transaction_id,currency,gross,reporting_category';
    await service.importStatement({ provider: 'stripe', content: bytesOf(`${header}\ntxn_R,eur,10.00,charge\n`) }, context);
    const [a, b] = await Promise.all([
      service.importStatement({ provider: 'stripe', content: bytesOf(`${header}\ntxn_R,eur,11.00,charge\n`) }, context),
      service.importStatement({ provider: 'stripe', content: bytesOf(`${header}\ntxn_R,eur,12.00,charge\n`) }, context),
    ]);
    expect([a.summary.rows.restated, b.summary.rows.restated]).to.deep.equal([1, 1]);
    const history = (await collect(temp.store.readStream(statementRowStream('stripe', 'txn_R')))).map((event) => statementCatalog.decode(event));
    expect(history.map(({ type }) => type)).to.deep.equal(['StatementRowRecorded', 'StatementRowRestated', 'StatementRowRestated']);
    // Each restatement names the version it replaced: a chain, not two branches from the first.
    expect((history[2]!.data as { previousVersionHash: string }).previousVersionHash).to.equal((history[1]!.data as { versionHash: string }).versionHash);
  });

  it('refuses an unknown provider name or format before reading anything', async () => {
    const service = createStatementImportService({ eventStore: temp.store });
    for (const [provider, format, message] of [
      ['Stripe!', undefined, /invalid provider/],
      ['acmebank', undefined, /say which format/],
      ['stripe', 'xlsx', /unknown statement format "xlsx"/],
    ] as const) {
      try {
        await service.importStatement(request(provider, 'stripe/payout-reconciliation.csv', { format }), context);
        expect.fail(`accepted ${provider}`);
      } catch (error) {
        expect((error as Error).message).to.match(message);
      }
    }
    expect(await temp.store.headPosition()).to.equal(undefined);
  });
});

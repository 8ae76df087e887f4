import { expect } from 'chai';
import { parseStatement, rejectionOf, sampleText } from './statementSamples.js';

const camt = { provider: 'nlbank', format: 'camt053' };

describe('statement importers: ISO 20022 camt.053', () => {
  it('reads the statement: sequence number, period, balances and control totals', async () => {
    const { statements } = await parseStatement(camt, { sample: 'camt053/statement-20240603.xml' });
    expect(statements).to.deep.equal([
      {
        statementId: 'STMT-20240603-EUR',
        account: 'NL02ABNA0123456789',
        currency: 'EUR',
        sequenceNumber: 88n,
        pageNumber: 1n,
        lastPage: true,
        createdAt: '2024-06-04T05:30:00+02:00',
        periodStart: '2024-06-03T00:00:00+02:00',
        periodEnd: '2024-06-03T23:59:59+02:00',
        balances: [
          { type: 'OPBD', amount: 500000n, currency: 'EUR', date: '2024-06-03' },
          { type: 'CLBD', amount: 520422n, currency: 'EUR', date: '2024-06-03' },
        ],
        declaredTotals: { currency: 'EUR', count: 3, credits: 28950n, debits: 8528n },
      },
    ]);
  });

  it('reads each entry as a row, signed by CdtDbtInd, with its transactions as details', async () => {
    const { rows } = await parseStatement(camt, { sample: 'camt053/statement-20240603.xml' });
    expect(rows.map(({ rowKey, row }) => [rowKey, row.line, row.net?.amount])).to.deep.equal([
      ['NL02ABNA0123456789/NLBANK-30001', 27, 23950n],
      ['NL02ABNA0123456789/NLBANK-30002', 46, -8528n],
      // No AcctSvcrRef: the entry reference identifies it.
      ['NL02ABNA0123456789/ntry:E-30003', 71, 5000n],
    ]);
    expect(rows[1]).to.deep.equal({
      rowKey: 'NL02ABNA0123456789/NLBANK-30002',
      statementId: 'STMT-20240603-EUR',
      row: {
        line: 46,
        category: 'PMNT/ICDT/ESCT',
        fee: { amount: 35n, currency: 'EUR' },
        net: { amount: -8528n, currency: 'EUR' },
        references: [
          { kind: 'account_servicer_reference', value: 'NLBANK-30002' },
          { kind: 'payment_information_id', value: 'SEPA-BATCH-0603' },
          { kind: 'end_to_end_id', value: 'ltx_9001' },
          { kind: 'end_to_end_id', value: 'ltx_9002' },
          { kind: 'creditor_reference', value: 'RF18539007547034' },
        ],
        bookingDate: '2024-06-03',
        valueDate: '2024-06-03',
        status: 'BOOK',
        reversal: false,
        details: [
          {
            references: [
              { kind: 'payment_information_id', value: 'SEPA-BATCH-0603' },
              { kind: 'end_to_end_id', value: 'ltx_9001' },
            ],
            amount: { amount: -6000n, currency: 'EUR' },
            counterparty: 'Paper Supplies B.V.',
          },
          {
            references: [
              { kind: 'payment_information_id', value: 'SEPA-BATCH-0603' },
              { kind: 'end_to_end_id', value: 'ltx_9002' },
              { kind: 'creditor_reference', value: 'RF18539007547034' },
            ],
            amount: { amount: -2528n, currency: 'EUR' },
            counterparty: 'Courier Services GmbH',
          },
        ],
      },
    });
    expect(rows[0]!.row.details?.[0]).to.include({ remittance: 'Adyen payout batch 212 ShopCoEU', counterparty: 'Adyen N.V.' });
    expect(rows[2]!.row).to.include({ category: 'NTRF', description: 'Cash deposit', valueDate: '2024-06-04' });
  });

  it('reads the same rows from a file with a byte order mark and an older version namespace', async () => {
    const text = `\uFEFF${sampleText('camt053/statement-20240603.xml').replace('camt.053.001.08', 'camt.053.001.02')}`;
    const original = await parseStatement(camt, { sample: 'camt053/statement-20240603.xml' });
    expect(await parseStatement(camt, { text })).to.deep.equal(original);
  });

  it('rejects an amount off the currency exponent at its line', async () => {
    const error = await rejectionOf(camt, { sample: 'camt053/inexact-amount.xml' });
    expect(error.issues).to.have.length(1);
    expect(error.issues[0]).to.include({ line: 65, column: 'Amt' });
    expect(error.issues[0]!.reason).to.match(/"25\.285" \(EUR\) has 3 decimals/);
  });

  it('rejects XML that is not well formed, another message type, and a DOCTYPE', async () => {
    const broken = await rejectionOf(camt, { sample: 'camt053/not-well-formed.xml' });
    expect(broken.issues[0]).to.deep.equal({ line: 41, reason: 'not well-formed XML: unexpected close tag.' });
    const other = await rejectionOf(camt, { sample: 'camt053/wrong-message.xml' });
    expect(other.issues[0]).to.include({ line: 2, column: 'Document' });
    expect(other.issues[0]!.reason).to.match(/expected a camt\.053 Document/);
    const doctype = await rejectionOf(camt, { text: '<?xml version="1.0"?>\n<!DOCTYPE Document [<!ENTITY a "aaaa">]>\n<Document/>' });
    expect(doctype.issues[0]!.reason).to.equal('a DOCTYPE is not accepted in a statement');
    const empty = await rejectionOf(camt, { text: '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt/></Document>' });
    expect(empty.issues[0]!.reason).to.equal('the document has no statement (Stmt)');
  });

  it('rejects XML broken mid-statement at the line of the break, whether the file arrives whole or in pieces', async () => {
    // Read past the break, the rest of the document misnests: its entries and totals would seem wrong instead.
    const expected = [{ line: 42, reason: 'not well-formed XML: unexpected close tag.' }];
    expect((await rejectionOf(camt, { sample: 'camt053/mistyped-close-tag.xml' })).issues).to.deep.equal(expected);
    expect((await rejectionOf(camt, { text: sampleText('camt053/mistyped-close-tag.xml') })).issues).to.deep.equal(expected);
  });

  it('rejects a bare & at its line, not where the parser gives up on the entity it seems to start', async () => {
    const sample = sampleText('camt053/statement-20240603.xml');
    const expected = [{ line: 41, reason: 'not well-formed XML: "&" starts no entity or character reference (write a literal & as &amp;)' }];
    const bare = sample.replace('<Nm>Adyen N.V.</Nm>', '<Nm>Adyen & Co N.V.</Nm>');
    expect((await rejectionOf(camt, { text: bare })).issues).to.deep.equal(expected);
    // A reference further down ends what the parser took for an entity name: still the & is at fault.
    const beforeReference = bare.replace('<Nm>Paper Supplies B.V.</Nm>', '<Nm>Paper Supplies &amp; Co B.V.</Nm>');
    expect((await rejectionOf(camt, { text: beforeReference })).issues).to.deep.equal(expected);
    const inAttribute = sample.replace('<Amt Ccy="EUR">239.50</Amt>', '<Amt Ccy="EUR&">239.50</Amt>');
    expect((await rejectionOf(camt, { text: inAttribute })).issues).to.deep.equal([{ ...expected[0], line: 29 }]);
    const referenced = await parseStatement(camt, { text: sample.replace('<Nm>Adyen N.V.</Nm>', '<!-- Adyen & Co --><Nm>Adyen &amp; Co <![CDATA[&]]></Nm>') });
    expect(referenced.rows[0]!.row.details![0]!.counterparty).to.equal('Adyen & Co &');
  });

  it('rejects an unknown currency and a statement without its account', async () => {
    const currency = await rejectionOf(camt, { text: sampleText('camt053/statement-20240603.xml').replace('<Amt Ccy="EUR">50.00</Amt>', '<Amt Ccy="EURO">50.00</Amt>') });
    expect(currency.issues[0]).to.include({ line: 73, column: 'Amt' });
    expect(currency.issues[0]!.reason).to.match(/unknown currency "EURO"/);
    const account = await rejectionOf(camt, { text: sampleText('camt053/statement-20240603.xml').replace(/<Acct>.*<\/Acct>/, '') });
    expect(account.issues).to.deep.equal([{ line: 9, column: 'Acct', reason: 'the statement has no account (Acct/Id/IBAN or Acct/Id/Othr/Id)' }]);
  });

  it('rejects a signed amount instead of flipping its direction, at its line', async () => {
    // "-85.28" against DBIT once became a credit of 85.28; CdtDbtInd alone gives the direction.
    const entry = sampleText('camt053/statement-20240603.xml').replace('<Amt Ccy="EUR">85.28</Amt>', '<Amt Ccy="EUR">-85.28</Amt>');
    expect((await rejectionOf(camt, { text: entry })).issues).to.deep.equal([
      { line: 47, column: 'Amt', reason: 'amount "-85.28" must be unsigned: CdtDbtInd gives the direction' },
    ]);
    const balance = sampleText('camt053/statement-20240603.xml').replace('<Amt Ccy="EUR">5000.00</Amt>', '<Amt Ccy="EUR">-5000.00</Amt>');
    expect((await rejectionOf(camt, { text: balance })).issues).to.deep.equal([
      { line: 17, column: 'Amt', reason: 'amount "-5000.00" must be unsigned: CdtDbtInd gives the direction' },
    ]);
  });

  it('rejects a statement that declares one entry more than it has, at the line of the count', async () => {
    const text = sampleText('camt053/statement-20240603.xml').replace('<NbOfNtries>2</NbOfNtries>', '<NbOfNtries>3</NbOfNtries>');
    expect((await rejectionOf(camt, { text })).issues).to.deep.equal([
      { line: 24, column: 'NbOfNtries', reason: 'TtlCdtNtries declares 3 credit entries but the statement has 2: the file is incomplete or altered' },
    ]);
  });

  it('rejects a statement whose credit sum is one minor unit off its entries, at the line of the sum', async () => {
    const text = sampleText('camt053/statement-20240603.xml').replace('<Sum>289.50</Sum>', '<Sum>289.51</Sum>');
    expect((await rejectionOf(camt, { text })).issues).to.deep.equal([
      {
        line: 24,
        column: 'Sum',
        reason: "TtlCdtNtries declares that the credit entries add up to 289.51 EUR, but the statement's add up to 289.50 EUR: the file is incomplete or altered",
      },
    ]);
  });

  it('counts a batch entry as one entry however many transactions it books, with the totals of all entries and their net', async () => {
    // The debit entry books two transactions (TxDtls): TxsSummry counts entries, so it is one.
    const totals = (debits: string) =>
      sampleText('camt053/statement-20240603.xml').replace(
        /<TxsSummry>[^]*<\/TxsSummry>/,
        [
          '<TxsSummry>',
          '<TtlNtries><NbOfNtries>3</NbOfNtries><Sum>374.78</Sum><TtlNetNtry><Amt>204.22</Amt><CdtDbtInd>CRDT</CdtDbtInd></TtlNetNtry></TtlNtries>',
          '<TtlCdtNtries><NbOfNtries>2</NbOfNtries><Sum>289.50</Sum></TtlCdtNtries>',
          `<TtlDbtNtries><NbOfNtries>${debits}</NbOfNtries><Sum>85.28</Sum></TtlDbtNtries>`,
          '</TxsSummry>',
        ].join('\n'),
      );
    const { statements, rows } = await parseStatement(camt, { text: totals('1') });
    expect(rows).to.have.length(3);
    expect(rows[1]!.row.details).to.have.length(2);
    expect(statements[0]!.declaredTotals).to.deep.equal({ currency: 'EUR', count: 3, credits: 28950n, debits: 8528n });
    expect((await rejectionOf(camt, { text: totals('2') })).issues).to.deep.equal([
      { line: 26, column: 'NbOfNtries', reason: 'TtlDbtNtries declares 2 debit entries but the statement has 1: the file is incomplete or altered' },
    ]);
  });

  it('rejects a total of all entries or a net that disagrees with the entries, in either version\'s form', async () => {
    const withTotal = (total: string) =>
      sampleText('camt053/statement-20240603.xml').replace('<TxsSummry>', `<TxsSummry>\n<TtlNtries>${total}</TtlNtries>`);
    expect((await rejectionOf(camt, { text: withTotal('<NbOfNtries>4</NbOfNtries><Sum>374.78</Sum>') })).issues).to.deep.equal([
      { line: 24, column: 'NbOfNtries', reason: 'TtlNtries declares 4 entries but the statement has 3: the file is incomplete or altered' },
    ]);
    expect((await rejectionOf(camt, { text: withTotal('<Sum>289.50</Sum>') })).issues).to.deep.equal([
      { line: 24, column: 'Sum', reason: "TtlNtries declares that the entries add up to 289.50 EUR, but the statement's add up to 374.78 EUR: the file is incomplete or altered" },
    ]);
    // camt.053.001.08 and later: TtlNetNtry/{Amt, CdtDbtInd}.
    expect((await rejectionOf(camt, { text: withTotal('<TtlNetNtry><Amt>204.22</Amt><CdtDbtInd>DBIT</CdtDbtInd></TtlNetNtry>') })).issues).to.deep.equal([
      {
        line: 24,
        column: 'TtlNetNtry',
        reason: "TtlNtries declares that the entries net to a debit of 204.22 EUR, but the statement's net to a credit of 204.22 EUR: the file is incomplete or altered",
      },
    ]);
    // camt.053.001.02: TtlNetNtryAmt with the CdtDbtInd beside it.
    const legacy = (net: string) => withTotal(`<TtlNetNtryAmt>${net}</TtlNetNtryAmt><CdtDbtInd>CRDT</CdtDbtInd>`).replace('camt.053.001.08', 'camt.053.001.02');
    expect((await parseStatement(camt, { text: legacy('204.22') })).statements[0]!.declaredTotals).to.deep.equal({
      currency: 'EUR',
      count: 3,
      credits: 28950n,
      debits: 8528n,
    });
    expect((await rejectionOf(camt, { text: legacy('204.21') })).issues[0]).to.include({ line: 24, column: 'TtlNetNtryAmt' });
  });

  it('rejects an entry in another currency than the control sums, which cannot be checked against it', async () => {
    const text = sampleText('camt053/statement-20240603.xml').replace('<Amt Ccy="EUR">50.00</Amt>', '<Amt Ccy="USD">50.00</Amt>');
    expect((await rejectionOf(camt, { text })).issues).to.deep.equal([
      { line: 73, column: 'Amt', reason: 'the entry is in USD, but the statement declares its control sums in EUR: they cannot be checked' },
    ]);
    // Without sums, only the count is declared, and it is in no currency.
    const counted = text.replace(/<Sum>[^<]*<\/Sum>/g, '');
    expect((await parseStatement(camt, { text: counted })).rows).to.have.length(3);
  });

  it('accepts a statement that declares no control totals, as before', async () => {
    const text = sampleText('camt053/statement-20240603.xml').replace(/<TxsSummry>[^]*<\/TxsSummry>/, '');
    const { statements, rows } = await parseStatement(camt, { text });
    expect(rows).to.have.length(3);
    expect(statements[0]).not.to.have.property('declaredTotals');
  });

  it('rejects an entry without a direction', async () => {
    const text = sampleText('camt053/statement-20240603.xml').replace('<CdtDbtInd>DBIT</CdtDbtInd>\n        <RvslInd>', '<CdtDbtInd>DEBIT</CdtDbtInd>\n        <RvslInd>');
    const error = await rejectionOf(camt, { text });
    expect(error.issues[0]).to.deep.equal({ line: 46, column: 'CdtDbtInd', reason: 'CdtDbtInd must be CRDT or DBIT, got "DEBIT"' });
  });

  describe('entries as banks write them', () => {
    const statementWith = (version: string, entries: string) =>
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.${version}">`,
        '<BkToCstmrStmt><GrpHdr><MsgId>BANK-0604</MsgId><CreDtTm>2024-06-04T05:00:00+02:00</CreDtTm></GrpHdr>',
        '<Stmt><Id>STMT-0603</Id><Acct><Id><IBAN>DE02100100109307118603</IBAN></Id><Ccy>EUR</Ccy></Acct>',
        entries,
        '</Stmt></BkToCstmrStmt></Document>',
      ].join('\n');
    const entry = (amount: string, indicator: string, inside: string) =>
      `<Ntry><Amt Ccy="EUR">${amount}</Amt><CdtDbtInd>${indicator}</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2024-06-03</Dt></BookgDt>${inside}<BkTxCd><Prtry><Cd>NTRF</Cd></Prtry></BkTxCd></Ntry>`;

    it('does not key entries on NOTPROVIDED: two such entries stay two rows', async () => {
      const text = statementWith(
        '02',
        [
          entry('10.00', 'CRDT', '<NtryRef>NOTPROVIDED</NtryRef><AcctSvcrRef>NOTPROVIDED</AcctSvcrRef>'),
          entry('20.00', 'DBIT', '<NtryRef>NOTPROVIDED</NtryRef><AcctSvcrRef>NOTPROVIDED</AcctSvcrRef>'),
        ].join('\n'),
      );
      const { rows } = await parseStatement(camt, { text });
      expect(rows.map(({ rowKey }) => rowKey)).to.deep.equal(['DE02100100109307118603/STMT-0603~1', 'DE02100100109307118603/STMT-0603~2']);
      expect(rows.map(({ positional }) => positional?.rowKey)).to.deep.equal(['DE02100100109307118603/STMT-0603#1', 'DE02100100109307118603/STMT-0603#2']);
    });

    it('keys entries without references by page too: page 2 of a statement does not restate page 1, which keys as a statement without pages', async () => {
      const page = (number: string) =>
        statementWith('02', entry('10.00', 'CRDT', '')).replace('</CreDtTm></GrpHdr>', `</CreDtTm><MsgPgntn><PgNb>${number}</PgNb><LastPgInd>false</LastPgInd></MsgPgntn></GrpHdr>`);
      const first = await parseStatement(camt, { text: page('1') });
      const second = await parseStatement(camt, { text: page('2') });
      const unpaged = await parseStatement(camt, { text: statementWith('02', entry('10.00', 'CRDT', '')) });
      expect([unpaged.rows[0]!.rowKey, first.rows[0]!.rowKey, second.rows[0]!.rowKey]).to.deep.equal([
        'DE02100100109307118603/STMT-0603~1',
        'DE02100100109307118603/STMT-0603~1',
        'DE02100100109307118603/STMT-0603/2~1',
      ]);
    });

    it('reads the charges of a camt.053.001.02 entry, one Chrgs element per charge', async () => {
      const charges = '<Chrgs><Amt Ccy="EUR">2.50</Amt><CdtDbtInd>DBIT</CdtDbtInd></Chrgs><Chrgs><Amt Ccy="EUR">0.40</Amt><CdtDbtInd>DBIT</CdtDbtInd></Chrgs>';
      const { rows } = await parseStatement(camt, { text: statementWith('02', entry('100.00', 'DBIT', `<AcctSvcrRef>B-1</AcctSvcrRef>${charges}`)) });
      expect(rows[0]!.row.fee).to.deep.equal({ amount: 290n, currency: 'EUR' });
    });

    it('rejects elements nested without bound at once, instead of reading them for minutes', async () => {
      const depth = 100_000;
      const text = statementWith('02', entry('1.00', 'CRDT', `<AcctSvcrRef>B-1</AcctSvcrRef>${'<AddtlNtryInf>'.repeat(depth)}${'</AddtlNtryInf>'.repeat(depth)}`));
      const started = Date.now();
      const error = await rejectionOf(camt, { text });
      expect(error.issues[0]).to.deep.include({ line: 5, column: 'AddtlNtryInf', reason: 'elements nest deeper than 64 levels, which no statement does' });
      expect(Date.now() - started).to.be.below(2000);
    });
  });
});

import { expect } from 'chai';
import { decodeStatementText, statementLines } from '../../src/statements/importers/statementText.js';
import { parseStatement, rejectionOf, sampleText } from './statementSamples.js';

const mt940 = { provider: 'nlbank', format: 'mt940' };

describe('statement importers: SWIFT MT940', () => {
  it('reads every message of the file as a statement with its number and balances', async () => {
    const { statements } = await parseStatement(mt940, { sample: 'mt940/statement-202406.sta' });
    expect(statements).to.deep.equal([
      {
        statementId: 'STMT240603',
        account: 'NL02ABNA0123456789',
        currency: 'EUR',
        sequenceNumber: 88n,
        pageNumber: 1n,
        balances: [
          { type: '60F', amount: 500000n, currency: 'EUR', date: '2024-06-02' },
          { type: '62F', amount: 515422n, currency: 'EUR', date: '2024-06-03' },
          { type: '64', amount: 515422n, currency: 'EUR', date: '2024-06-03' },
        ],
      },
      {
        statementId: 'STMT240604',
        account: 'NL02ABNA0123456789',
        currency: 'EUR',
        sequenceNumber: 89n,
        pageNumber: 1n,
        balances: [
          { type: '60F', amount: 515422n, currency: 'EUR', date: '2024-06-03' },
          { type: '62F', amount: 416622n, currency: 'EUR', date: '2024-06-04' },
        ],
      },
    ]);
  });

  it('reads each :61: line with its :86: text, the mark giving the direction', async () => {
    const { rows } = await parseStatement(mt940, { sample: 'mt940/statement-202406.sta' });
    expect(rows[0]).to.deep.equal({
      rowKey: 'NL02ABNA0123456789/BANKREF10001',
      statementId: 'STMT240603',
      row: {
        line: 6,
        category: 'NTRF',
        description: '/EREF/ADYEN-BATCH-212/REMI/Adyen payout batch 212 ShopCoEU',
        net: { amount: 23950n, currency: 'EUR' },
        references: [
          { kind: 'customer_reference', value: 'ADYEN-BATCH-212' },
          { kind: 'bank_reference', value: 'BANKREF10001' },
          { kind: 'end_to_end_id', value: 'ADYEN-BATCH-212' },
        ],
        valueDate: '2024-06-03',
        bookingDate: '2024-06-03',
      },
    });
    expect(rows.map(({ row }) => [row.line, row.net?.amount, row.reversal])).to.deep.equal([
      [6, 23950n, undefined],
      [8, -8528n, undefined],
      // RD reverses a debit: money comes back in.
      [18, 1200n, true],
      // "1000," is a whole amount; no entry date means it was booked on its value date.
      [20, -100000n, undefined],
    ]);
    expect(rows[1]!.row.description).to.equal('/EREF/SEPA-BATCH-0603/REMI/Supplier batch, two payments');
    expect(rows[3]!.row.description).to.equal('CHEQUE 4471 PRESENTED Cheque 4471');
  });

  it('puts an entry date across the year end in the right year', async () => {
    const text = [':20:Y', ':25:ACC', ':28C:1', ':60F:C231231EUR0,00', ':61:2401021231C1,00NTRFNONREF//B1', ':62F:C240102EUR1,00'].join('\n');
    const { rows } = await parseStatement(mt940, { text });
    expect(rows[0]!.row).to.include({ valueDate: '2024-01-02', bookingDate: '2023-12-31' });
  });

  it('reads a file without its SWIFT envelope and with a byte order mark the same', async () => {
    const text = `\uFEFF${sampleText('mt940/statement-202406.sta').replace(/^\{1:[^\n]*\{4:\r\n/, '').replace('-}\r\n', '')}`;
    const original = await parseStatement(mt940, { sample: 'mt940/statement-202406.sta' });
    const bare = await parseStatement(mt940, { text });
    expect(bare.statements).to.deep.equal(original.statements);
    // Two lines fewer before the first row, three before the second message.
    expect(bare.rows.map(({ row }) => row.line)).to.deep.equal([5, 7, 16, 18]);
    const withoutLines = ({ rows }: typeof bare) => rows.map(({ row: { line: _line, ...row }, ...rest }) => ({ ...rest, row }));
    expect(withoutLines(bare)).to.deep.equal(withoutLines(original));
  });

  it('reads the end-to-end reference of structured :86: text up to the next ?NN subfield', async () => {
    const referenceIn = async (information: string) => {
      const text = [':20:S', ':25:ACC', ':28C:1', ':60F:C240602EUR0,00', ':61:2406030603C1,00NTRFNONREF//B1', `:86:${information}`, ':62F:C240603EUR1,00'].join('\n');
      const { rows } = await parseStatement(mt940, { text });
      return rows[0]!.row.references.filter(({ kind }) => kind === 'end_to_end_id').map(({ value }) => value);
    };
    expect(await referenceIn('166?00SEPA-GUTSCHRIFT?20EREF+ADYEN-BATCH-134?21SVWZ+Adyen payout batch 134')).to.deep.equal(['ADYEN-BATCH-134']);
    expect(await referenceIn('?20EREF+ADYEN-BATCH-134?21SVWZ+Adyen payout?30DEUTDEFF?31DE02100100100006820101')).to.deep.equal(['ADYEN-BATCH-134']);
    // The /EREF/ convention inside subfields, and a subfield that ends where the :86: line wraps.
    expect(await referenceIn('166?00GUTSCHRIFT?20/EREF/ADYEN-BATCH-134?21/REMI/Adyen payout')).to.deep.equal(['ADYEN-BATCH-134']);
    expect(await referenceIn('166?00GUTSCHRIFT?20EREF+ADYEN-BATCH-134\n?21SVWZ+Adyen payout')).to.deep.equal(['ADYEN-BATCH-134']);
    // A reference longer than its subfield continues in the next one, without the marker.
    expect(await referenceIn('166?00SEPA?20EREF+ZV01234567890123456789?210123456789?22SVWZ+Invoice 42')).to.deep.equal(['ZV012345678901234567890123456789']);
  });

  it('reads a statement in a full SWIFT envelope: a {3:{108:…}} header and a -}{5:{…}} trailer on the text\'s lines', async () => {
    const bare = sampleText('mt940/statement-202406.sta').replace(/^\{1:[^\n]*\{4:\r?\n/, '').replace(/-\}\r?\n/, '');
    const [first, second] = bare.split(/(?=:20:STMT240604)/) as [string, string];
    const header = (n: number) => `{1:F01NLBKNL2AXXX000000000${n}}{2:O9401200240604NLBKNL2AXXX00000000002406041200N}{3:{108:MUR12${n}}{121:180f1e65-90e0-44d5-a49a-92b55eb3025f}}{4:`;
    const text = `${header(1)}\n${first.trimEnd()}\n-}{5:{MAC:00000000}{CHK:123456789ABC}}{S:{SAC:}}\n${header(2)}\n${second.trimEnd()}\n-}{5:{CHK:ABC}}`;
    const original = await parseStatement(mt940, { sample: 'mt940/statement-202406.sta' });
    const enveloped = await parseStatement(mt940, { text });
    expect(enveloped.statements).to.deep.equal(original.statements);
    const withoutLines = ({ rows }: typeof enveloped) => rows.map(({ row: { line: _line, ...row }, ...rest }) => ({ ...rest, row }));
    expect(withoutLines(enveloped)).to.deep.equal(withoutLines(original));
    // The next message's header may follow the trailer on the same line.
    const joined = text.replace('{S:{SAC:}}\n{1:', '{S:{SAC:}}{1:');
    expect(withoutLines(await parseStatement(mt940, { text: joined }))).to.deep.equal(withoutLines(original));
  });

  it('keys a line without a bank reference on its statement\'s days, so a daily :20:STARTUMS / :28C:0 never collides', async () => {
    const day = (opening: string, closing: string, line: string) =>
      [':20:STARTUMS', ':25:DE02100100100006820101', ':28C:0', `:60F:C${opening}EUR0,00`, `:61:${line}NTRFNONREF`, ':86:Card payment', `:62F:C${closing}EUR1,00`].join('\n');
    const monday = day('240602', '240603', '2406030603C1,00');
    const tuesday = day('240603', '240604', '2406040604D1,00');
    const keys = async (text: string) => (await parseStatement(mt940, { text })).rows.map(({ rowKey }) => rowKey);
    expect(await keys(monday)).to.deep.equal(['DE02100100100006820101/STARTUMS/0/2024-06-02/2024-06-03/2024-06-03~1']);
    expect(await keys(tuesday)).to.deep.equal(['DE02100100100006820101/STARTUMS/0/2024-06-03/2024-06-04/2024-06-04~1']);
    // The same bytes, the same keys; and a day's keys do not depend on the other days in its file.
    expect(await keys(monday)).to.deep.equal(await keys(monday));
    expect(await keys(`${monday}\n${tuesday}`)).to.deep.equal([...(await keys(monday)), ...(await keys(tuesday))]);
    // Pages of one statement differ too.
    const pages = await keys(`${monday}\n${monday.replace(':28C:0', ':28C:0/2')}`);
    expect(new Set(pages).size).to.equal(2);
  });

  describe('declared totals (:90C: / :90D:)', () => {
    // The sample's first message: a credit of 239,50 and a debit of 85,28 (a batch of two payments, one line).
    const first = (...totals: string[]) =>
      [
        ':20:STMT240603',
        ':25:NL02ABNA0123456789',
        ':28C:88/1',
        ':60F:C240602EUR5000,00',
        ':61:2406030603C239,50NTRFADYEN-BATCH-212//BANKREF10001',
        ':86:/EREF/ADYEN-BATCH-212/REMI/Adyen payout batch 212 ShopCoEU',
        ':61:2406030603D85,28NTRFNONREF//BANKREF10002',
        ':86:/EREF/SEPA-BATCH-0603/REMI/Supplier batch, two payments',
        ':62F:C240603EUR5154,22',
        ...totals,
      ].join('\n');

    it('accepts totals that match the statement lines, and records them', async () => {
      const { statements, rows } = await parseStatement(mt940, { text: first(':90D:1EUR85,28', ':90C:1EUR239,50') });
      expect(rows).to.have.length(2);
      expect(statements[0]!.declaredTotals).to.deep.equal({ currency: 'EUR', count: 2, credits: 23950n, debits: 8528n });
    });

    it('rejects a :90C: that declares one credit entry more than the statement has, at its line', async () => {
      expect((await rejectionOf(mt940, { text: first(':90D:1EUR85,28', ':90C:2EUR239,50') })).issues).to.deep.equal([
        { line: 11, column: ':90C:', reason: ':90C: declares 2 credit entries but the statement has 1: the file is incomplete or altered' },
      ]);
    });

    it('rejects a :90D: whose sum is one minor unit off the debit lines, at its line', async () => {
      expect((await rejectionOf(mt940, { text: first(':90D:1EUR85,29', ':90C:1EUR239,50') })).issues).to.deep.equal([
        {
          line: 10,
          column: ':90D:',
          reason: ":90D: declares that the debit entries add up to 85,29 EUR, but the statement's add up to 85,28 EUR: the file is incomplete or altered",
        },
      ]);
    });

    it('counts a reversal the way it is booked: RD (a debit reversed) with the credits, RC with the debits', async () => {
      const reversals = (...totals: string[]) =>
        [
          ':20:STMT240604',
          ':25:NL02ABNA0123456789',
          ':28C:89/1',
          ':60F:C240603EUR5154,22',
          ':61:2406040604RD12,00NMSCNONREF//BANKREF10003',
          ':61:2406040604RC2,00NMSCNONREF//BANKREF10004',
          ':61:240604D1000,NCHK4471//BANKREF10005',
          ':62F:C240604EUR4164,22',
          ...totals,
        ].join('\n');
      const { statements } = await parseStatement(mt940, { text: reversals(':90D:2EUR1002,00', ':90C:1EUR12,00') });
      expect(statements[0]!.declaredTotals).to.deep.equal({ currency: 'EUR', count: 3, credits: 1200n, debits: 100200n });
      // Counted by their letter (RD a debit) instead, the totals do not match what the lines book.
      expect((await rejectionOf(mt940, { text: reversals(':90D:2EUR1012,00', ':90C:1EUR2,00') })).issues.map(({ line, column }) => [line, column])).to.deep.equal([
        [9, ':90D:'],
        [10, ':90C:'],
      ]);
    });

    it('rejects a total in another currency than the statement\'s', async () => {
      expect((await rejectionOf(mt940, { text: first(':90D:1USD85,28') })).issues).to.deep.equal([
        { line: 10, column: ':90D:', reason: 'the total is in USD but the statement is in EUR' },
      ]);
    });
  });

  it('rejects amounts off the currency exponent and impossible dates, in every statement of the file', async () => {
    const error = await rejectionOf(mt940, { sample: 'mt940/bad-lines.sta' });
    expect(error.issues.map(({ line, column }) => [line, column])).to.deep.equal([
      [5, ':61:'],
      [11, ':61:'],
    ]);
    expect(error.issues[0]!.reason).to.match(/"10,005" \(EUR\) has 3 decimals/);
    expect(error.issues[1]!.reason).to.match(/expected a statement line/);
  });

  it('rejects a statement without its closing balance, and text outside any field', async () => {
    expect((await rejectionOf(mt940, { sample: 'mt940/no-closing-balance.sta' })).issues).to.deep.equal([
      { line: 1, column: ':20:', reason: 'the statement has no closing balance (:62F:)' },
    ]);
    expect((await rejectionOf(mt940, { text: 'hello\n:20:X\n' })).issues[0]).to.deep.equal({
      line: 1,
      reason: 'expected a field such as ":20:", got "hello"',
    });
  });

  it('does not key lines on a bank reference of NONREF: two such lines stay two rows', async () => {
    const text = [
      ':20:STMT0603',
      ':25:DE02100100109307118603',
      ':28C:7/1',
      ':60F:C240602EUR100,00',
      ':61:2406030603C10,00NTRFNONREF//NONREF',
      ':86:First',
      ':61:2406030603C20,00NTRFNONREF//NONREF',
      ':86:Second',
      ':62F:C240603EUR130,00',
    ].join('\n');
    const { rows } = await parseStatement(mt940, { text });
    expect(rows.map(({ rowKey }) => rowKey)).to.deep.equal([
      'DE02100100109307118603/STMT0603/7/1/2024-06-02/2024-06-03/2024-06-03~1',
      'DE02100100109307118603/STMT0603/7/1/2024-06-02/2024-06-03/2024-06-03~2',
    ]);
    expect(rows.map(({ positional }) => positional?.rowKey)).to.deep.equal([
      'DE02100100109307118603/STMT0603/7/1/2024-06-02/2024-06-03/2024-06-03#1',
      'DE02100100109307118603/STMT0603/7/1/2024-06-02/2024-06-03/2024-06-03#2',
    ]);
    expect(rows[0]!.row.references).to.deep.equal([]);
  });

  it('reads a huge line arriving in small chunks in linear time', async () => {
    const bytes = Buffer.from(`:20:${'A'.repeat(1024 * 1024)}\n`);
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let at = 0; at < bytes.length; at += 64) yield bytes.subarray(at, at + 64);
    }
    const started = Date.now();
    let lines = 0;
    for await (const { text } of statementLines(decodeStatementText(chunks(), 'mt940'))) lines += text.length > 0 ? 1 : 0;
    expect(lines).to.equal(1);
    expect(Date.now() - started).to.be.below(2000);
  });
});

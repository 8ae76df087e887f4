import { expect } from 'chai';
import { sandboxBankStatement, type BankCredit } from '../../src/providers/sandboxBankStatement.js';
import { parseStatement } from '../statements/statementSamples.js';

const camt = { provider: 'bank', format: 'camt053' };
const at = new Date('2026-05-04T06:00:00.000Z');
const credits: BankCredit[] = [
  { reference: 'po_1', amount: 9_680n, currency: 'EUR', bookedAt: new Date('2026-05-03T00:00:00.000Z') },
  { reference: 'po_2', amount: 25_000n, currency: 'EUR', bookedAt: new Date('2026-05-03T00:00:00.000Z') },
];
const request = { account: 'NL91SBXB0417164300', currency: 'EUR' as const, sequenceNumber: 7n, openingBalance: 1_000n, credits, createdAt: at };

describe('sandbox bank statement (camt.053 of the payouts)', () => {
  it('books a credit per payout with the payout id as its reference, and balances that add up', async () => {
    const statement = sandboxBankStatement(request);
    expect(statement).to.include({ closingBalance: 35_680n, sequenceNumber: 7n });
    const { statements, rows } = await parseStatement(camt, { text: statement.xml });
    expect(statements).to.have.length(1);
    expect(statements[0]).to.deep.include({ account: 'NL91SBXB0417164300', currency: 'EUR', sequenceNumber: 7n });
    expect(statements[0]!.balances.map((balance) => [balance.type, balance.amount])).to.deep.equal([
      ['OPBD', 1_000n],
      ['CLBD', 35_680n],
    ]);
    expect(statements[0]!.declaredTotals).to.deep.equal({ currency: 'EUR', count: 2, credits: 34_680n, debits: 0n });
    expect(rows.map(({ row }) => [row.net?.amount, row.references.filter((reference) => reference.kind === 'end_to_end_id').map((reference) => reference.value)])).to.deep.equal([
      [9_680n, ['po_1']],
      [25_000n, ['po_2']],
    ]);
    expect(rows[0]!.row).to.include({ bookingDate: '2026-05-03', status: 'BOOK' });
  });

  it('books a payout that took money from the account as a debit entry, with control totals that match', async () => {
    // A payout of a fully refunded charge nets to minus its fee: the provider debits the account.
    const debit: BankCredit = { reference: 'po_3', amount: -500n, currency: 'EUR', bookedAt: new Date('2026-05-03T00:00:00.000Z') };
    const statement = sandboxBankStatement({ ...request, credits: [credits[0]!, debit] });
    expect(statement.closingBalance).to.equal(1_000n + 9_680n - 500n);
    const { statements, rows } = await parseStatement(camt, { text: statement.xml });
    expect(rows.map(({ row }) => row.net?.amount)).to.deep.equal([9_680n, -500n]);
    expect(statements[0]!.declaredTotals).to.deep.equal({ currency: 'EUR', count: 2, credits: 9_680n, debits: 500n });
    expect(statements[0]!.balances.find((balance) => balance.type === 'CLBD')!.amount).to.equal(statement.closingBalance);
  });

  it('injects the faults aimed at it: a skipped statement, a closing balance off, credits missing, skewed, unreferenced or unknown', async () => {
    const statement = sandboxBankStatement({
      ...request,
      faults: { skippedStatements: 2, closingBalanceSkew: 50n, missingCredits: ['po_1'], skewedCredits: ['po_2'], unknownCredits: [777n] },
    });
    expect(statement).to.include({ sequenceNumber: 9n, closingBalance: 1_000n + 25_001n + 777n });
    const { statements, rows } = await parseStatement(camt, { text: statement.xml });
    expect(statements[0]!.balances.find((balance) => balance.type === 'CLBD')!.amount).to.equal(1_000n + 25_001n + 777n + 50n);
    expect(rows.map(({ row }) => row.net?.amount)).to.deep.equal([25_001n, 777n]);
    expect(rows[1]!.row.references.some((reference) => reference.kind === 'end_to_end_id')).to.equal(false);

    const unreferenced = await parseStatement(camt, { text: sandboxBankStatement({ ...request, faults: { unreferencedCredits: ['po_2'] } }).xml });
    expect(unreferenced.rows.map(({ row }) => row.references.some((reference) => reference.value === 'po_2'))).to.deep.equal([false, false]);
  });
});

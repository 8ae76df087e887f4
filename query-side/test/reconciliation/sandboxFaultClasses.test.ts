/**
 * Every discrepancy class end to end through the sandbox provider: payments through the write
 * API, then the sandbox's own settlement report (Stripe itemized, with its payout rows) and its
 * own bank statement (camt.053 of the account its payouts go to), each with faults aimed at
 * chosen payments or payouts, imported through `POST /v1/statements` and read back through the
 * reconciliation API. Each fault must give exactly its discrepancy, with its evidence. Time
 * passes by moving the clock the write side and the log share, never by sleeping.
 *
 * Statements are imported under the name of their source: the settlement report under the
 * provider the payments went through (`sandbox`), the bank statement under the bank's (`bank`).
 * The summary has a row per source and currency, so the bank's credits never blur the
 * provider's totals.
 */
import { expect } from 'chai';
import type { WriteApiOptions } from '@folio/command-side';
import { rebuildProjection, reconciliationProjection } from '@folio/projections';
import { ReadStack } from '../readStack.js';

type Sandbox = NonNullable<ReturnType<ReadStack['writeApi']['sandbox']>>;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

interface Payment {
  id: string;
  amount: string;
  state: string;
  providerRef: string;
}

const start = (sandboxFaults: WriteApiOptions['sandboxFaults'], seed: number) =>
  ReadStack.start({
    logFollowsClock: true,
    write: { sandboxFaults: { duplicateRate: 0, latencyMs: { min: 0, max: 0 }, ...sandboxFaults }, sandboxRandom: seeded(seed) },
  });

let merchants = new WeakMap<ReadStack, string>();

/** Takes payments of these amounts (EUR minor units) through the sandbox; answers them as Folio sees them. */
const pay = async (stack: ReadStack, amounts: readonly number[]): Promise<Payment[]> => {
  let merchant = merchants.get(stack);
  if (merchant === undefined) {
    merchant = (await stack.request('POST', '/v1/accounts', { ownerId: 'shop', currency: 'EUR', kind: 'merchant' })).body.id as string;
    merchants.set(stack, merchant);
  }
  const ids: string[] = [];
  for (const amount of amounts) {
    const created = await stack.request(
      'POST',
      '/v1/payments',
      { merchantAccountId: merchant, amount: String(amount), currency: 'EUR', provider: 'sandbox', description: `order for ${amount}` },
      { 'idempotency-key': `pay-${Math.random()}` },
    );
    expect(created.status, created.text).to.equal(201);
    const submitted = await stack.request('POST', `/v1/payments/${created.body.id}/submit`, {}, { 'idempotency-key': `submit-${created.body.id}` });
    expect(submitted.status, submitted.text).to.equal(200);
    ids.push(created.body.id);
  }
  await stack.writeApi.sandbox('sandbox')!.idle();
  const payments: Payment[] = [];
  for (const id of ids) payments.push((await stack.get(`/v1/payments/${id}`)).body);
  return payments;
};

/** A write that only moves the log's time on (a payment created, never submitted). */
const tick = async (stack: ReadStack) => {
  const created = await stack.request(
    'POST',
    '/v1/payments',
    { merchantAccountId: merchants.get(stack)!, amount: '1', currency: 'EUR', provider: 'sandbox' },
    { 'idempotency-key': `tick-${Math.random()}` },
  );
  expect(created.status, created.text).to.equal(201);
  expect(await stack.projections.waitFor(BigInt(created.body.position), 10_000)).to.equal(true);
};

const importFile = async (stack: ReadStack, provider: string, format: string, body: string, fileName: string) => {
  const response = await fetch(`${stack.baseUrl}/v1/statements?provider=${provider}&format=${format}&fileName=${fileName}`, {
    method: 'POST',
    headers: { 'content-type': format === 'camt053' ? 'application/xml' : 'text/csv' },
    body,
  });
  const answer = (await response.json()) as { position: string; fileHash: string };
  expect(response.status, JSON.stringify(answer)).to.be.oneOf([200, 201]);
  expect(await stack.projections.waitFor(BigInt(answer.position), 10_000)).to.equal(true);
  return answer;
};

const importReport = (stack: ReadStack, report: Parameters<Sandbox['settlementReport']>[0], fileName: string) =>
  importFile(stack, 'sandbox', 'stripe-balance', stack.writeApi.sandbox('sandbox')!.settlementReport(report), fileName);

const importBankStatement = (stack: ReadStack, request: Parameters<Sandbox['bankStatement']>[0], fileName: string) =>
  importFile(stack, 'bank', 'camt053', stack.writeApi.sandbox('sandbox')!.bankStatement(request), fileName);

const discrepancies = async (stack: ReadStack, status = 'open'): Promise<any[]> => {
  const response = await stack.get(`/v1/reconciliation/discrepancies?status=${status}&limit=100`);
  expect(response.status, response.text).to.equal(200);
  return response.body.items;
};

const labelOf = (discrepancy: any) => `${discrepancy.code} ${discrepancy.detail.paymentId ?? discrepancy.detail.rowKey ?? discrepancy.detail.payoutId ?? discrepancy.detail.statementId}`;
const labels = async (stack: ReadStack, status = 'open') => (await discrepancies(stack, status)).map(labelOf).sort();
const found = async (stack: ReadStack, code: string) => (await discrepancies(stack)).filter((discrepancy) => discrepancy.code === code);

const streamsOf = (discrepancy: any, kind: string) => discrepancy.evidence.filter((evidence: any) => evidence.kind === kind).map((evidence: any) => evidence.stream);
const ledgerTypesOf = (discrepancy: any) => discrepancy.evidence.filter((evidence: any) => evidence.kind === 'ledger-event').map((evidence: any) => evidence.type);

describe('reconciliation end to end: every fault class through the sandbox provider', function () {
  this.timeout(60_000);

  afterEach(() => {
    merchants = new WeakMap();
  });

  it('finds nothing in a clean settlement report and a clean bank statement, and keeps one summary row per source', async () => {
    const stack = await start({ failureRate: 0.2, settleRate: 0.5 }, 3);
    try {
      const payments = await pay(stack, [1000, 1250, 1500, 1750, 2000, 2250, 2500, 2750]);
      expect(payments.some((payment) => payment.state === 'SETTLED'), 'the seed settles a payment').to.equal(true);
      await importReport(stack, { payoutId: 'po_clean', withPayoutRow: true }, 'clean.csv');
      await importBankStatement(stack, {}, 'bank-1.xml');
      expect(await labels(stack)).to.deep.equal([]);
      const summary = (await stack.get('/v1/reconciliation/summary')).body.items;
      const captured = payments.filter((payment) => payment.state !== 'FAILED').length;
      expect(summary.map((row: any) => [row.provider, row.currency, row.openTotal, row.delta])).to.deep.equal([
        ['bank', 'EUR', 0, '0'],
        ['sandbox', 'EUR', 0, '0'],
      ]);
      expect(summary.find((row: any) => row.provider === 'sandbox').matched).to.equal(captured);
      expect(summary.find((row: any) => row.provider === 'bank').statementRows).to.equal(1);
    } finally {
      await stack.stop();
    }
  });

  it('finds exactly the faults aimed at rows of the settlement report, with their evidence, and follows a restatement', async () => {
    const stack = await start({ failureRate: 0, settleRate: 0.5 }, 7);
    try {
      const payments = await pay(stack, [1000, 1100, 1200, 1300, 1400, 1500, 1600, 1700, 1800, 1900, 2000, 2100, 5000, 5000]);
      const settled = payments.slice(0, 12).filter((payment) => payment.state === 'SETTLED');
      const paid = payments.slice(0, 12).filter((payment) => payment.state === 'PAID');
      expect(settled.length, 'the seed settles enough payments').to.be.at.least(4);
      expect(paid.length, 'the seed leaves enough payments unsettled').to.be.at.least(3);
      const [missing, unreferenced] = payments.slice(12) as [Payment, Payment];
      const aimed = {
        duplicated: settled[0]!,
        feeSkewed: settled[1]!,
        chargedBack: settled[2]!,
        scaled: settled[3]!,
        amountSkewed: paid[0]!,
        otherCurrency: paid[1]!,
        netBroken: paid[2]!,
        chargedTwice: paid[3] ?? settled[4]!,
      };
      expect(aimed.chargedTwice, 'the seed leaves a payment to charge twice').to.not.equal(undefined);
      const targeted = {
        duplicated: [aimed.duplicated.id],
        feeSkewed: [aimed.feeSkewed.id],
        chargedBack: [aimed.chargedBack.id],
        scaled: [aimed.scaled.id],
        amountSkewed: [aimed.amountSkewed.id],
        otherCurrency: [aimed.otherCurrency.id],
        netBroken: [aimed.netBroken.id],
        chargedTwice: [aimed.chargedTwice.id],
        missing: [missing.id],
        withoutReferences: [unreferenced.id],
        ghostCharges: [777n],
        payoutSkew: 3n,
      };
      const txn = (payment: Payment) => `txn_${payment.providerRef}`;
      const first = await importReport(stack, { payoutId: 'po_1', withPayoutRow: true, targeted }, 'faulty.csv');

      const expected = [
          `DUPLICATE_PROVIDER_ROW ${txn(aimed.duplicated)}`,
          `FEE_MISMATCH ${aimed.feeSkewed.id}`,
          `STATUS_SUPERSEDED ${aimed.chargedBack.id}`,
          `UNIT_EXPONENT_MISMATCH ${aimed.scaled.id}`,
          `AMOUNT_MISMATCH ${aimed.amountSkewed.id}`,
          `CURRENCY_MISMATCH ${aimed.otherCurrency.id}`,
          `NET_INCONSISTENT ${txn(aimed.netBroken)}`,
          `DUPLICATE_CHARGE ${aimed.chargedTwice.id}`,
          'PROVIDER_UNMATCHED txn_ghost_1',
          `AMBIGUOUS_MATCH ${txn(unreferenced)}`,
          'PAYOUT_LINES_MISMATCH po_1',
        ].sort();
      expect(await labels(stack)).to.deep.equal(expected);

      const [amount] = await found(stack, 'AMOUNT_MISMATCH');
      expect(amount.detail).to.include({ captured: aimed.amountSkewed.amount, gross: String(BigInt(aimed.amountSkewed.amount) + 1n), difference: '1', currency: 'EUR' });
      expect(amount.evidence.find((evidence: any) => evidence.kind === 'statement-row')).to.include({ fileHash: first.fileHash });
      expect(ledgerTypesOf(amount)).to.include.members(['PaymentCreated', 'PaymentCaptured']);
      const [ambiguous] = await found(stack, 'AMBIGUOUS_MATCH');
      expect(ambiguous.detail.candidates.split(',').sort()).to.deep.equal([missing.id, unreferenced.id].sort());
      const [duplicate] = await found(stack, 'DUPLICATE_PROVIDER_ROW');
      expect(duplicate.evidence).to.have.length(2);
      const [payout] = await found(stack, 'PAYOUT_LINES_MISMATCH');
      expect(payout.detail.difference).to.equal('3');
      expect(payout.evidence).to.have.length(1 + settled.length + 1);
      const [chargedBack] = await found(stack, 'STATUS_SUPERSEDED');
      expect(chargedBack.detail).to.include({ providerOutcome: 'dispute', ledgerState: 'SETTLED' });
      const [charges] = await found(stack, 'DUPLICATE_CHARGE');
      expect(streamsOf(charges, 'statement-row')).to.have.length(2);

      // The provider's next report corrects the skewed amount: the correction wins, and says so.
      const { amountSkewed: _corrected, ...stillFaulty } = targeted;
      await importReport(stack, { payoutId: 'po_1', withPayoutRow: true, targeted: stillFaulty }, 'corrected.csv');
      expect(await labels(stack)).to.deep.equal(
        [...expected.filter((label) => label !== `AMOUNT_MISMATCH ${aimed.amountSkewed.id}`), `PROVIDER_ROW_RESTATED ${txn(aimed.amountSkewed)}`].sort(),
      );
      expect(await labels(stack, 'cleared')).to.deep.equal([`AMOUNT_MISMATCH ${aimed.amountSkewed.id}`]);
    } finally {
      await stack.stop();
    }
  });

  it('finds what only time reveals: a payment left pending, a capture the provider never reported, a capture after a failure', async () => {
    const stack = await start({ failureRate: 0.3, paymentSilenceRate: 0.3, settleRate: 0.5 }, 5);
    try {
      const payments = await pay(stack, [1000, 1100, 1200, 1300, 1400, 1500, 1600, 1700, 1800, 1900]);
      const pending = payments.filter((payment) => payment.state === 'PENDING');
      const failed = payments.find((payment) => payment.state === 'FAILED');
      const captured = payments.find((payment) => payment.state === 'PAID' || payment.state === 'SETTLED');
      expect(pending.length, 'the seed leaves a payment without an answer').to.be.at.least(1);
      expect(failed, 'the seed fails a payment').to.not.equal(undefined);
      expect(captured, 'the seed captures a payment').to.not.equal(undefined);
      await importReport(stack, { payoutId: 'po_1', targeted: { missing: [captured!.id], capturedDespiteFailure: [failed!.id] } }, 'report.csv');
      expect(await labels(stack)).to.deep.equal([`STATUS_SUPERSEDED ${failed!.id}`]);
      const [superseded] = await found(stack, 'STATUS_SUPERSEDED');
      expect(ledgerTypesOf(superseded)).to.include('PaymentFailed');
      expect(streamsOf(superseded, 'statement-row')).to.have.length(1);

      // A day later, the payments nobody answered are stale; the missing capture is still in its grace period.
      stack.advance(DAY + HOUR);
      await tick(stack);
      expect(await labels(stack)).to.deep.equal([`STATUS_SUPERSEDED ${failed!.id}`, ...pending.map((payment) => `STALE_PENDING ${payment.id}`)].sort());
      for (const stale of await found(stack, 'STALE_PENDING')) expect(ledgerTypesOf(stale)).to.include('PaymentSubmitted');

      // Past the settlement grace period, the capture the provider never reported is missing.
      stack.advance(3 * DAY);
      await tick(stack);
      expect(await labels(stack)).to.deep.equal(
        [`STATUS_SUPERSEDED ${failed!.id}`, ...pending.map((payment) => `STALE_PENDING ${payment.id}`), `INTERNAL_UNMATCHED ${captured!.id}`].sort(),
      );
      const [unmatched] = await found(stack, 'INTERNAL_UNMATCHED');
      expect(unmatched.detail).to.include({ subclass: 'missing', captured: captured!.amount });
      expect(ledgerTypesOf(unmatched)).to.include('PaymentCaptured');
    } finally {
      await stack.stop();
    }
  });

  it('matches rows the provider reported before Folio heard of their capture, once it does', async () => {
    const stack = await start({ failureRate: 0, settleRate: 0, latencyMs: { min: 2500, max: 2600 } }, 13);
    try {
      const merchant = (await stack.request('POST', '/v1/accounts', { ownerId: 'shop', currency: 'EUR', kind: 'merchant' })).body.id as string;
      merchants.set(stack, merchant);
      const ids: string[] = [];
      for (const amount of [1000, 2000, 3000]) {
        const created = await stack.request('POST', '/v1/payments', { merchantAccountId: merchant, amount: String(amount), currency: 'EUR', provider: 'sandbox' }, { 'idempotency-key': `early-${amount}` });
        await stack.request('POST', `/v1/payments/${created.body.id}/submit`, {}, { 'idempotency-key': `early-submit-${amount}` });
        ids.push(created.body.id);
      }
      // The report is in before any capture callback: one row carries its references, one does not.
      await importReport(stack, { payoutId: 'po_early', targeted: { withoutReferences: [ids[2]!] } }, 'early.csv');
      const early = await Promise.all(ids.map(async (id) => (await stack.get(`/v1/payments/${id}`)).body as Payment));
      expect(early.map((payment) => payment.state), 'not captured yet').to.deep.equal(['PENDING', 'PENDING', 'PENDING']);
      const unreferenced = `PROVIDER_UNMATCHED txn_${early[2]!.providerRef}`;
      expect(await labels(stack)).to.deep.equal([unreferenced]);

      await stack.writeApi.sandbox('sandbox')!.idle();
      await tick(stack);
      for (const id of ids) expect((await stack.get(`/v1/payments/${id}`)).body.state).to.equal('PAID');
      expect(await labels(stack)).to.deep.equal([]);
      expect(await labels(stack, 'cleared')).to.deep.equal([unreferenced]);
      const summary = (await stack.get('/v1/reconciliation/summary')).body.items.find((row: any) => row.provider === 'sandbox');
      expect(summary).to.include({ payments: 3, matched: 3, awaitingSettlement: 0, delta: '0' });
    } finally {
      await stack.stop();
    }
  });

  it("matches the bank's credits to the sandbox's payouts and finds exactly the faults aimed at its statements", async () => {
    const stack = await start({ failureRate: 0, settleRate: 1, payoutFailureRate: 0 }, 9);
    try {
      // Two settlement payouts of the same amount, and a third; and two payouts Folio asks for.
      await pay(stack, [1000, 2000]);
      await importReport(stack, { payoutId: 'po_a', withPayoutRow: true }, 'report-a.csv');
      await pay(stack, [1000, 2000]);
      const reportB = await importReport(stack, { payoutId: 'po_b', withPayoutRow: true }, 'report-b.csv');
      await pay(stack, [4000]);
      const report = await importReport(stack, { payoutId: 'po_c', withPayoutRow: true }, 'report-c.csv');
      const folioPayouts: { id: string; providerRef: string }[] = [];
      for (const amount of ['1500', '2500']) {
        const response = await stack.request(
          'POST',
          '/v1/payouts',
          { accountId: merchants.get(stack)!, amount, currency: 'EUR', provider: 'sandbox', destination: 'NL91SBXB0417164300' },
          { 'idempotency-key': `payout-${amount}` },
        );
        expect(response.status, response.text).to.equal(201);
        folioPayouts.push(response.body);
      }
      await stack.writeApi.sandbox('sandbox')!.idle();
      for (const payout of folioPayouts) expect((await stack.get(`/v1/payouts/${payout.id}`)).body.state).to.equal('PAID');
      await tick(stack);
      expect(await labels(stack)).to.deep.equal([]);

      const bank = await importBankStatement(
        stack,
        {
          faults: {
            unreferencedCredits: ['po_a'],
            missingCredits: ['po_b'],
            skewedCredits: ['po_c', folioPayouts[1]!.providerRef],
            unknownCredits: [12_345n],
          },
        },
        'bank-1.xml',
      );
      const bankLabels = await labels(stack);
      expect(bankLabels).to.have.length(4);
      const [ambiguous] = await found(stack, 'AMBIGUOUS_MATCH');
      expect(ambiguous).to.include({ provider: 'bank' });
      expect(ambiguous.detail.candidates).to.equal('po_a,po_b');
      expect(ambiguous.evidence.map((evidence: any) => evidence.fileHash)).to.include(bank.fileHash);
      const amounts = await found(stack, 'AMOUNT_MISMATCH');
      const amount = amounts.find((discrepancy) => discrepancy.detail.payoutId === 'po_c');
      expect(amount.detail).to.include({ payoutProvider: 'sandbox', difference: '1', currency: 'EUR' });
      expect(amount.evidence.map((evidence: any) => evidence.fileHash)).to.deep.equal([bank.fileHash, report.fileHash]);
      // Folio's own payout: the bank credit against the ledger's PayoutPaid.
      const folio = amounts.find((discrepancy) => discrepancy.detail.payoutId === folioPayouts[1]!.id);
      expect(folio.detail).to.include({ paidOut: '2500', credited: '2501', difference: '1' });
      expect(folio.evidence.map((evidence: any) => evidence.type ?? evidence.kind)).to.deep.equal(['statement-row', 'PayoutPaid']);
      const [unknown] = await found(stack, 'PROVIDER_UNMATCHED');
      expect(unknown.detail).to.include({ credited: '12345', currency: 'EUR' });

      // The next statements: one never delivered, and one that does not add up.
      await importBankStatement(stack, { faults: { skippedStatements: 1, closingBalanceSkew: 100n } }, 'bank-3.xml');
      const statements = (await labels(stack)).filter((label) => !bankLabels.includes(label));
      expect(statements.map((label) => label.split(' ')[0])).to.deep.equal(['STATEMENT_BALANCE_BREAK', 'STATEMENT_GAP']);
      const [gap] = await found(stack, 'STATEMENT_GAP');
      expect(gap.detail).to.include({ missingSequenceNumber: '2' });
      expect(gap.evidence).to.have.length(2);
      const [balance] = await found(stack, 'STATEMENT_BALANCE_BREAK');
      expect(balance.detail).to.include({ entries: '0', difference: '100', currency: 'EUR' });

      // Days later the bank still shows no credit for the payout it left out, nor one for the
      // payout whose credit fitted two: both are missing at the bank now.
      const before = await labels(stack);
      stack.advance(4 * DAY);
      await importBankStatement(stack, {}, 'bank-4.xml');
      expect((await labels(stack)).filter((label) => !before.includes(label))).to.deep.equal(['INTERNAL_UNMATCHED po_a', 'INTERNAL_UNMATCHED po_b']);
      const [missing] = (await found(stack, 'INTERNAL_UNMATCHED')).filter((discrepancy) => discrepancy.detail.payoutId === 'po_b');
      expect(missing).to.include({ provider: 'sandbox' });
      expect(missing.detail).to.include({ subclass: 'missing_at_bank', currency: 'EUR' });
      expect(missing.evidence.map((evidence: any) => evidence.fileHash)).to.deep.equal([reportB.fileHash]);

      // Rebuilt from position 0, the read model is the one the live projection keeps (its
      // projector stopped first: a rebuild is refused beside one).
      await stack.projections.stop();
      const rebuilt = await rebuildProjection({ eventStore: stack.eventStore, documents: stack.documents, definition: reconciliationProjection, rebuildId: 'bank-e2e' });
      expect(rebuilt.identical, JSON.stringify(rebuilt.checksums)).to.equal(true);
    } finally {
      await stack.stop();
    }
  });
});

/**
 * The whole payment path over HTTP with the sandbox provider calling back over HTTP too: a
 * thousand payments with random faults (failures, duplicates, reordering), refunds on top, then
 * the books checked against what each payment says and against the ledger's invariants.
 */
import { expect } from 'chai';
import { ledgerCatalog, parseDecimalAmount, type LedgerEvent } from '@folio/shared';
import { httpDelivery } from '../../src/providers/sandboxProvider.js';
import {
  createApiHarness,
  expectBooksBalanced,
  readAllEvents,
  totalsPerCurrency,
  uniqueKey,
  type ApiHarness,
  type ApiServer,
} from '../api/apiHarness.js';
import { clearingId, SANDBOX_SECRET } from './paymentTestSupport.js';

const PAYMENTS = 1_000;
const MERCHANTS = 10;
const CONCURRENCY = 40;

/** A small seeded generator, so a failing run can be repeated with the seed it prints. */
const seededRandom = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const inBatches = async <T, R>(items: readonly T[], size: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> => {
  const results: R[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: size }, worker));
  return results;
};

describe('payments end to end with the sandbox provider over HTTP', function () {
  this.timeout(120_000);
  const seed = Number(process.env.FOLIO_TEST_SEED ?? Date.now() % 100_000);
  const random = seededRandom(seed);
  let harness: ApiHarness;
  let api: ApiServer;
  let merchants: string[];
  let payments: any[];
  let refundsAnswered: number[];

  before(async () => {
    harness = await createApiHarness({
      providerSecrets: { sandbox: SANDBOX_SECRET },
      sandboxRandom: seededRandom(seed + 1),
      sandboxFaults: {
        failureRate: 0.15,
        settleRate: 0.7,
        duplicateRate: 0.1,
        feeBasisPoints: 290,
        latencyMs: { min: 0, max: 15 },
      },
    });
    api = harness.api;
    api.writeApi.sandbox('sandbox')!.setDelivery(httpDelivery(api.baseUrl, 'sandbox'));
    merchants = [];
    for (let i = 0; i < MERCHANTS; i++)
      merchants.push((await api.openAccount({ kind: 'merchant', ownerId: `merchant-${i}` })).id);

    const created = await inBatches(Array.from({ length: PAYMENTS }), CONCURRENCY, async (_, index) => {
      const amount = String(100 + Math.floor(random() * 100_000));
      const response = await api.post('/v1/payments', {
        merchantAccountId: merchants[index % MERCHANTS],
        amount,
        currency: 'EUR',
        provider: 'sandbox',
        description: `order ${index}`,
      });
      expect(response.status, response.text).to.equal(201);
      const submitted = await api.post(`/v1/payments/${response.body.id}/submit`, {}, { key: uniqueKey('submit') });
      expect(submitted.status, submitted.text).to.equal(200);
      return response.body.id as string;
    });
    await api.writeApi.sandbox('sandbox')!.idle();

    // Refunds on a fifth of the payments the provider captured, some of them in full.
    const captured = (await inBatches(created, CONCURRENCY, async (id) => (await api.get(`/v1/payments/${id}`)).body)).filter(
      (payment) => payment.state === 'PAID' || payment.state === 'SETTLED',
    );
    refundsAnswered = await inBatches(
      captured.filter(() => random() < 0.2),
      CONCURRENCY,
      async (payment) => {
        const amount = random() < 0.3 ? payment.amount : String(1 + Math.floor(random() * Number(payment.amount)));
        const response = await api.post(`/v1/payments/${payment.id}/refunds`, { amount }, { key: uniqueKey('refund') });
        return response.status;
      },
    );
    payments = await inBatches(created, CONCURRENCY, async (id) => (await api.get(`/v1/payments/${id}`)).body);
  });
  after(() => harness.close());

  it(`delivers every callback (seed ${seed})`, () => {
    expect(api.writeApi.sandbox('sandbox')!.undelivered()).to.deep.equal([]);
  });

  it('leaves every payment in a legal end state that matches what the provider did', () => {
    const charges = new Map(
      api.writeApi
        .sandbox('sandbox')!
        .charges()
        .map((charge) => [charge.paymentId, charge]),
    );
    for (const payment of payments) {
      const charge = charges.get(payment.id)!;
      expect(payment.providerRef).to.equal(charge.providerRef);
      if (charge.outcome === 'failed') {
        expect(payment.state).to.equal('FAILED');
      } else if (payment.state !== 'REFUNDED') {
        expect(payment.state, JSON.stringify(payment)).to.equal(charge.settled === undefined ? 'PAID' : 'SETTLED');
      }
      expect(payment.flaggedForReconciliation).to.equal(false);
      expect(BigInt(payment.refunded) <= BigInt(payment.captured)).to.equal(true);
    }
    expect(new Set(payments.map((payment) => payment.state))).to.include.members(['FAILED', 'PAID', 'SETTLED', 'REFUNDED']);
    expect(refundsAnswered.every((status) => status === 201)).to.equal(true);
  });

  it('leaves each merchant with Σ captured − Σ refunded of its payments', async () => {
    for (const merchant of merchants) {
      const expected = payments
        .filter((payment) => payment.merchantAccountId === merchant)
        .reduce((sum, payment) => sum + BigInt(payment.captured) - BigInt(payment.refunded), 0n);
      expect(BigInt((await api.account(merchant)).balance.posted)).to.equal(expected);
    }
  });

  it("brings each settled payment's clearing balance back to zero", async () => {
    const clearing = clearingId();
    const events = (await readAllEvents(harness.store)).filter(
      (event) => event.type === 'AccountDebited' || event.type === 'AccountCredited',
    );
    const paymentOfJournal = new Map<string, string>();
    const postings = events.map(
      (recorded) => ledgerCatalog.decode(recorded) as Extract<LedgerEvent, { type: 'AccountDebited' | 'AccountCredited' }>,
    );
    for (const { data } of postings) {
      const paymentId = data.movement?.metadata?.paymentId;
      if (paymentId !== undefined) paymentOfJournal.set(`${data.journal.kind}-${data.journal.id}`, paymentId);
    }
    const clearingByPayment = new Map<string, bigint>();
    for (const { type, data } of postings) {
      if (data.accountId !== clearing) continue;
      const paymentId = paymentOfJournal.get(`${data.journal.kind}-${data.journal.id}`)!;
      clearingByPayment.set(
        paymentId,
        (clearingByPayment.get(paymentId) ?? 0n) + (type === 'AccountCredited' ? data.amount : -data.amount),
      );
    }
    for (const payment of payments) {
      const balance = clearingByPayment.get(payment.id) ?? 0n;
      if (payment.state === 'SETTLED' || payment.state === 'FAILED') expect(balance, payment.id).to.equal(0n);
      if (payment.state === 'PAID') expect(balance, payment.id).to.equal(BigInt(payment.refunded) - BigInt(payment.captured));
    }
  });

  it("emits the provider's settlement report for its traffic", async () => {
    const response = await api.get('/v1/providers/sandbox/sandbox/settlement-report?payoutId=po_e2e');
    expect(response.status, response.text).to.equal(200);
    expect(response.headers['content-type']).to.match(/^text\/csv/);
    const [header, ...lines] = response.text.trimEnd().split('\n');
    const columns = header!.split(',');
    const rows = lines.map((line) => Object.fromEntries(line.split(',').map((value, index) => [columns[index]!, value])));
    const minor = (text: string) => parseDecimalAmount(text, 'EUR', { decimalSeparator: '.' });
    const charges = rows.filter((row) => row.reporting_category === 'charge');
    const refunds = rows.filter((row) => row.reporting_category === 'refund');
    const captured = payments.filter((payment) => payment.state !== 'FAILED');
    expect(charges).to.have.length(captured.length);
    expect(charges.reduce((sum, row) => sum + minor(row.gross!), 0n)).to.equal(
      captured.reduce((sum, p) => sum + BigInt(p.captured), 0n),
    );
    expect(refunds.reduce((sum, row) => sum - minor(row.gross!), 0n)).to.equal(
      payments.reduce((sum, p) => sum + BigInt(p.refunded), 0n),
    );
    const settled = payments.filter((payment) => payment.fee !== null);
    expect(charges.filter((row) => row.automatic_payout_id === 'po_e2e')).to.have.length(settled.length);
  });

  it("emits the bank statement of the provider's payouts, and refuses a fault it cannot read", async () => {
    const report = await api.get('/v1/providers/sandbox/sandbox/settlement-report?payoutId=po_e2e&withPayoutRow=true');
    const paidOut = payments.some((payment) => payment.fee !== null);
    expect(report.text.includes(',payout,'), 'a payout row when something was settled').to.equal(paidOut);
    const response = await api.get('/v1/providers/sandbox/sandbox/bank-statement?skippedStatements=1&closingBalanceSkew=-5');
    expect(response.status, response.text).to.equal(200);
    expect(response.headers['content-type']).to.match(/^application\/xml/);
    expect(response.text).to.contain('<ElctrncSeqNb>2</ElctrncSeqNb>');
    expect(response.text.includes('<EndToEndId>po_e2e</EndToEndId>'), 'a credit for the payout').to.equal(paidOut);
    expect((await api.get('/v1/providers/sandbox/sandbox/bank-statement?closingBalanceSkew=1.5')).status).to.equal(400);
  });

  it('keeps the invariants of the books over the whole log', async () => {
    const report = await expectBooksBalanced(harness.store);
    expect(report.openJournals).to.equal(0);
    for (const [currency, total] of totalsPerCurrency(report)) expect(total, currency).to.equal(0n);
  });
});

import { expect } from 'chai';
import { appendPayment, appendRowRecorded, chargeRow, paymentIdOf } from '@folio/shared/testing';
import { expectProblem, expectValidation, ReadStack } from '../readStack.js';

describe('read API: reconciliation summary and discrepancies', () => {
  let stack: ReadStack;
  const recent = new Date().toISOString();
  const old = new Date(Date.now() - 10 * 24 * 3_600_000).toISOString();

  before(async () => {
    stack = await ReadStack.start();
    const log = stack.eventStore;
    // Clean, an amount mismatch, two payments the provider never reported, and a ghost charge.
    await appendPayment(log, { n: 1, amount: 1000n, at: recent, until: 'captured' });
    await appendRowRecorded(log, { rowKey: 'txn_1', file: 'r', row: chargeRow(1, 1000n) }, recent);
    await appendPayment(log, { n: 2, amount: 2000n, at: recent, until: 'captured' });
    await appendRowRecorded(log, { rowKey: 'txn_2', file: 'r', row: chargeRow(2, 2100n) }, recent);
    await appendPayment(log, { n: 3, amount: 300n, at: old, until: 'captured' });
    await appendPayment(log, { n: 4, amount: 400n, at: old, until: 'captured' });
    await appendRowRecorded(log, { rowKey: 'txn_ghost', file: 'r', row: { ...chargeRow(9, 50n), references: [] } }, recent);
    expect(await stack.projections.waitFor((await log.headPosition())!, 5_000)).to.equal(true);
  });

  after(() => stack.stop());

  it('sums per provider and currency: matched, open by code, and the ledger-vs-provider delta', async () => {
    const response = await stack.get('/v1/reconciliation/summary');
    expect(response.status, response.text).to.equal(200);
    const [summary] = response.body.items;
    expect(summary).to.include({ provider: 'sandbox', currency: 'EUR', payments: 4, matched: 2, openTotal: 4 });
    expect(summary.open).to.deep.equal({ AMOUNT_MISMATCH: 1, INTERNAL_UNMATCHED: 2, PROVIDER_UNMATCHED: 1 });
    // Ledger 1000 + 2000 + 300 + 400; provider 1000 + 2100 + 50.
    expect(summary).to.include({ ledgerTotal: '3700', providerTotal: '3150', delta: '550' });
  });

  it('lists discrepancies by code, pages them, and shows one with its evidence', async () => {
    const missing = await stack.get('/v1/reconciliation/discrepancies?code=INTERNAL_UNMATCHED&limit=1');
    expect(missing.status, missing.text).to.equal(200);
    expect(missing.body.items).to.have.length(1);
    expect(missing.body.items[0].detail.paymentId).to.equal(paymentIdOf(3));
    const next = await stack.get(`/v1/reconciliation/discrepancies?code=INTERNAL_UNMATCHED&limit=1&cursor=${missing.body.nextCursor}`);
    expect(next.body.items.map((item: any) => item.detail.paymentId)).to.deep.equal([paymentIdOf(4)]);
    expect(next.body.nextCursor).to.equal(null);

    const all = await stack.get('/v1/reconciliation/discrepancies?provider=sandbox&status=open');
    expect(all.body.items.map((item: any) => item.code).sort()).to.deep.equal(['AMOUNT_MISMATCH', 'INTERNAL_UNMATCHED', 'INTERNAL_UNMATCHED', 'PROVIDER_UNMATCHED']);
    expect((await stack.get('/v1/reconciliation/discrepancies?status=resolved')).body.items).to.deep.equal([]);

    const mismatch = all.body.items.find((item: any) => item.code === 'AMOUNT_MISMATCH');
    const one = await stack.get(`/v1/reconciliation/discrepancies/${mismatch.id}`);
    expect(one.status, one.text).to.equal(200);
    expect(one.body).to.include({ id: mismatch.id, code: 'AMOUNT_MISMATCH', status: 'open', stage: 'new' });
    expect(one.body.evidence.map((evidence: any) => evidence.kind)).to.deep.equal(['ledger-event', 'ledger-event', 'ledger-event', 'statement-row']);
    expect(one.body.suggestedAction).to.be.a('string');
  });

  const bad: [string, string, string][] = [
    ['an unknown code', '/v1/reconciliation/discrepancies?code=MISSING', 'query.code'],
    ['an unknown status', '/v1/reconciliation/discrepancies?status=closed', 'query.status'],
    ['a provider with capitals', '/v1/reconciliation/discrepancies?provider=Stripe', 'query.provider'],
    ['a limit of zero', '/v1/reconciliation/discrepancies?limit=0', 'query.limit'],
    ['a limit too large', '/v1/reconciliation/discrepancies?limit=101', 'query.limit'],
    ['a cursor never issued', '/v1/reconciliation/discrepancies?cursor=abc', 'query.cursor'],
    ['an unknown parameter', '/v1/reconciliation/discrepancies?colour=red', 'query.colour'],
    ['a repeated parameter', '/v1/reconciliation/discrepancies?code=AMOUNT_MISMATCH&code=FEE_MISMATCH', 'query.code'],
    ['a malformed id', '/v1/reconciliation/discrepancies/xyz', 'params.id'],
    ['a parameter on the summary', '/v1/reconciliation/summary?provider=sandbox', 'query.provider'],
  ];
  for (const [what, path, parameter] of bad)
    it(`answers ${what} with a 400 naming ${parameter}`, async () => expectValidation(await stack.get(path), parameter));

  it('refuses a cursor replayed with other filters', async () => {
    const first = await stack.get('/v1/reconciliation/discrepancies?limit=1');
    expectValidation(await stack.get(`/v1/reconciliation/discrepancies?limit=1&code=AMOUNT_MISMATCH&cursor=${first.body.nextCursor}`), 'query.cursor');
  });

  it('answers 404 for a discrepancy that does not exist', async () => {
    expectProblem(await stack.get(`/v1/reconciliation/discrepancies/${'0'.repeat(32)}`), 404, 'not-found');
  });
});

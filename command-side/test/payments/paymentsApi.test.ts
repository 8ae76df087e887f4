/**
 * Payments over HTTP with the quiet sandbox (it answers submissions but sends no callbacks):
 * every move of the lifecycle, what it does to the books, and what is refused with nothing written.
 */
import { expect } from 'chai';
import { systemAccountId } from '@folio/shared';
import {
  createApiHarness,
  expectBooksBalanced,
  expectProblem,
  expectValidation,
  uniqueKey,
  type ApiHarness,
  type ApiServer,
} from '../api/apiHarness.js';
import {
  checkoutAtSandbox,
  clearingId,
  createPayment,
  expectBooksUntouched,
  expectMoved,
  move,
  openMerchant,
  paidPayment,
  postedOf,
  quietSandbox,
} from './paymentTestSupport.js';

describe('payments API', () => {
  let harness: ApiHarness;
  let api: ApiServer;

  beforeEach(async () => {
    harness = await createApiHarness(quietSandbox);
    api = harness.api;
  });
  afterEach(() => harness.close());

  it('creates a payment in CREATED with Folio ids and answers it by id', async () => {
    const merchant = await openMerchant(api);
    const response = await api.post('/v1/payments', {
      merchantAccountId: merchant,
      amount: '1050',
      currency: 'EUR',
      provider: 'sandbox',
      description: 'order 42',
      customerRef: 'cust-7',
    });
    expect(response.status, response.text).to.equal(201);
    expect(response.headers.location).to.equal(`/v1/payments/${response.body.id}`);
    expect(response.body).to.include({
      state: 'CREATED',
      amount: '1050',
      currency: 'EUR',
      provider: 'sandbox',
      providerRef: null,
      refunded: '0',
      description: 'order 42',
      customerRef: 'cust-7',
    });
    expect(response.body.allowedTransitions).to.deep.equal(['submit', 'fail']);
    const read = await api.get(`/v1/payments/${response.body.id}`);
    expect(read.status).to.equal(200);
    expect(read.body).to.include({ id: response.body.id, state: 'CREATED' });
  });

  it('refuses bad creations with nothing written', async () => {
    const merchant = await openMerchant(api);
    const customer = (await api.openAccount({ kind: 'customer' })).id;
    const body = { merchantAccountId: merchant, amount: '100', currency: 'EUR', provider: 'sandbox' };
    expectValidation(
      await harness.expectNothingWritten(() => api.post('/v1/payments', { ...body, amount: '10.5' })),
      'body.amount',
    );
    expectValidation(
      await harness.expectNothingWritten(() => api.post('/v1/payments', { ...body, provider: 'acme' })),
      'body.provider',
    );
    expectProblem(
      await harness.expectNothingWritten(() => api.post('/v1/payments', { ...body, merchantAccountId: customer })),
      422,
      'not-a-merchant-account',
    );
    expectProblem(
      await harness.expectNothingWritten(() => api.post('/v1/payments', { ...body, currency: 'USD' })),
      422,
      'currency-mismatch',
    );
    expectProblem(
      await harness.expectNothingWritten(() => api.post('/v1/payments', { ...body, provider: 'stripe' })),
      422,
      'provider-not-configured',
    );
    expectProblem(
      await harness.expectNothingWritten(() => api.post('/v1/payments', { ...body, merchantAccountId: '7300000000000000999' })),
      404,
      'account-not-found',
    );
    expectProblem(await api.get('/v1/payments/7300000000000000999'), 404, 'payment-not-found');
  });

  it('goes CREATED → PENDING → PAID → SETTLED → REFUNDED with the money where it belongs at each step', async () => {
    const merchant = await openMerchant(api);
    const payment = await createPayment(api, merchant, '10000');
    const submitted = expectMoved(await move(api, payment.id, 'submit'), 'PENDING');
    expect(submitted.providerRef).to.equal(`sbx_pay_${payment.id}`);

    expectMoved(await move(api, payment.id, 'capture'), 'PAID');
    expect(await postedOf(api, merchant)).to.equal(10_000n);
    expect(await postedOf(api, clearingId())).to.equal(-10_000n);

    const settled = expectMoved(await move(api, payment.id, 'settle', { fee: '290' }), 'SETTLED');
    expect(settled).to.include({ fee: '290', net: '9710' });
    expect(await postedOf(api, clearingId())).to.equal(0n);
    expect(await postedOf(api, systemAccountId({ role: 'bank', currency: 'EUR' }))).to.equal(-9_710n);
    expect(await postedOf(api, systemAccountId({ role: 'fees', currency: 'EUR' }))).to.equal(-290n);

    const partial = await move(api, payment.id, 'refunds', { amount: '4000' });
    expect(partial.status, partial.text).to.equal(201);
    expect(partial.body.payment).to.include({ state: 'SETTLED', refunded: '4000', refundable: '6000' });
    expect(await postedOf(api, merchant)).to.equal(6_000n);
    expectMoved(await move(api, payment.id, 'refunds', { amount: '6000' }), 'REFUNDED');
    expect(await postedOf(api, merchant)).to.equal(0n);
    // Refunds after settlement go back through the bank: the payment's clearing stays at zero.
    expect(await postedOf(api, clearingId())).to.equal(0n);

    const report = await expectBooksBalanced(harness.store);
    expect(report.openJournals).to.equal(0);
  });

  it('refunds before settlement through clearing, and settles only what is left', async () => {
    const merchant = await openMerchant(api);
    const payment = await paidPayment(api, merchant, '10000');
    expectMoved(await move(api, payment.id, 'refunds', { amount: '2500' }), 'PAID');
    expect(await postedOf(api, clearingId())).to.equal(-7_500n);
    const settled = expectMoved(await move(api, payment.id, 'settle', { fee: '100' }), 'SETTLED');
    expect(settled).to.include({ net: '7400', refunded: '2500' });
    expect(await postedOf(api, clearingId())).to.equal(0n);
    expect(await postedOf(api, merchant)).to.equal(7_500n);
    await expectBooksBalanced(harness.store);
  });

  it('fails a payment from CREATED or PENDING, and never afterwards', async () => {
    const merchant = await openMerchant(api);
    const first = await createPayment(api, merchant);
    expect(expectMoved(await move(api, first.id, 'fail', { reason: 'customer abandoned' }), 'FAILED').failureReason).to.equal(
      'customer abandoned',
    );
    const second = await createPayment(api, merchant);
    expectMoved(await move(api, second.id, 'submit'), 'PENDING');
    expectMoved(await move(api, second.id, 'fail', { reason: 'declined' }), 'FAILED');
    const problem = expectProblem(
      await expectBooksUntouched(harness.store, () => move(api, second.id, 'capture')),
      409,
      'illegal-payment-transition',
    );
    expect(problem).to.include({ currentState: 'FAILED' });
    expect(problem.allowedTransitions).to.deep.equal([]);
    const again = expectProblem(
      await expectBooksUntouched(harness.store, () => move(api, second.id, 'fail', { reason: 'declined again' })),
      409,
      'illegal-payment-transition',
    );
    expect(again).to.include({ currentState: 'FAILED' });
    expect((await api.get(`/v1/payments/${second.id}`)).body.failureReason).to.equal('declined');
  });

  it('refuses an illegal move with 409 naming the current state and the allowed moves, writing nothing', async () => {
    const merchant = await openMerchant(api);
    const payment = await createPayment(api, merchant);
    for (const [action, body] of [
      ['capture', {}],
      ['settle', { fee: '0' }],
      ['refunds', { amount: '1' }],
    ] as const) {
      const problem = expectProblem(
        await expectBooksUntouched(harness.store, () => move(api, payment.id, action, body)),
        409,
        'illegal-payment-transition',
      );
      expect(problem.currentState).to.equal('CREATED');
      expect(problem.allowedTransitions).to.deep.equal(['submit', 'fail']);
    }
  });

  it('refuses refunds summing past the captured amount, writing nothing', async () => {
    const merchant = await openMerchant(api);
    const payment = await paidPayment(api, merchant, '5000');
    expectMoved(await move(api, payment.id, 'refunds', { amount: '3000' }), 'PAID');
    const problem = expectProblem(
      await expectBooksUntouched(harness.store, () => move(api, payment.id, 'refunds', { amount: '2001' })),
      422,
      'refund-exceeds-captured',
    );
    expect(problem).to.include({ refundable: '2000', requested: '2001' });
  });

  it('refuses a refund the merchant cannot pay, writing nothing', async () => {
    const merchant = await openMerchant(api);
    const payment = await paidPayment(api, merchant, '5000');
    const other = (await api.openAccount({ kind: 'customer' })).id;
    expect((await api.transfer(merchant, other, '4500')).status).to.equal(201);
    const problem = expectProblem(
      await expectBooksUntouched(harness.store, () => move(api, payment.id, 'refunds', { amount: '1000' })),
      422,
      'insufficient-funds',
    );
    expect(problem.available).to.equal('500');
  });

  it('refuses to submit a submitted payment again, without asking the provider or claiming a reference, whatever its reference', async () => {
    const merchant = await openMerchant(api);
    const sandbox = api.writeApi.sandbox('sandbox')!;
    for (const given of [true, false]) {
      const payment = await createPayment(api, merchant);
      const body = given ? { providerRef: await checkoutAtSandbox(api, payment) } : {};
      const { providerRef } = expectMoved(await move(api, payment.id, 'submit', body), 'PENDING');
      const charges = sandbox.charges().length;
      for (const again of [{}, { providerRef: 'pi_another' }]) {
        const problem = expectProblem(
          await expectBooksUntouched(harness.store, () => move(api, payment.id, 'submit', again)),
          409,
          'illegal-payment-transition',
        );
        expect(problem.currentState).to.equal('PENDING');
      }
      expect(sandbox.charges()).to.have.length(charges);
      expect((await api.get(`/v1/payments/${payment.id}`)).body.providerRef).to.equal(providerRef);
      expectProblem(await api.get('/v1/payments?provider=sandbox&providerRef=pi_another'), 404, 'not-found');
    }
  });

  it('keeps one provider reference to one payment, and finds the payment by it', async () => {
    const merchant = await openMerchant(api);
    const first = await createPayment(api, merchant);
    const second = await createPayment(api, merchant);
    const shared = await checkoutAtSandbox(api, first);
    expectMoved(await move(api, first.id, 'submit', { providerRef: shared }), 'PENDING');
    expectProblem(
      await expectBooksUntouched(harness.store, () => move(api, second.id, 'submit', { providerRef: shared })),
      422,
      'provider-reference-mismatch',
    );
    expect((await api.get(`/v1/payments/${second.id}`)).body.state).to.equal('CREATED');
    const found = await api.get(`/v1/payments?provider=sandbox&providerRef=${shared}`);
    expect(found.status, found.text).to.equal(200);
    expect(found.body.items.map((item: { id: string }) => item.id)).to.deep.equal([first.id]);
    expectProblem(await api.get('/v1/payments?provider=sandbox&providerRef=pi_nothing'), 404, 'not-found');
  });

  it('applies a money move once per idempotency key and requires a key where money moves', async () => {
    const merchant = await openMerchant(api);
    const payment = await createPayment(api, merchant);
    await move(api, payment.id, 'submit');
    expectProblem(await api.post(`/v1/payments/${payment.id}/capture`, {}), 400, 'idempotency-key-required');
    const key = uniqueKey('capture');
    const first = await move(api, payment.id, 'capture', {}, key);
    const again = await move(api, payment.id, 'capture', {}, key);
    expect(again.status).to.equal(first.status);
    expect(again.headers['idempotent-replayed']).to.equal('true');
    expect(await postedOf(api, merchant)).to.equal(10_000n);
    const refundKey = uniqueKey('refund');
    const refunds = await Promise.all([1, 2, 3].map(() => move(api, payment.id, 'refunds', { amount: '1000' }, refundKey)));
    expect(new Set(refunds.map((refund) => refund.body.refundId)).size).to.equal(1);
    expect(await postedOf(api, merchant)).to.equal(9_000n);
  });
});

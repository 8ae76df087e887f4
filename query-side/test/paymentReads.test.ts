import { expect } from 'chai';
import { expectProblem, expectValidation, ReadStack } from './readStack.js';

/** A sandbox that never calls back by itself: the payment moves only when asked. */
const quietSandbox = {
  sandboxFaults: { paymentSilenceRate: 1, payoutSilenceRate: 1, latencyMs: { min: 0, max: 0 } },
  payoutTimeoutMs: 400,
};

/** The read model's answer is the write API's: the same fields with the same values. */
const expectSameAsWritten = (read: Record<string, unknown>, written: Record<string, unknown>) => {
  expect(read).to.deep.equal(written);
};

describe('read API: payments and payouts from the payments read model', () => {
  let stack: ReadStack;
  let merchant: string;

  before(async () => {
    stack = await ReadStack.start({ write: quietSandbox });
    merchant = (await stack.post('/v1/accounts', { ownerId: 'shop-1', currency: 'EUR', kind: 'merchant' }, 201)).id;
  });

  after(() => stack.stop());

  const createPayment = (amount: string, extra: Record<string, unknown> = {}) =>
    stack.post('/v1/payments', { merchantAccountId: merchant, amount, currency: 'EUR', provider: 'sandbox', ...extra }, 201);

  /** The payment as the write side folds it from its stream, and as the split query side reads it at that position. */
  const bothViews = async (id: string) => {
    const written = await stack.get(`/v1/payments/${id}`);
    expect(written.status, written.text).to.equal(200);
    const read = await stack.read(`/v1/payments/${id}?position=${written.body.position}`);
    expect(read.status, read.text).to.equal(200);
    return { written: written.body, read: read.body };
  };

  it('answers a payment as the write API does at every step of its life, with its timeline and refunds', async () => {
    const payment = await createPayment('10000', { description: 'order 42', customerRef: 'cust-7' });
    const steps: [string, unknown, number][] = [
      ['submit', {}, 200],
      ['capture', {}, 200],
      ['settle', { fee: '290' }, 200],
      ['refunds', { amount: '4000' }, 201],
      ['refunds', { amount: '6000' }, 201],
    ];
    let views = await bothViews(payment.id);
    expectSameAsWritten(views.read, views.written);
    for (const [action, body, status] of steps) {
      await stack.post(`/v1/payments/${payment.id}/${action}`, body, status);
      views = await bothViews(payment.id);
      expectSameAsWritten(views.read, views.written);
    }
    expect(views.read).to.include({ state: 'REFUNDED', providerRef: `sbx_pay_${payment.id}`, refunded: '10000', refundable: '0', fee: '290' });
    const activity = await stack.read(`/v1/payments/${payment.id}/activity`);
    expect(activity.status, activity.text).to.equal(200);
    const read = activity.body;
    expect(read.position).to.equal(views.read.position);
    expect(read.timeline.map(({ state }: { state: string }) => state)).to.deep.equal(['CREATED', 'PENDING', 'PAID', 'SETTLED', 'REFUNDED']);
    expect(read.refunds.map(({ amount, state, from }: Record<string, string>) => ({ amount, state, from }))).to.deep.equal([
      { amount: '4000', state: 'refunded', from: 'bank' },
      { amount: '6000', state: 'refunded', from: 'bank' },
    ]);
    expect(read.callbacks).to.deep.equal({ received: 0, flaggedForReconciliation: false });
    expect(read.journals.refunds).to.deep.equal(read.refunds.map(({ refundId }: { refundId: string }) => refundId));
  });

  it("closes the payment's journals in the history and finds them by the provider's reference", async () => {
    const payment = await createPayment('2500', { description: 'journal check' });
    const { providerRef } = await stack.post(`/v1/payments/${payment.id}/submit`, {}, 200);
    const captured = await stack.post(`/v1/payments/${payment.id}/capture`, {}, 200);
    const read = (await stack.read(`/v1/payments/${payment.id}/activity?position=${captured.position}`)).body;

    const capture = await stack.read(`/v1/transactions/${read.journals.capture}?position=${captured.position}`);
    expect(capture.status, capture.text).to.equal(200);
    expect(capture.body).to.include({
      type: 'capture',
      status: 'completed',
      amount: '2500',
      toAccountId: merchant,
      paymentId: payment.id,
      provider: 'sandbox',
      providerRef,
    });
    expect(capture.body.endedAt).to.be.a('string');

    const byReference = await stack.read(`/v1/transactions?q=${encodeURIComponent(providerRef)}&position=${captured.position}`);
    expect(byReference.body.items.map(({ id }: { id: string }) => id)).to.deep.equal([read.journals.capture]);
    const byPayment = await stack.read(`/v1/transactions?payment=${payment.id}&type=capture`);
    expect(byPayment.body.items.map(({ id }: { id: string }) => id)).to.deep.equal([read.journals.capture]);
  });

  it('lists payments by merchant, provider reference and state, newest first, page by page', async () => {
    const otherMerchant = (await stack.post('/v1/accounts', { ownerId: 'shop-2', currency: 'EUR', kind: 'merchant' }, 201)).id;
    const created = [];
    for (let i = 0; i < 3; i++) {
      created.push(await stack.post('/v1/payments', { merchantAccountId: otherMerchant, amount: `${100 + i}`, currency: 'EUR', provider: 'sandbox' }, 201));
    }
    const submitted = await stack.post(`/v1/payments/${created[1].id}/submit`, {}, 200);
    const at = `position=${submitted.position}`;

    const all = await stack.read(`/v1/payments?merchant=${otherMerchant}&${at}`);
    expect(all.status, all.text).to.equal(200);
    expect(all.body.items.map(({ id }: { id: string }) => id)).to.deep.equal(created.map(({ id }) => id).reverse());
    expect(all.body.nextCursor).to.equal(null);

    const pages: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await stack.read(`/v1/payments?merchant=${otherMerchant}&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`);
      expect(page.status, page.text).to.equal(200);
      pages.push(...page.body.items.map(({ id }: { id: string }) => id));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    expect(pages).to.deep.equal(created.map(({ id }) => id).reverse());

    const first = await stack.read(`/v1/payments?merchant=${otherMerchant}&limit=1`);
    expectValidation(await stack.read(`/v1/payments?merchant=${merchant}&limit=1&cursor=${first.body.nextCursor}`), 'query.cursor');

    const byReference = await stack.read(`/v1/payments?provider=sandbox&providerRef=${submitted.providerRef}&${at}`);
    expect(byReference.body.items.map(({ id }: { id: string }) => id)).to.deep.equal([created[1].id]);
    const pending = await stack.read(`/v1/payments?merchant=${otherMerchant}&state=PENDING`);
    expect(pending.body.items.map(({ id }: { id: string }) => id)).to.deep.equal([created[1].id]);
    const none = await stack.read(`/v1/payments?provider=stripe&providerRef=${submitted.providerRef}`);
    expect(none.body).to.deep.equal({ items: [], nextCursor: null });
  });

  it('answers a payout as the write API does, and balances count its hold as the account stream does', async () => {
    const paid = await createPayment('9000');
    await stack.post(`/v1/payments/${paid.id}/submit`, {}, 200);
    await stack.post(`/v1/payments/${paid.id}/capture`, {}, 200);
    const payout = await stack.post(
      '/v1/payouts',
      { accountId: merchant, amount: '3000', currency: 'EUR', provider: 'sandbox', destination: 'DE89370400440532013000' },
      201,
    );

    const compareBalances = async () => {
      const account = await stack.get(`/v1/accounts/${merchant}`);
      const balance = await stack.read(`/v1/accounts/${merchant}/balance?position=${account.body.position}`);
      expect(balance.status, balance.text).to.equal(200);
      const { posted, pending, available } = balance.body;
      expect({ posted, pending, available }).to.deep.equal(account.body.balance);
      return account.body.balance;
    };
    const during = await compareBalances();
    expect(BigInt(during.pending)).to.equal(-3000n);

    const written = await stack.get(`/v1/payouts/${payout.id}`);
    const read = await stack.read(`/v1/payouts/${payout.id}?position=${written.body.position}`);
    expect(read.status, read.text).to.equal(200);
    expectSameAsWritten(read.body, written.body);
    const activity = await stack.read(`/v1/payouts/${payout.id}/activity`);
    expect(activity.body.timeline.map(({ state }: { state: string }) => state)).to.deep.equal(['PENDING', 'SUBMITTED']);
    expect(activity.body.journal).to.equal(null);

    // The quiet sandbox never answers: the deadline fails the payout and releases its hold.
    let failed = written;
    for (let attempt = 0; attempt < 100 && failed.body.state !== 'FAILED'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      failed = await stack.get(`/v1/payouts/${payout.id}`);
    }
    expect(failed.body).to.include({ state: 'FAILED', timedOut: true });
    const after = await stack.read(`/v1/payouts/${payout.id}?position=${failed.body.position}`);
    expectSameAsWritten(after.body, failed.body);
    expect((await compareBalances()).pending).to.equal('0');
  });

  it('says 404 for a payment or payout it does not know', async () => {
    expectProblem(await stack.read('/v1/payments/7300000000000000999'), 404, 'payment-not-found');
    expectProblem(await stack.read('/v1/payouts/7300000000000000999'), 404, 'payout-not-found');
    expectProblem(await stack.read('/v1/payments/7300000000000000999/activity'), 404, 'payment-not-found');
    expectProblem(await stack.read('/v1/payouts/7300000000000000999/activity'), 404, 'payout-not-found');
  });
});

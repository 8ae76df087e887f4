/**
 * A reference the caller gives at submission is the provider's payment for this Folio payment, or
 * nothing is recorded: its callbacks, which carry the customer's money, go to whichever payment
 * holds the reference, so another merchant's reference must not be claimable.
 */
import { expect } from 'chai';
import type { CallbackPayloadWire } from '../../src/providers/callbackPayload.js';
import type { ProviderAdapter } from '../../src/providers/providerAdapter.js';
import { createSandboxProvider } from '../../src/providers/sandboxProvider.js';
import {
  createApiHarness,
  expectBooksBalanced,
  expectProblem,
  ledgerEvents,
  uniqueKey,
  type ApiHarness,
  type ApiServer,
} from '../api/apiHarness.js';
import {
  checkoutAtSandbox,
  createPayment,
  expectBooksUntouched,
  expectMoved,
  move,
  postedOf,
  quietSandbox,
  SANDBOX_SECRET,
  sendCallback,
} from './paymentTestSupport.js';

describe('a reference given at submission', () => {
  let harness: ApiHarness;
  let api: ApiServer;

  beforeEach(async () => {
    harness = await createApiHarness(quietSandbox);
    api = harness.api;
  });
  afterEach(() => harness.close());

  const merchantAccount = async (ownerId: string) => (await api.openAccount({ kind: 'merchant', currency: 'EUR', ownerId })).id as string;

  it("is refused when it is another merchant's payment at the provider, so that payment's capture reaches its own merchant", async () => {
    const merchantA = await merchantAccount('merchant-a');
    const merchantB = await merchantAccount('merchant-b');
    const paymentA = await createPayment(api, merchantA, '10000');
    const paymentB = await createPayment(api, merchantB, '10000');
    const referenceOfA = await checkoutAtSandbox(api, paymentA);

    const squat = expectProblem(
      await expectBooksUntouched(harness.store, () => move(api, paymentB.id, 'submit', { providerRef: referenceOfA })),
      422,
      'provider-reference-mismatch',
    );
    expect(squat).to.include({ paymentId: paymentB.id, providerRef: referenceOfA });
    expect(squat.detail).to.contain('another Folio payment');
    expect((await api.get(`/v1/payments/${paymentB.id}`)).body).to.include({ state: 'CREATED', providerRef: null });

    expectMoved(await move(api, paymentA.id, 'submit', { providerRef: referenceOfA }), 'PENDING');
    // A provider's callback names its own reference; Folio's id is not always in it.
    const captured: CallbackPayloadWire = {
      id: `evt-capture-${paymentA.id}`,
      type: 'payment.captured',
      createdAt: new Date().toISOString(),
      data: { reference: referenceOfA, amount: '10000', currency: 'EUR' },
    };
    expect((await sendCallback(api, captured)).status).to.equal(200);
    expect((await api.get(`/v1/payments/${paymentA.id}`)).body.state).to.equal('PAID');
    expect(await postedOf(api, merchantA)).to.equal(10_000n);
    expect(await postedOf(api, merchantB)).to.equal(0n);
    await expectBooksBalanced(harness.store);
  });

  it('is refused when the provider does not know it, with nothing written', async () => {
    const payment = await createPayment(api, await merchantAccount('merchant-a'));
    const problem = expectProblem(
      await expectBooksUntouched(harness.store, () => move(api, payment.id, 'submit', { providerRef: 'sbx_pay_guessed' })),
      422,
      'provider-reference-unknown',
    );
    expect(problem).to.include({ provider: 'sandbox', providerRef: 'sbx_pay_guessed' });
    expectProblem(await api.get('/v1/payments?provider=sandbox&providerRef=sbx_pay_guessed'), 404, 'not-found');
  });

  it('is refused when the provider holds it for another amount or currency, naming what differs, with nothing written', async () => {
    const merchant = await merchantAccount('merchant-a');
    for (const [charged, differs] of [
      [{ amount: '9000' }, 'amount 9000'],
      [{ currency: 'USD' }, 'currency USD'],
    ] as const) {
      const payment = await createPayment(api, merchant, '10000');
      const providerRef = await checkoutAtSandbox(api, payment, charged);
      const problem = expectProblem(
        await expectBooksUntouched(harness.store, () => move(api, payment.id, 'submit', { providerRef })),
        422,
        'provider-reference-mismatch',
      );
      expect(problem.detail).to.contain(differs);
      expect((await api.get(`/v1/payments/${payment.id}`)).body).to.include({ state: 'CREATED', providerRef: null });
    }
  });

  it('is refused with 502 and nothing written while the provider cannot be asked, and recorded once it can', async () => {
    let reachable = false;
    const sandbox = createSandboxProvider({ provider: 'sandbox', secret: SANDBOX_SECRET, faults: quietSandbox.sandboxFaults });
    const adapter: ProviderAdapter = {
      ...sandbox.adapter,
      findPayment: (providerRef) => (reachable ? sandbox.adapter.findPayment(providerRef) : Promise.reject(new Error('timed out'))),
    };
    await harness.close();
    harness = await createApiHarness({ sandboxProviders: [], providers: [{ adapter, secret: SANDBOX_SECRET }] });
    api = harness.api;
    const payment = await createPayment(api, await merchantAccount('merchant-a'), '10000');
    const { providerRef } = await sandbox.adapter.submitPayment({ paymentId: payment.id, amount: 10_000n, currency: 'EUR' });

    const key = uniqueKey('submit');
    const before = (await ledgerEvents(harness.store)).length;
    const unreachable = expectProblem(await move(api, payment.id, 'submit', { providerRef }, key), 502, 'provider-unavailable');
    expect(unreachable.detail).to.contain('timed out');
    expect((await ledgerEvents(harness.store)).length).to.equal(before);
    expect((await api.get(`/v1/payments/${payment.id}`)).body).to.include({ state: 'CREATED', providerRef: null });

    reachable = true;
    expect(expectMoved(await move(api, payment.id, 'submit', { providerRef }, key), 'PENDING').providerRef).to.equal(providerRef);
    // The reference it recorded was checked then: a submission naming it again needs no answer from the provider.
    reachable = false;
    expect(expectMoved(await move(api, payment.id, 'submit', { providerRef }), 'PENDING').providerRef).to.equal(providerRef);
  });

  it('is recorded when the provider holds it for this payment, and a retried submission is answered as the first', async () => {
    const payment = await createPayment(api, await merchantAccount('merchant-a'), '10000');
    const providerRef = await checkoutAtSandbox(api, payment);
    const key = uniqueKey('submit');
    const first = await move(api, payment.id, 'submit', { providerRef }, key);
    expect(expectMoved(first, 'PENDING').providerRef).to.equal(providerRef);
    const again = await move(api, payment.id, 'submit', { providerRef }, key);
    expect(again.headers['idempotent-replayed']).to.equal('true');
    expect(again.body).to.deep.equal(first.body);
    const found = await api.get(`/v1/payments?provider=sandbox&providerRef=${providerRef}`);
    expect(found.body.items.map((item: { id: string }) => item.id)).to.deep.equal([payment.id]);
  });
});

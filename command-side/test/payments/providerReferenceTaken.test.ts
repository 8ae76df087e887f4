/**
 * The provider takes a submission and answers with a reference another payment already holds (or
 * holds the reference a caller gives for this payment, but another payment claimed it): it holds a
 * charge for this payment that Folio cannot book under that reference. The payment stays CREATED,
 * records the reference and is flagged for reconciliation, and it is not submitted again.
 */
import { expect } from 'chai';
import { collect, paymentCatalog, paymentStream, type CurrencyCode, type PaymentCatalogEvent } from '@folio/shared';
import type { ProviderAdapter, ProviderPayment } from '../../src/providers/providerAdapter.js';
import { createProviderReferences } from '../../src/providers/providerReferences.js';
import { ApiServer, expectBooksBalanced, expectProblem, uniqueKey } from '../api/apiHarness.js';
import { openTempStore, type TempStore } from '../tempEventStore.js';
import { clearingId, createPayment, expectMoved, move, openMerchant, postedOf, startApiFailingOnce } from './paymentTestSupport.js';

describe('a submission the provider answers with a reference another payment holds', () => {
  let temp: TempStore;
  let api: ApiServer;
  let asked: number;
  /** The payments the provider holds, by reference. */
  let held: Map<string, ProviderPayment>;

  const provider: ProviderAdapter = {
    provider: 'sandbox',
    async submitPayment() {
      asked += 1;
      return { providerRef: 'pi_shared' };
    },
    findPayment: async (providerRef) => held.get(providerRef),
    refundPayment: () => Promise.reject(new Error('no refunds in these tests')),
    submitPayout: () => Promise.reject(new Error('no payouts in these tests')),
  };

  beforeEach(async () => {
    temp = openTempStore();
    asked = 0;
    held = new Map();
    ({ api } = await startApiFailingOnce(temp, provider));
  });
  afterEach(async () => {
    await api.stop();
    await temp.dispose();
  });

  const holds = (providerRef: string, payment: { id: string; amount: string; currency: CurrencyCode }) =>
    held.set(providerRef, { paymentId: payment.id, amount: BigInt(payment.amount), currency: payment.currency });

  it('records the reference and flags the payment, and answers a retry without asking the provider again', async () => {
    const merchant = await openMerchant(api);
    const holder = await createPayment(api, merchant);
    holds('pi_shared', holder);
    expectMoved(await move(api, holder.id, 'submit', { providerRef: 'pi_shared' }), 'PENDING');
    const payment = await createPayment(api, merchant);
    const key = uniqueKey('submit');
    const taken = expectProblem(await move(api, payment.id, 'submit', {}, key), 409, 'provider-reference-taken');
    expect(taken.providerRef).to.equal('pi_shared');
    expect(asked).to.equal(1);

    const events = (await collect(temp.store.readStream(paymentStream(payment.id)))).map(
      (recorded) => paymentCatalog.decode(recorded) as PaymentCatalogEvent,
    );
    expect(events.map((event) => event.type)).to.deep.equal(['PaymentCreated', 'PaymentReferenceTaken']);
    expect(events[1]!.data).to.deep.include({
      providerRef: 'pi_shared',
      takenBy: { resource: 'payment', resourceId: holder.id },
    });
    const view = (await api.get(`/v1/payments/${payment.id}`)).body;
    expect(view).to.include({ state: 'CREATED', providerRef: null, flaggedForReconciliation: true });

    for (const retry of [
      () => move(api, payment.id, 'submit', {}, key),
      () => move(api, payment.id, 'submit', {}),
      () => move(api, payment.id, 'submit', { providerRef: 'pi_another' }),
    ]) {
      expect(expectProblem(await retry(), 409, 'provider-reference-taken').providerRef).to.equal('pi_shared');
    }
    expect(asked).to.equal(1);
    expect((await api.get(`/v1/payments/${payment.id}`)).body.state).to.equal('CREATED');
    expect(await postedOf(api, merchant)).to.equal(0n);
    expect(await postedOf(api, clearingId())).to.equal(0n);
    await expectBooksBalanced(temp.store);
  });

  it('records nothing when the caller gives a reference the provider holds for another payment', async () => {
    const merchant = await openMerchant(api);
    const holder = await createPayment(api, merchant);
    holds('pi_shared', holder);
    expectMoved(await move(api, holder.id, 'submit', { providerRef: 'pi_shared' }), 'PENDING');
    const payment = await createPayment(api, merchant);
    expectProblem(await move(api, payment.id, 'submit', { providerRef: 'pi_shared' }), 422, 'provider-reference-mismatch');
    expect((await collect(temp.store.readStream(paymentStream(payment.id)))).map((event) => event.type)).to.deep.equal([
      'PaymentCreated',
    ]);
    expect((await api.get(`/v1/payments/${payment.id}`)).body.flaggedForReconciliation).to.equal(false);
    expect(asked).to.equal(0);
    holds('pi_its_own', payment);
    expectMoved(await move(api, payment.id, 'submit', { providerRef: 'pi_its_own' }), 'PENDING');
  });

  it('records and flags a reference the provider holds for the payment when another payment claimed it unchecked', async () => {
    const merchant = await openMerchant(api);
    const squatter = await createPayment(api, merchant);
    const payment = await createPayment(api, merchant);
    // A claim as submissions left it before given references were checked with the provider.
    const owner = { resource: 'payment', resourceId: squatter.id } as const;
    const run = { correlationId: 'unchecked-submission', actor: 'merchant-b' };
    await createProviderReferences(temp.store, () => new Date()).claim('sandbox', 'pi_squatted', owner, run);
    holds('pi_squatted', payment);
    const submitted = await move(api, payment.id, 'submit', { providerRef: 'pi_squatted' });
    expect(expectProblem(submitted, 409, 'provider-reference-taken').providerRef).to.equal('pi_squatted');
    const events = (await collect(temp.store.readStream(paymentStream(payment.id)))).map(
      (recorded) => paymentCatalog.decode(recorded) as PaymentCatalogEvent,
    );
    expect(events.map((event) => event.type)).to.deep.equal(['PaymentCreated', 'PaymentReferenceTaken']);
    expect(events[1]!.data).to.deep.include({ providerRef: 'pi_squatted', takenBy: owner });
    expect((await api.get(`/v1/payments/${payment.id}`)).body).to.include({ state: 'CREATED', flaggedForReconciliation: true });
    expectProblem(await move(api, payment.id, 'submit', { providerRef: 'pi_squatted' }), 409, 'provider-reference-taken');
  });
});

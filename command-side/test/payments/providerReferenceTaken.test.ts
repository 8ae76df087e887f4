/**
 * The provider takes a submission and answers with a reference another payment already holds: it
 * holds a charge for this payment that Folio cannot book under that reference. The payment stays
 * CREATED, records the reference and is flagged for reconciliation, and it is not submitted again.
 */
import { expect } from 'chai';
import { collect, paymentCatalog, paymentStream, type PaymentCatalogEvent } from '@folio/shared';
import type { ProviderAdapter } from '../../src/providers/providerAdapter.js';
import { ApiServer, expectBooksBalanced, expectProblem, uniqueKey } from '../api/apiHarness.js';
import { openTempStore, type TempStore } from '../tempEventStore.js';
import { clearingId, createPayment, expectMoved, move, openMerchant, postedOf, startApiFailingOnce } from './paymentTestSupport.js';

describe('a submission the provider answers with a reference another payment holds', () => {
  let temp: TempStore;
  let api: ApiServer;
  let asked: number;

  const provider: ProviderAdapter = {
    provider: 'sandbox',
    async submitPayment() {
      asked += 1;
      return { providerRef: 'pi_shared' };
    },
    refundPayment: () => Promise.reject(new Error('no refunds in these tests')),
    submitPayout: () => Promise.reject(new Error('no payouts in these tests')),
  };

  beforeEach(async () => {
    temp = openTempStore();
    asked = 0;
    ({ api } = await startApiFailingOnce(temp, provider));
  });
  afterEach(async () => {
    await api.stop();
    await temp.dispose();
  });

  it('records the reference and flags the payment, and answers a retry without asking the provider again', async () => {
    const merchant = await openMerchant(api);
    const holder = await createPayment(api, merchant);
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

  it('records nothing when the caller gives a reference another payment holds: the provider holds nothing', async () => {
    const merchant = await openMerchant(api);
    const holder = await createPayment(api, merchant);
    expectMoved(await move(api, holder.id, 'submit', { providerRef: 'pi_shared' }), 'PENDING');
    const payment = await createPayment(api, merchant);
    expectProblem(await move(api, payment.id, 'submit', { providerRef: 'pi_shared' }), 409, 'provider-reference-taken');
    expect((await collect(temp.store.readStream(paymentStream(payment.id)))).map((event) => event.type)).to.deep.equal([
      'PaymentCreated',
    ]);
    expect((await api.get(`/v1/payments/${payment.id}`)).body.flaggedForReconciliation).to.equal(false);
    expect(asked).to.equal(0);
    expectMoved(await move(api, payment.id, 'submit', { providerRef: 'pi_its_own' }), 'PENDING');
  });
});

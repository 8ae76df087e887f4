/**
 * A provider that answers it will not take a request (a declined card, a refund it refuses): the
 * caller learns it was declined and why, and a retry gets the same answer without asking the
 * provider again. A declined submission fails the payment with the provider's reason; a declined
 * refund releases the reservation made before the provider was asked, and moves no money.
 */
import { expect } from 'chai';
import { collect, paymentCatalog, paymentStream, type PaymentCatalogEvent } from '@folio/shared';
import { evolvePayment, type PaymentDocument } from '@folio/projections';
import { ProviderRefusedError } from '../../src/providers/providerErrors.js';
import type { ProviderAdapter } from '../../src/providers/providerAdapter.js';
import { ApiServer, expectBooksBalanced, expectProblem, ledgerEvents, uniqueKey } from '../api/apiHarness.js';
import { openTempStore, type TempStore } from '../tempEventStore.js';
import {
  clearingId,
  createPayment,
  expectBooksUntouched,
  expectMoved,
  move,
  openMerchant,
  paymentCallback,
  postedOf,
  sendCallback,
  startApiFailingOnce,
} from './paymentTestSupport.js';

describe('requests the provider declines', () => {
  let temp: TempStore;
  let api: ApiServer;
  const asked = { submissions: 0, refunds: 0 };
  let declineSubmissions: boolean;

  const provider: ProviderAdapter = {
    provider: 'sandbox',
    async submitPayment({ paymentId }) {
      asked.submissions += 1;
      if (declineSubmissions) throw new ProviderRefusedError('card declined');
      return { providerRef: `pi_${paymentId}` };
    },
    async refundPayment() {
      asked.refunds += 1;
      throw new ProviderRefusedError('the balance at the provider is too low');
    },
    findPayment: () => Promise.reject(new Error('no references given in these tests')),
    submitPayout: () => Promise.reject(new Error('no payouts in these tests')),
  };

  beforeEach(async () => {
    temp = openTempStore();
    asked.submissions = 0;
    asked.refunds = 0;
    declineSubmissions = false;
    ({ api } = await startApiFailingOnce(temp, provider));
  });
  afterEach(async () => {
    await api.stop();
    await temp.dispose();
  });

  it('fails a payment whose submission the provider declines, with its reason, moving no money', async () => {
    const merchant = await openMerchant(api);
    const payment = await createPayment(api, merchant);
    declineSubmissions = true;
    const declined = await move(api, payment.id, 'submit', {}, uniqueKey('submit'));
    const problem = expectProblem(declined, 422, 'provider-declined');
    expect(problem.detail).to.contain('card declined');
    expect(problem.provider).to.equal('sandbox');
    const view = (await api.get(`/v1/payments/${payment.id}`)).body;
    expect(view).to.include({ state: 'FAILED', failureReason: 'card declined', providerRef: null });
    expect(view.allowedTransitions).to.deep.equal([]);
    const events = (await collect(temp.store.readStream(paymentStream(payment.id)))).map((recorded) => ({
      recorded,
      event: paymentCatalog.decode(recorded) as PaymentCatalogEvent,
    }));
    expect(events.map(({ event }) => event.type)).to.deep.equal(['PaymentCreated', 'PaymentFailed']);
    expect(events[1]!.event.data).to.include({ reason: 'card declined', declined: true });
    // The payments read model folds the same events: support sees the failure and its reason.
    const document = events.reduce<PaymentDocument | undefined>((read, { event, recorded }) => evolvePayment(read, event, recorded), undefined);
    expect(document).to.include({ state: 'FAILED', failureReason: 'card declined' });
    expect(await postedOf(api, merchant)).to.equal(0n);
    expect(await postedOf(api, clearingId())).to.equal(0n);
    await expectBooksBalanced(temp.store);
  });

  it('answers a declined submission retried, with its key or without, as it was answered, asking the provider once', async () => {
    const payment = await createPayment(api, await openMerchant(api));
    declineSubmissions = true;
    const key = uniqueKey('submit');
    const declined = await move(api, payment.id, 'submit', {}, key);
    expectProblem(declined, 422, 'provider-declined');
    const sameKey = await expectBooksUntouched(temp.store, () => move(api, payment.id, 'submit', {}, key));
    expect(sameKey.headers['idempotent-replayed']).to.equal('true');
    expect(sameKey.body).to.deep.equal(declined.body);
    const problemOf = ({ body }: { body: any }) => ({ type: body.type, status: body.status, detail: body.detail, provider: body.provider });
    for (const retry of [() => move(api, payment.id, 'submit', {}), () => api.post(`/v1/payments/${payment.id}/submit`, {})]) {
      const again = await expectBooksUntouched(temp.store, retry);
      expect(again.status, again.text).to.equal(422);
      expect(problemOf(again)).to.deep.equal(problemOf(declined));
    }
    expect(asked.submissions).to.equal(1);
    expect((await api.get(`/v1/payments/${payment.id}`)).body.state).to.equal('FAILED');
  });

  it('judges the callbacks that waited for a declined submission at once, flagging them, moving nothing', async () => {
    const merchant = await openMerchant(api);
    const payment = await createPayment(api, merchant);
    const early = await sendCallback(api, paymentCallback('payment.captured', { id: payment.id, providerRef: `pi_${payment.id}` }));
    expect(early.body.outcome, early.text).to.equal('deferred');
    declineSubmissions = true;
    expectProblem(await move(api, payment.id, 'submit', {}), 422, 'provider-declined');
    // Read from the log, not through the API: a read would complete what the decline left.
    const events = (await collect(temp.store.readStream(paymentStream(payment.id)))).map(
      (recorded) => paymentCatalog.decode(recorded) as PaymentCatalogEvent,
    );
    expect(events.map((event) => event.type)).to.deep.equal([
      'PaymentCreated',
      'PaymentCallbackRecorded',
      'PaymentFailed',
      'PaymentCallbackRecorded',
    ]);
    expect(events[3]!.data).to.include({ outcome: 'superseded', flaggedForReconciliation: true });
    expect(await postedOf(api, merchant)).to.equal(0n);
    expect(await postedOf(api, clearingId())).to.equal(0n);
    await expectBooksBalanced(temp.store);
  });

  it('answers a declined refund 422 provider-declined, releasing its reservation, moving no money', async () => {
    const merchant = await openMerchant(api);
    const payment = await createPayment(api, merchant);
    expectMoved(await move(api, payment.id, 'submit'), 'PENDING');
    expectMoved(await move(api, payment.id, 'capture'), 'PAID');
    const key = uniqueKey('refund');
    const before = (await ledgerEvents(temp.store)).length;
    const declined = await move(api, payment.id, 'refunds', { amount: '4000' }, key);
    expect(expectProblem(declined, 422, 'provider-declined').detail).to.contain('too low');
    // The refund was reserved before the provider was asked, and released: nothing else was written.
    const written = (await ledgerEvents(temp.store)).slice(before);
    expect(written.map((event) => [event.streamName, event.type])).to.deep.equal([
      [paymentStream(payment.id), 'PaymentRefundRequested'],
      [paymentStream(payment.id), 'PaymentRefundFailed'],
    ]);
    const released = paymentCatalog.decode(written[1]!) as PaymentCatalogEvent;
    expect(released.type === 'PaymentRefundFailed' && released.data.reason.type).to.equal('provider-declined');
    expect((await move(api, payment.id, 'refunds', { amount: '4000' }, key)).status).to.equal(422);
    expect(asked.refunds).to.equal(1);
    expect(await postedOf(api, merchant)).to.equal(10_000n);
    expect((await api.get(`/v1/payments/${payment.id}`)).body).to.include({ refunded: '0', refundable: '10000' });
    await expectBooksBalanced(temp.store);
  });
});

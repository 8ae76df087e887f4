/**
 * A deferred callback tried again is judged on the payment's stream as it is when recorded: another
 * writer may have moved it meanwhile (a settlement started), and the callback is deferred again.
 * It is applied only as recorded, and tried again once the payment allows it, never replayed as the
 * earlier redelivery, which would leave it deferred and try it again forever under the payment's lock.
 */
import { expect } from 'chai';
import { collect, paymentCatalog, paymentStream, type PaymentCatalogEvent } from '@folio/shared';
import { createPaymentCommandHandler } from '../../src/payments/paymentCommandHandler.js';
import { ApiServer, expectBooksBalanced } from '../api/apiHarness.js';
import { interceptAppends } from '../commandHandling/testSupport.js';
import { asSharedLog } from '../concurrency/twoInstances.js';
import { openTempStore, type TempStore } from '../tempEventStore.js';
import { createPayment, expectMoved, move, openMerchant, paymentCallback, postedOf, quietSandbox, sendCallback } from './paymentTestSupport.js';

describe('deferred callbacks deferred again by another writer', () => {
  let temp: TempStore;
  let api: ApiServer;
  /** Runs once, just before the next redelivery of a deferred callback reaches the log. */
  let beforeRedelivery: (() => Promise<void>) | undefined;

  beforeEach(async () => {
    temp = openTempStore();
    beforeRedelivery = undefined;
    const shared = asSharedLog(temp.store);
    api = await ApiServer.start(temp.store, {
      ...quietSandbox,
      eventStore: interceptAppends(shared, async (call, proceed) => {
        const redelivery = call.events.some((event) =>
          String((event.metadata as { commandId?: unknown } | undefined)?.commandId).startsWith('redelivered-'),
        );
        const before = beforeRedelivery;
        if (redelivery && before !== undefined) {
          beforeRedelivery = undefined;
          await before();
        }
        return proceed();
      }),
    });
  });
  afterEach(async () => {
    await api.stop();
    await temp.dispose();
  });

  const events = async (paymentId: string) =>
    (await collect(temp.store.readStream(paymentStream(paymentId)))).map((recorded) => paymentCatalog.decode(recorded) as PaymentCatalogEvent);

  it('applies a refund deferred again by a settlement another writer started once, after the settlement, without looping', async () => {
    const merchant = await openMerchant(api);
    const created = await createPayment(api, merchant);
    const payment = expectMoved(await move(api, created.id, 'submit'), 'PENDING');
    const refund = paymentCallback('payment.refunded', payment, { amount: '2500', refundReference: 're_deferred' });
    const deferred = await sendCallback(api, refund);
    expect(deferred.status, deferred.text).to.equal(200);
    // Another writer starts the settlement once the capture makes the refund applicable here.
    const other = createPaymentCommandHandler(asSharedLog(temp.store));
    beforeRedelivery = async () => {
      const context = { commandId: `other-settle-${payment.id}`, correlationId: 'other', actor: 'other-writer', now: new Date() };
      await other.handle(paymentStream(payment.id), { type: 'StartSettlement', fee: 300n, at: new Date().toISOString() }, context);
    };
    expectMoved(await move(api, payment.id, 'capture'), 'PAID');
    expect(beforeRedelivery, 'the refund was tried again').to.equal(undefined);
    const after = (await api.get(`/v1/payments/${payment.id}`)).body;
    expect(after).to.include({ state: 'SETTLED', fee: '300', refunded: '2500' });
    const recorded = await events(payment.id);
    expect(recorded.filter((event) => event.type === 'PaymentRefunded')).to.have.length(1);
    const outcomes = recorded.flatMap((event) =>
      event.type === 'PaymentCallbackRecorded' && event.data.eventId === refund.id ? [event.data.outcome] : [],
    );
    expect(outcomes).to.deep.equal(['deferred', 'deferred', 'applied']);
    expect(await postedOf(api, merchant)).to.equal(7_500n);
    await expectBooksBalanced(temp.store);
  });
});

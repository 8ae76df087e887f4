/**
 * A merchant route recorded before `PaymentRouteChosen` named the merchant's account still keeps
 * that account open while its journal waits: the account is read from the payment's stream.
 */
import { expect } from 'chai';
import { collect, createEventCatalog, deterministicEventId, paymentStream, type AppendOptions, type EventStore, type EventToAppend } from '@folio/shared';
import { appendPayment, paymentEvent, paymentIdOf, snowflakeOf } from '@folio/shared/testing';
import {
  createMerchantJournalsWaiting,
  MERCHANT_JOURNALS_CHECKPOINT_STREAM,
  merchantJournalsWaitingCheckpointed,
} from '../../src/payments/merchantJournalsWaiting.js';
import { ApiServer, expectProblem, openTempStore } from '../api/apiHarness.js';
import { holdAppends, journalOf, startTwoInstances, type TwoInstances } from '../concurrency/twoInstances.js';
import { createPayment, expectMoved, move, openMerchant, paymentCallback, quietSandbox, sendCallback } from './paymentTestSupport.js';

/** A route as written before it named the merchant's account. */
const withoutAccount = (event: EventToAppend): EventToAppend => {
  if (event.type !== 'PaymentRouteChosen') return event;
  const { accountId: _named, ...data } = event.data;
  return { ...event, data };
};

/** The log as the version before named the account writes to it. */
const writingRoutesWithoutAccount = (store: EventStore): EventStore =>
  new Proxy(store, {
    get(target, property) {
      if (property === 'appendToStream') {
        return (streamName: string, events: readonly EventToAppend[], options?: AppendOptions) =>
          target.appendToStream(streamName, events.map(withoutAccount), options);
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

const lifecycle = (api: ApiServer, accountId: string, action: 'freeze' | 'unfreeze' | 'close') =>
  api.post(`/v1/accounts/${accountId}/${action}`, {});

describe('payment journals waiting on a merchant account named only by their payment', () => {
  let instances: TwoInstances;
  let gate: ReturnType<typeof holdAppends>;

  afterEach(async () => {
    gate.release();
    await instances.close();
  });

  it('refuses to close the merchant account while a capture routed to it without naming it waits, and closes it once the capture posts and is paid out', async () => {
    gate = holdAppends((call) => {
      const journal = journalOf(call);
      return journal?.kind === 'capture' && journal.leg === 'first';
    });
    instances = await startTwoInstances({
      api: quietSandbox,
      wrap: { a: (store) => gate.wrap(writingRoutesWithoutAccount(store)), b: writingRoutesWithoutAccount },
    });
    const merchant = await openMerchant(instances.a);
    const created = await createPayment(instances.a, merchant);
    const payment = expectMoved(await move(instances.a, created.id, 'submit'), 'PENDING');
    const reported = sendCallback(instances.a, paymentCallback('payment.captured', payment));
    await gate.reached;
    expect((await lifecycle(instances.b, merchant, 'freeze')).status).to.equal(200);
    gate.release();
    expect((await reported).status).to.equal(503);

    const events = await collect(instances.store.readStream(paymentStream(payment.id)));
    const route = events.find((event) => event.type === 'PaymentRouteChosen');
    expect(route?.data).to.include({ route: 'merchant' }).and.not.to.have.property('accountId');
    const { captureJournalId } = events[0]!.data as { captureJournalId: string };

    const refused = expectProblem(await lifecycle(instances.b, merchant, 'close'), 409, 'account-payment-journals-waiting');
    expect(refused.journals).to.deep.equal([{ paymentId: payment.id, move: 'capture', journalId: captureJournalId }]);

    expect((await lifecycle(instances.b, merchant, 'unfreeze')).status).to.equal(200);
    expect((await instances.a.get(`/v1/payments/${payment.id}`)).body).to.include({ state: 'PAID', flaggedForReconciliation: false });
    const customer = (await instances.b.openAccount({ kind: 'customer', currency: 'EUR', ownerId: 'customer-1' })).id as string;
    const emptied = await instances.b.transfer(merchant, customer, '10000');
    expect(emptied.status, emptied.text).to.be.oneOf([200, 201]);
    const closed = await lifecycle(instances.b, merchant, 'close');
    expect(closed.status, closed.text).to.equal(200);
  });
});

describe('merchant journals checkpointed before their account was read', () => {
  it('reads the account of a journal checkpointed without one when it starts from that checkpoint', async () => {
    const temp = openTempStore();
    const at = '2025-03-01T10:00:00.000Z';
    const paymentId = paymentIdOf(1);
    const journalId = snowflakeOf(10_000_003);
    const merchant = snowflakeOf(1_000_000);
    await appendPayment(temp.store, { n: 1, amount: 10_000n, at, until: 'submitted' });
    const route = { paymentId, move: 'capture' as const, journalId, route: 'merchant' as const, chosenAt: at };
    const { position } = await temp.store.appendToStream(paymentStream(paymentId), [paymentEvent({ type: 'PaymentRouteChosen', data: route }, at)]);
    await temp.store.appendToStream(MERCHANT_JOURNALS_CHECKPOINT_STREAM, [
      createEventCatalog([merchantJournalsWaitingCheckpointed]).encode({
        type: merchantJournalsWaitingCheckpointed.type,
        id: deterministicEventId(MERCHANT_JOURNALS_CHECKPOINT_STREAM, position.toString()),
        version: merchantJournalsWaitingCheckpointed.version,
        data: { position, journals: [{ paymentId, move: 'capture', journalId }], payments: [] },
        metadata: { $correlationId: 'merchant-journals', actor: 'folio:merchant-journals', occurredAt: at },
      }),
    ]);
    const problems: unknown[] = [];
    const journals = createMerchantJournalsWaiting({
      eventStore: temp.store,
      clock: () => new Date(at),
      checkpointEveryMs: 60_000,
      onError: (error) => problems.push(error),
      onWarning: (_message, error) => problems.push(error),
    });
    try {
      journals.start();
      expect((await journals.waitingOn(merchant, 2_000))?.journals).to.deep.equal([{ paymentId, move: 'capture', journalId, accountId: merchant }]);
      expect((await journals.waitingOn(snowflakeOf(1_000_001), 2_000))?.journals).to.deep.equal([]);
      expect(problems).to.deep.equal([]);
    } finally {
      await journals.stop();
      await temp.dispose();
    }
  });
});

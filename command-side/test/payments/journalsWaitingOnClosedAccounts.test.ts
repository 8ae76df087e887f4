/**
 * A capture or refund routed to the merchant's account waits while that account refuses it (frozen,
 * spent), and is posted once the account takes it again. A closed account never does: a close is
 * refused while such a journal waits, and a journal left waiting on an account closed all the same
 * (before closes were refused so, or by a race between instances) is booked to suspense, once.
 */
import { expect } from 'chai';
import { collect, journalStream, paymentStream, systemAccountId } from '@folio/shared';
import { ApiServer, expectProblem } from '../api/apiHarness.js';
import { expectBooksRight, holdAppends, journalOf, startTwoInstances, type TwoInstances } from '../concurrency/twoInstances.js';
import {
  clearingId,
  closedUnchecked,
  createPayment,
  expectMoved,
  move,
  openMerchant,
  paymentCallback,
  postedOf,
  quietSandbox,
  sendCallback,
} from './paymentTestSupport.js';

const suspense = systemAccountId({ role: 'suspense', currency: 'EUR' });

const lifecycle = (api: ApiServer, accountId: string, action: 'freeze' | 'unfreeze' | 'close') =>
  api.post(`/v1/accounts/${accountId}/${action}`, {});

const expectLifecycle = async (api: ApiServer, accountId: string, action: 'freeze' | 'unfreeze' | 'close') => {
  const response = await lifecycle(api, accountId, action);
  expect(response.status, response.text).to.equal(200);
};

const moneyOf = async (api: ApiServer, merchant: string) => ({
  merchant: await postedOf(api, merchant),
  suspense: await postedOf(api, suspense),
  clearing: await postedOf(api, clearingId()),
});

/** Every journal of `kind` with `id` ended once, on its own stream. */
const journalEndings = async (instances: TwoInstances, kind: 'capture' | 'refund' | 'correction', id: string) => {
  try {
    return (await collect(instances.store.readStream(journalStream(kind, id)))).filter((event) => event.type.startsWith('Journal')).length;
  } catch {
    return 0;
  }
};

describe('payment journals waiting on a merchant account that is closed', () => {
  let instances: TwoInstances;
  let gate: ReturnType<typeof holdAppends>;

  /**
   * Two instances on one log, A's appends of the first leg of a `kind` journal held at the gate, a
   * merchant and a payment to it submitted on A.
   */
  const submitted = async (kind: 'capture' | 'refund') => {
    gate = holdAppends((call) => {
      const journal = journalOf(call);
      return journal?.kind === kind && journal.leg === 'first';
    });
    instances = await startTwoInstances({ api: quietSandbox, wrap: { a: gate.wrap } });
    const merchant = await openMerchant(instances.a);
    const created = await createPayment(instances.a, merchant);
    const payment = expectMoved(await move(instances.a, created.id, 'submit'), 'PENDING');
    return { merchant, payment };
  };

  /** A capture reported on A, routed to the merchant, which B freezes before its journal: it waits. */
  const captureWaiting = async () => {
    const { merchant, payment } = await submitted('capture');
    const reported = sendCallback(instances.a, paymentCallback('payment.captured', payment));
    await gate.reached;
    await expectLifecycle(instances.b, merchant, 'freeze');
    gate.release();
    const answer = await reported;
    expect(answer.status, answer.text).to.equal(503);
    expect(answer.body.type).to.match(/payment-journal-waiting$/);
    return { merchant, payment };
  };

  const captureJournalOf = async (paymentId: string): Promise<string> => {
    const [created] = await collect(instances.store.readStream(paymentStream(paymentId), { maxCount: 1 }));
    return (created!.data as { captureJournalId: string }).captureJournalId;
  };

  afterEach(async () => {
    gate.release();
    await instances.close();
  });

  it('refuses to close a merchant account while a capture routed to it waits, and posts the capture once it is unfrozen', async () => {
    const { merchant, payment } = await captureWaiting();
    const refused = expectProblem(await lifecycle(instances.b, merchant, 'close'), 409, 'account-payment-journals-waiting');
    expect(refused.journals).to.deep.equal([{ paymentId: payment.id, move: 'capture', journalId: await captureJournalOf(payment.id) }]);
    expect(refused.detail).to.include(payment.id);
    expect((await instances.a.account(merchant)).status).to.equal('frozen');
    await expectLifecycle(instances.b, merchant, 'unfreeze');
    expect((await instances.a.get(`/v1/payments/${payment.id}`)).body).to.include({ state: 'PAID', captured: '10000', flaggedForReconciliation: false });
    expect(await moneyOf(instances.a, merchant)).to.deep.equal({ merchant: 10_000n, suspense: 0n, clearing: -10_000n });
    await expectBooksRight(instances.store);
  });

  it('books to suspense, once, a capture left waiting on a merchant account closed all the same, whoever touches it', async () => {
    const { merchant, payment } = await captureWaiting();
    await closedUnchecked(instances.store, merchant);
    const touches = await Promise.all([
      instances.a.get(`/v1/payments/${payment.id}`),
      instances.b.get(`/v1/payments/${payment.id}`),
      move(instances.a, payment.id, 'capture'),
      move(instances.b, payment.id, 'capture'),
      sendCallback(instances.b, paymentCallback('payment.captured', payment)),
    ]);
    for (const touch of touches) expect(touch.status, touch.text).to.be.below(500);
    for (const api of [instances.a, instances.b]) {
      expect((await api.get(`/v1/payments/${payment.id}`)).body).to.include({ state: 'PAID', captured: '10000', flaggedForReconciliation: true });
    }
    expect(await moneyOf(instances.a, merchant)).to.deep.equal({ merchant: 0n, suspense: 10_000n, clearing: -10_000n });
    const captureJournal = await captureJournalOf(payment.id);
    expect(await journalEndings(instances, 'correction', captureJournal)).to.equal(1);
    expect(await journalEndings(instances, 'capture', captureJournal)).to.equal(0);
    const events = (await collect(instances.store.readStream(paymentStream(payment.id)))).map((event) => event.type);
    expect(events.filter((type) => type === 'PaymentCaptured')).to.have.length(1);
    await expectBooksRight(instances.store);
  });

  it('pays from suspense, once, a refund left waiting on a merchant account that was emptied and closed', async () => {
    const { merchant, payment } = await submitted('refund');
    expectMoved(await move(instances.b, payment.id, 'capture'), 'PAID');
    const reported = sendCallback(instances.a, paymentCallback('payment.refunded', payment, { amount: '2500', refundReference: 're_waiting' }));
    await gate.reached;
    const customer = (await instances.b.openAccount({ kind: 'customer', currency: 'EUR', ownerId: 'customer-1' })).id as string;
    const spent = await instances.b.transfer(merchant, customer, '10000');
    expect(spent.status, spent.text).to.be.oneOf([200, 201]);
    gate.release();
    expect((await reported).status).to.equal(503);
    await closedUnchecked(instances.store, merchant);
    const touches = await Promise.all([instances.a.get(`/v1/payments/${payment.id}`), instances.b.get(`/v1/payments/${payment.id}`)]);
    for (const touch of touches) expect(touch.status, touch.text).to.equal(200);
    expect((await instances.b.get(`/v1/payments/${payment.id}`)).body).to.include({
      refunded: '2500',
      refundable: '7500',
      flaggedForReconciliation: true,
    });
    expect(await moneyOf(instances.a, merchant)).to.deep.equal({ merchant: 0n, suspense: -2_500n, clearing: -7_500n });
    await expectBooksRight(instances.store);
  });
});

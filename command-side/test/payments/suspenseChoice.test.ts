/**
 * A capture or refund the merchant's account refused is booked to or paid from suspense. Where the
 * money goes is fixed on the payment's stream before either journal is posted: a later run (a
 * retry after a crash mid-correction, another instance's repair) follows that choice even once the
 * account would take the money, so the provider's money is never paid twice.
 */
import { expect } from 'chai';
import { StoreUnavailableError, systemAccountId } from '@folio/shared';
import type { ProviderAdapter } from '../../src/providers/providerAdapter.js';
import { ApiServer, expectBooksBalanced } from '../api/apiHarness.js';
import { interceptAppends } from '../commandHandling/testSupport.js';
import { holdAppends, journalOf, startTwoInstances } from '../concurrency/twoInstances.js';
import { openTempStore, type TempStore } from '../tempEventStore.js';
import {
  clearingId,
  createPayment,
  expectMoved,
  move,
  openMerchant,
  paymentCallback,
  postedOf,
  quietSandbox,
  SANDBOX_SECRET,
  sendCallback,
} from './paymentTestSupport.js';

const suspense = systemAccountId({ role: 'suspense', currency: 'EUR' });

const setStatus = async (api: ApiServer, accountId: string, action: 'freeze' | 'unfreeze') => {
  const response = await api.post(`/v1/accounts/${accountId}/${action}`, {});
  expect(response.status, response.text).to.equal(200);
};

describe('suspense chosen for money the merchant refused', () => {
  describe('one instance, stopped mid-correction', () => {
    let temp: TempStore;
    let api: ApiServer;
    /** The next append of a correction's second leg fails once, as a crash would leave it. */
    let crashCorrection: boolean;

    const provider: ProviderAdapter = {
      provider: 'sandbox',
      submitPayment: async ({ paymentId }) => ({ providerRef: `pi_${paymentId}` }),
      refundPayment: async ({ refundId }) => ({ providerRefundRef: `re_${refundId}` }),
      findPayment: () => Promise.reject(new Error('no references given in these tests')),
      submitPayout: () => Promise.reject(new Error('no payouts in these tests')),
    };

    const start = () =>
      ApiServer.start(temp.store, {
        sandboxProviders: [],
        providers: [{ adapter: provider, secret: SANDBOX_SECRET }],
        eventStore: interceptAppends(temp.store, (call, proceed) => {
          const journal = journalOf(call);
          if (crashCorrection && journal?.kind === 'correction' && journal.leg === 'second') {
            crashCorrection = false;
            return Promise.reject(new StoreUnavailableError('the store went away'));
          }
          return proceed();
        }),
      });

    beforeEach(async () => {
      temp = openTempStore();
      crashCorrection = false;
      api = await start();
    });
    afterEach(async () => {
      await api.stop();
      await temp.dispose();
    });

    /** A restart resumes the movements left in transit. */
    const restart = async () => {
      await api.stop();
      api = await start();
    };

    it('does not credit the merchant, unfrozen before the retry, for a capture whose suspense correction was cut short', async () => {
      const merchant = await openMerchant(api);
      const created = await createPayment(api, merchant);
      const payment = expectMoved(await move(api, created.id, 'submit'), 'PENDING');
      await setStatus(api, merchant, 'freeze');
      crashCorrection = true;
      expect((await sendCallback(api, paymentCallback('payment.captured', payment))).status).to.be.at.least(500);
      expect(crashCorrection, 'the correction was started').to.equal(false);
      await setStatus(api, merchant, 'unfreeze');
      expect((await api.get(`/v1/payments/${payment.id}`)).status).to.equal(200);
      await restart();
      expect({ merchant: await postedOf(api, merchant), suspense: await postedOf(api, suspense), clearing: await postedOf(api, clearingId()) })
        .to.deep.equal({ merchant: 0n, suspense: 10_000n, clearing: -10_000n });
      expect((await api.get(`/v1/payments/${payment.id}`)).body).to.include({ state: 'PAID', captured: '10000', flaggedForReconciliation: true });
      await expectBooksBalanced(temp.store);
    });

    it('does not debit the merchant, unfrozen before the retry, for a refund whose suspense correction was cut short', async () => {
      const merchant = await openMerchant(api);
      const created = await createPayment(api, merchant);
      expectMoved(await move(api, created.id, 'submit'), 'PENDING');
      const payment = expectMoved(await move(api, created.id, 'capture'), 'PAID');
      await setStatus(api, merchant, 'freeze');
      crashCorrection = true;
      const reported = await sendCallback(api, paymentCallback('payment.refunded', payment, { amount: '2500', refundReference: 're_cut' }));
      expect(reported.status, reported.text).to.be.at.least(500);
      expect(crashCorrection, 'the correction was started').to.equal(false);
      await setStatus(api, merchant, 'unfreeze');
      expect((await api.get(`/v1/payments/${payment.id}`)).status).to.equal(200);
      await restart();
      expect({ merchant: await postedOf(api, merchant), suspense: await postedOf(api, suspense), clearing: await postedOf(api, clearingId()) })
        .to.deep.equal({ merchant: 10_000n, suspense: -2_500n, clearing: -7_500n });
      expect((await api.get(`/v1/payments/${payment.id}`)).body).to.include({ refunded: '2500', refundable: '7500', flaggedForReconciliation: true });
      await expectBooksBalanced(temp.store);
    });
  });

  describe('two instances on one log', () => {
    /**
     * Two instances, A's appends of the `leg` leg of a `kind` journal held at the gate, and a
     * payment to a new merchant submitted on A.
     */
    const submittedOnHeldInstance = async (kind: string, leg: string) => {
      const gate = holdAppends((call) => {
        const journal = journalOf(call);
        return journal?.kind === kind && journal.leg === leg;
      });
      const instances = await startTwoInstances({ api: quietSandbox, wrap: { a: gate.wrap } });
      const merchant = await openMerchant(instances.a);
      const created = await createPayment(instances.a, merchant);
      const payment = expectMoved(await move(instances.a, created.id, 'submit'), 'PENDING');
      return { gate, instances, merchant, payment };
    };

    it("books a capture to suspense once when another instance's repair runs while the correction is in transit and the merchant was unfrozen", async () => {
      const { gate, instances, merchant, payment } = await submittedOnHeldInstance('correction', 'second');
      try {
        const { a, b } = instances;
        await setStatus(a, merchant, 'freeze');
        const reported = sendCallback(a, paymentCallback('payment.captured', payment));
        await gate.reached;
        await setStatus(b, merchant, 'unfreeze');
        const repaired = await b.get(`/v1/payments/${payment.id}`);
        gate.release();
        const answer = await reported;
        expect(answer.status, answer.text).to.equal(200);
        expect(repaired.status, repaired.text).to.equal(200);
        expect({ merchant: await postedOf(a, merchant), suspense: await postedOf(a, suspense), clearing: await postedOf(a, clearingId()) })
          .to.deep.equal({ merchant: 0n, suspense: 10_000n, clearing: -10_000n });
        for (const api of [a, b]) {
          expect((await api.get(`/v1/payments/${payment.id}`)).body).to.include({ state: 'PAID', captured: '10000', flaggedForReconciliation: true });
        }
        await expectBooksBalanced(instances.store);
      } finally {
        gate.release();
        await instances.close();
      }
    });

    it('keeps a capture routed to the merchant waiting, never booked to suspense, when the account is frozen just before its journal', async () => {
      const { gate, instances, merchant, payment } = await submittedOnHeldInstance('capture', 'first');
      try {
        const { a, b } = instances;
        const reported = sendCallback(a, paymentCallback('payment.captured', payment));
        await gate.reached;
        await setStatus(b, merchant, 'freeze');
        gate.release();
        const answer = await reported;
        expect(answer.status, answer.text).to.equal(503);
        expect(answer.body.type).to.match(/payment-journal-waiting$/);
        expect((await b.get(`/v1/payments/${payment.id}`)).body).to.include({ state: 'PENDING', captured: '0' });
        expect({ merchant: await postedOf(b, merchant), suspense: await postedOf(b, suspense) }).to.deep.equal({ merchant: 0n, suspense: 0n });
        await setStatus(b, merchant, 'unfreeze');
        expect((await b.get(`/v1/payments/${payment.id}`)).body).to.include({ state: 'PAID', captured: '10000', flaggedForReconciliation: false });
        expect({ merchant: await postedOf(a, merchant), suspense: await postedOf(a, suspense), clearing: await postedOf(a, clearingId()) })
          .to.deep.equal({ merchant: 10_000n, suspense: 0n, clearing: -10_000n });
        await expectBooksBalanced(instances.store);
      } finally {
        gate.release();
        await instances.close();
      }
    });
  });
});

/**
 * Refunds racing on one payment: requests with new and repeated idempotency keys, refunds the
 * provider reports (some delivered twice) and reads, all at once. Whatever wins, the books refund
 * exactly what the provider paid back, never more than was captured.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { ProviderAdapter } from '../../src/providers/providerAdapter.js';
import { ApiServer, expectBooksBalanced, uniqueKey, type ApiResponse } from '../api/apiHarness.js';
import { openTempStore, type TempStore } from '../tempEventStore.js';
import {
  createPayment,
  expectMoved,
  move,
  openMerchant,
  paymentCallback,
  postedOf,
  SANDBOX_SECRET,
  sendCallback,
} from './paymentTestSupport.js';

describe('refunds racing on one payment (property)', function () {
  this.timeout(120_000);
  let temp: TempStore;
  let api: ApiServer;
  /** What the provider paid back for the refunds Folio asked for, by its reference. */
  const asked = new Map<string, bigint>();

  const provider: ProviderAdapter = {
    provider: 'sandbox',
    submitPayment: async ({ paymentId }) => ({ providerRef: `pi_${paymentId}` }),
    async refundPayment({ refundId, amount }) {
      const providerRefundRef = `re_${refundId}`;
      if (!asked.has(providerRefundRef)) asked.set(providerRefundRef, amount);
      return { providerRefundRef };
    },
    findPayment: () => Promise.reject(new Error('no references given in these tests')),
    submitPayout: () => Promise.reject(new Error('no payouts in these tests')),
  };

  before(async () => {
    temp = openTempStore();
    api = await ApiServer.start(temp.store, { sandboxProviders: [], providers: [{ adapter: provider, secret: SANDBOX_SECRET }] });
  });
  after(async () => {
    await api.stop();
    await temp.dispose();
  });

  type Step = { kind: 'request'; amount: bigint; key: number } | { kind: 'reported'; amount: bigint; copies: number } | { kind: 'read' };
  const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ kind: fc.constant('request' as const), amount: fc.bigInt({ min: 1n, max: 3_000n }), key: fc.integer({ min: 0, max: 5 }) }),
    fc.record({ kind: fc.constant('reported' as const), amount: fc.bigInt({ min: 1n, max: 3_000n }), copies: fc.integer({ min: 1, max: 2 }) }),
    fc.constant({ kind: 'read' as const }),
  );

  it('books exactly what the provider refunded, within the captured amount', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArbitrary, { minLength: 5, maxLength: 25 }), async (steps) => {
        asked.clear();
        const merchant = await openMerchant(api);
        const payment = expectMoved(await move(api, (await createPayment(api, merchant)).id, 'submit'), 'PENDING');
        expectMoved(await move(api, payment.id, 'capture'), 'PAID');
        const keys = Array.from({ length: 6 }, () => uniqueKey('refund'));
        /** A key is one request: its retries repeat its amount. */
        const amountOfKey = new Map<number, bigint>();
        const reported: { reference: string; amount: bigint; response: Promise<ApiResponse>[] }[] = [];
        const answers = steps.map((step, index) => {
          if (step.kind === 'read') return api.get(`/v1/payments/${payment.id}`);
          if (step.kind === 'request') {
            const amount = amountOfKey.get(step.key) ?? step.amount;
            amountOfKey.set(step.key, amount);
            return move(api, payment.id, 'refunds', { amount: amount.toString() }, keys[step.key]);
          }
          const reference = `re_reported_${payment.id}_${index}`;
          const callback = paymentCallback('payment.refunded', payment, { amount: step.amount.toString(), refundReference: reference });
          const signedAt = Math.floor(Date.now() / 1000);
          const copies = Array.from({ length: step.copies }, (_, copy) => sendCallback(api, callback, { timestamp: signedAt - copy }));
          reported.push({ reference, amount: step.amount, response: copies });
          return copies[0]!;
        });
        const settled = await Promise.all([...answers, ...reported.flatMap((entry) => entry.response)]);
        for (const answer of settled) expect(answer.status, answer.text).to.be.below(500);

        // The provider paid back what Folio asked for and what it reports applied (not superseded).
        let providerRefunded = [...asked.values()].reduce((sum, amount) => sum + amount, 0n);
        for (const entry of reported) {
          const outcomes = (await Promise.all(entry.response)).map((response) => response.body.outcome as string);
          if (outcomes.includes('applied')) providerRefunded += entry.amount;
        }
        const after = (await api.get(`/v1/payments/${payment.id}`)).body;
        expect(BigInt(after.refunded)).to.equal(providerRefunded);
        expect(providerRefunded <= 10_000n).to.equal(true);
        expect(BigInt(after.refundable)).to.equal(10_000n - providerRefunded);
        expect(await postedOf(api, merchant)).to.equal(10_000n - providerRefunded);
        expect(after.state).to.equal(providerRefunded === 10_000n ? 'REFUNDED' : 'PAID');
      }),
      { numRuns: 15 },
    );
    await expectBooksBalanced(temp.store);
  });
});

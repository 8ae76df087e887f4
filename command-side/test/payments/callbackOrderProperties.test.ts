/**
 * Property: whatever order the provider's callbacks of one payment arrive in, and however often
 * each is repeated, the payment ends the same way and the books agree with it.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { createApiHarness, expectBooksBalanced, type ApiHarness, type ApiServer } from '../api/apiHarness.js';
import {
  clearingId,
  createPayment,
  expectMoved,
  move,
  openMerchant,
  paymentCallback,
  postedOf,
  quietSandbox,
  sendCallback,
} from './paymentTestSupport.js';

describe('provider callbacks in any order (property)', function () {
  this.timeout(60_000);
  let harness: ApiHarness;
  let api: ApiServer;

  before(async () => {
    harness = await createApiHarness(quietSandbox);
    api = harness.api;
  });
  after(() => harness.close());

  it('capture, settlement and a refund, shuffled and repeated, always end SETTLED with the refund booked once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.bigInt({ min: 1_000n, max: 100_000n }),
        fc.bigInt({ min: 1n, max: 90n }),
        fc.shuffledSubarray([0, 0, 1, 1, 2, 2], { minLength: 6, maxLength: 6 }),
        fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
        async (amount, refundPercent, order, repeated) => {
          const merchant = await openMerchant(api);
          const payment = expectMoved(
            await move(api, (await createPayment(api, merchant, amount.toString())).id, 'submit'),
            'PENDING',
          );
          const refund = (amount * refundPercent) / 100n;
          const fee = amount / 50n;
          const callbacks = [
            paymentCallback('payment.captured', payment, { amount: amount.toString() }),
            paymentCallback('payment.settled', payment, { fee: fee.toString() }),
            paymentCallback('payment.refunded', payment, { amount: refund.toString(), refundReference: `re_${payment.id}` }),
          ];
          // Each callback once, plus a copy of those chosen to repeat, in the shuffled order.
          const seen = new Set<number>();
          const signedAt = Math.floor(Date.now() / 1000);
          for (const index of order) {
            if (seen.has(index) && !repeated[index]) continue;
            const response = await sendCallback(api, callbacks[index]!, { timestamp: signedAt - (seen.has(index) ? 1 : 0) });
            expect(response.status, response.text).to.equal(200);
            seen.add(index);
          }
          const after = (await api.get(`/v1/payments/${payment.id}`)).body;
          expect(after).to.include({
            state: 'SETTLED',
            refunded: refund.toString(),
            fee: fee.toString(),
            flaggedForReconciliation: false,
          });
          expect(await postedOf(api, merchant)).to.equal(amount - refund);
        },
      ),
      { numRuns: 25 },
    );
    // Every settled payment's clearing is back at zero; refunds went out through clearing or the bank.
    expect(await postedOf(api, clearingId())).to.equal(0n);
    await expectBooksBalanced(harness.store);
  });
});

import { expect } from 'chai';
import type { PaymentCatalogEvent } from '@folio/shared';
import { paymentIdOf, snowflakeOf } from '@folio/shared/testing';
import { createOpenPayments } from '../../src/payments/openMerchantPayments.js';

const at = '2025-03-01T10:00:00.000Z';
const merchant = snowflakeOf(1_000_000);
const paymentId = paymentIdOf(1);
const refundId = snowflakeOf(20_000_001);

/** A decoded payment event: only its type and data are folded. */
const event = (type: PaymentCatalogEvent['type'], data: Record<string, unknown>) => ({ type, data }) as PaymentCatalogEvent;

const created = () =>
  event('PaymentCreated', {
    paymentId,
    merchantAccountId: merchant,
    amount: 10_000n,
    currency: 'EUR',
    provider: 'sandbox',
    captureJournalId: snowflakeOf(10_000_001),
    settlementJournalId: snowflakeOf(10_000_002),
    feeJournalId: snowflakeOf(10_000_003),
    createdAt: at,
  });

const captured = () => event('PaymentCaptured', { paymentId, amount: 10_000n, journalId: snowflakeOf(10_000_001), capturedAt: at });

const refundRequested = (fromCaptureInSuspense?: bigint) =>
  event('PaymentRefundRequested', {
    paymentId,
    refundId,
    amount: 2_500n,
    from: 'clearing',
    awaitsProvider: true,
    requestedAt: at,
    ...(fromCaptureInSuspense === undefined ? {} : { fromCaptureInSuspense }),
  });

describe('payments open on merchant accounts, as folded', () => {
  it('holds a payment awaiting its capture from its creation until it is captured or failed', () => {
    for (const ending of ['PaymentCaptured', 'PaymentFailed'] as const) {
      const open = createOpenPayments();
      open.apply(created());
      expect(open.on(merchant)).to.deep.equal([{ paymentId, awaiting: 'capture' }]);
      open.apply(ending === 'PaymentCaptured' ? captured() : event('PaymentFailed', { paymentId, reason: 'declined', failedAt: at }));
      expect(open.on(merchant), ending).to.deep.equal([]);
      expect(open.list(), ending).to.deep.equal([]);
    }
  });

  it('holds a refund the merchant pays until it ends, reading the merchant of a payment it no longer held', () => {
    const open = createOpenPayments();
    expect(open.apply(refundRequested())).to.equal(paymentId);
    expect(open.unnamed()).to.deep.equal([paymentId]);
    open.named(paymentId, merchant);
    expect(open.on(merchant)).to.deep.equal([{ paymentId, awaiting: 'refund' }]);
    const seeded = createOpenPayments(open.list());
    seeded.apply(event('PaymentRefundFailed', { paymentId, refundId, amount: 2_500n, reason: { type: 'provider-declined', detail: 'no' }, failedAt: at }));
    expect(seeded.on(merchant)).to.deep.equal([]);
    expect(open.on(merchant), 'the fold seeded from is left as it was').to.have.length(1);
  });

  it('does not hold a refund paid wholly from the suspense booking of its capture: the merchant pays none of it', () => {
    const open = createOpenPayments();
    open.apply(created());
    open.apply(captured());
    expect(open.apply(refundRequested(2_500n))).to.equal(undefined);
    expect(open.list()).to.deep.equal([]);
    open.apply(refundRequested(1_000n));
    expect(open.unnamed()).to.deep.equal([paymentId]);
  });
});

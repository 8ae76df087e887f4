import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  collect,
  openSqliteDocumentStore,
  openSqliteEventStore,
  paymentCatalog,
  paymentStream,
  payoutStream,
  type DocumentStore,
  type PaymentCatalogEvent,
  type SqliteEventStore,
} from '@folio/shared';
import type { PaymentDocument } from '../src/payments/paymentDocument.js';
import type { PayoutDocument } from '../src/payments/payoutDocument.js';
import { paymentsProjection } from '../src/payments/paymentsProjection.js';
import { liveCollections } from '../src/runtime/projection.js';
import { tempPath } from './fixtures/ledgerFixture.js';

const PAYMENT = '7300000000000000001';
const PAYOUT = '7300000000000000002';
const MERCHANT = '7300000000000000003';
const at = (second: number) => new Date(Date.UTC(2026, 2, 1, 10, 0, second)).toISOString();

describe('payments projection', () => {
  let log: SqliteEventStore;
  let documents: DocumentStore;
  const collections = liveCollections(paymentsProjection);

  beforeEach(() => {
    log = openSqliteEventStore({ path: tempPath('folio-payments-', 'events.sqlite') });
    documents = openSqliteDocumentStore({ path: tempPath('folio-payments-', 'readmodels.sqlite') });
  });

  afterEach(async () => {
    await documents.close();
    await log.close();
  });

  const append = (stream: string, type: PaymentCatalogEvent['type'], data: Record<string, unknown>) =>
    log.appendToStream(stream, [
      paymentCatalog.encode({
        type,
        data,
        id: randomUUID(),
        version: 1,
        metadata: { $correlationId: 'spec', actor: 'spec', occurredAt: at(0) },
      } as PaymentCatalogEvent),
    ]);

  const project = async (batchSize: number) => {
    const handler = paymentsProjection.create({ collections, searchIndexes: {} });
    const events = await collect(log.readAll());
    for (let i = 0; i < events.length; i += batchSize) {
      await documents.withTransaction((session) => handler.handle(events.slice(i, i + batchSize), session));
    }
  };

  const appendCreated = (payment: string) =>
    append(payment, 'PaymentCreated', {
      paymentId: PAYMENT,
      merchantAccountId: MERCHANT,
      amount: 10000n,
      currency: 'EUR',
      provider: 'sandbox',
      captureJournalId: '7300000000000000011',
      settlementJournalId: '7300000000000000012',
      feeJournalId: '7300000000000000013',
      createdAt: at(1),
    });

  const writeLifecycle = async () => {
    const payment = paymentStream(PAYMENT);
    await appendCreated(payment);
    await append(payment, 'PaymentSubmitted', { paymentId: PAYMENT, provider: 'sandbox', providerRef: 'pi_42', submittedAt: at(2) });
    const callback = { paymentId: PAYMENT, provider: 'sandbox', eventId: 'evt_1', callbackType: 'payment.captured', providerCreatedAt: at(3), detail: '', receivedAt: at(3) };
    await append(payment, 'PaymentCallbackRecorded', { ...callback, outcome: 'applied', flaggedForReconciliation: false });
    await append(payment, 'PaymentCaptured', { paymentId: PAYMENT, amount: 10000n, journalId: '7300000000000000011', capturedAt: at(3), callbackEventId: 'evt_1' });
    await append(payment, 'PaymentCallbackRecorded', { ...callback, outcome: 'duplicate', flaggedForReconciliation: false });
    await append(payment, 'PaymentRefundRequested', { paymentId: PAYMENT, refundId: '7300000000000000021', amount: 3000n, from: 'clearing', requestedAt: at(4) });
    await append(payment, 'PaymentRefundRequested', { paymentId: PAYMENT, refundId: '7300000000000000022', amount: 2000n, from: 'clearing', requestedAt: at(5) });
    await append(payment, 'PaymentRefunded', { paymentId: PAYMENT, refundId: '7300000000000000021', amount: 3000n, refundedTotal: 3000n, fullyRefunded: false, refundedAt: at(6) });
    await append(payment, 'PaymentCallbackRecorded', {
      ...callback,
      eventId: 'evt_2',
      callbackType: 'payment.failed',
      outcome: 'superseded',
      flaggedForReconciliation: true,
    });

    const payout = payoutStream(PAYOUT);
    await append(payout, 'PayoutRequested', {
      payoutId: PAYOUT,
      accountId: MERCHANT,
      amount: 1000n,
      currency: 'EUR',
      provider: 'sandbox',
      destination: 'DE02',
      requestedAt: at(7),
      deadline: at(59),
    });
    await append(payout, 'PayoutSubmitted', { payoutId: PAYOUT, providerRef: 'po_42', submittedAt: at(8) });
    await append(payout, 'PayoutFailed', { payoutId: PAYOUT, reason: 'no answer before the deadline', timedOut: true, failedAt: at(59) });
  };

  it('follows a payment: its state, money, refunds under way and done, callbacks, and when it reached each state', async () => {
    await writeLifecycle();
    await project(3);
    const payment = (await documents.get<PaymentDocument>(collections.payments!, PAYMENT))!;
    expect(payment).to.deep.include({
      state: 'PAID',
      providerRef: 'pi_42',
      captured: '10000',
      refunded: '3000',
      refundable: '5000',
      callbacks: { received: 3, flaggedForReconciliation: true },
      stateTimes: { CREATED: at(1), PENDING: at(2), PAID: at(3) },
    });
    expect(payment.refunds.map(({ refundId, state, at: when }) => ({ refundId, state, when }))).to.deep.equal([
      { refundId: '7300000000000000021', state: 'refunded', when: at(6) },
      { refundId: '7300000000000000022', state: 'requested', when: at(5) },
    ]);
    const payout = (await documents.get<PayoutDocument>(collections.payouts!, PAYOUT))!;
    expect(payout).to.deep.include({ state: 'FAILED', providerRef: 'po_42', timedOut: true, stateTimes: { PENDING: at(7), SUBMITTED: at(8), FAILED: at(59) } });
  });

  it('flags a payment whose provider answered with a reference another payment holds', async () => {
    const payment = paymentStream(PAYMENT);
    await appendCreated(payment);
    await append(payment, 'PaymentReferenceTaken', { paymentId: PAYMENT, provider: 'sandbox', providerRef: 'pi_taken', recordedAt: at(2) });
    await project(10);
    expect((await documents.get<PaymentDocument>(collections.payments!, PAYMENT))!).to.deep.include({
      state: 'CREATED',
      callbacks: { received: 0, flaggedForReconciliation: true },
    });
  });

  it('says which refunds await an answer from the provider, until their acceptance is recorded', async () => {
    const payment = paymentStream(PAYMENT);
    await appendCreated(payment);
    await append(payment, 'PaymentSubmitted', { paymentId: PAYMENT, provider: 'sandbox', providerRef: 'pi_42', submittedAt: at(2) });
    await append(payment, 'PaymentCaptured', { paymentId: PAYMENT, amount: 10000n, journalId: '7300000000000000011', capturedAt: at(3) });
    const asked = { paymentId: PAYMENT, from: 'clearing', awaitsProvider: true };
    await append(payment, 'PaymentRefundRequested', { ...asked, refundId: '7300000000000000021', amount: 3000n, requestedAt: at(4) });
    await append(payment, 'PaymentRefundRequested', { ...asked, refundId: '7300000000000000022', amount: 2000n, requestedAt: at(5) });
    await append(payment, 'PaymentRefundAccepted', { paymentId: PAYMENT, refundId: '7300000000000000021', providerRefundRef: 're_1', acceptedAt: at(6) });
    await project(2);
    const document = (await documents.get<PaymentDocument>(collections.payments!, PAYMENT))!;
    expect(document.refunds.map(({ refundId, state, awaitingProvider }) => ({ refundId, state, awaitingProvider }))).to.deep.equal([
      { refundId: '7300000000000000021', state: 'requested', awaitingProvider: false },
      { refundId: '7300000000000000022', state: 'requested', awaitingProvider: true },
    ]);
    expect(document.refundable).to.equal('5000');
  });

  it('shows a capture whose route to suspense was chosen as the write side does: pending until it is recorded', async () => {
    const payment = paymentStream(PAYMENT);
    await appendCreated(payment);
    await append(payment, 'PaymentSubmitted', { paymentId: PAYMENT, provider: 'sandbox', providerRef: 'pi_42', submittedAt: at(2) });
    const capture = { paymentId: PAYMENT, amount: 10000n, journalId: '7300000000000000011' };
    await append(payment, 'PaymentCaptureStarted', { ...capture, startedAt: at(3) });
    await append(payment, 'PaymentRouteChosen', {
      paymentId: PAYMENT,
      move: 'capture',
      journalId: capture.journalId,
      route: 'suspense',
      refusal: 'account-frozen: account is frozen',
      chosenAt: at(3),
    });
    await project(10);
    expect((await documents.get<PaymentDocument>(collections.payments!, PAYMENT))!).to.deep.include({ state: 'PENDING', captured: '0' });
    await append(payment, 'PaymentCaptured', { ...capture, capturedAt: at(4) });
    await project(10);
    expect((await documents.get<PaymentDocument>(collections.payments!, PAYMENT))!).to.deep.include({ state: 'PAID', captured: '10000' });
  });

  it('is idempotent: the same events applied twice, in any batches, leave the same read model', async () => {
    await writeLifecycle();
    await project(4);
    const once = [await documents.checksum(collections.payments!), await documents.checksum(collections.payouts!)];
    await project(1);
    await project(100);
    expect([await documents.checksum(collections.payments!), await documents.checksum(collections.payouts!)]).to.deep.equal(once);
  });
});

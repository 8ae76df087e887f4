/**
 * Provider callbacks recorded as applied whose change never followed: the process stopped, or the
 * store failed, between the record and the capture it calls for. The provider re-sends only on its
 * own schedule (the sandbox never), so callback recovery completes them without waiting for anyone
 * to touch the payment: at start-up, before the write API serves, what the log holds; while
 * running, those a failure left, on a schedule with backoff. Time is the write API's injected
 * clock, and the recovery's passes are run by the tests, never by a timer.
 */
import { expect } from 'chai';
import { collect, paymentCatalog, paymentStream, StoreUnavailableError, type EventStore } from '@folio/shared';
import { CALLBACK_RECOVERY_CHECKPOINT_STREAM } from '../../src/payments/callbackRecovery.js';
import type { ProviderAdapter } from '../../src/providers/providerAdapter.js';
import { ApiServer, openTempStore, readAllEvents, type TempStore } from '../api/apiHarness.js';
import { interceptAppends, noPeriodicCheck, recordSubscriptions, steppedClock } from '../commandHandling/testSupport.js';
import { expectBooksRight, startTwoInstances, type TwoInstances } from '../concurrency/twoInstances.js';
import { createPayment, expectMoved, move, openMerchant, paymentCallback, postedOf, SANDBOX_SECRET, sendCallback } from './paymentTestSupport.js';

const RETRY_MS = 60_000;


describe('provider callbacks recorded as applied whose change never followed, completed with no touch of the payment', () => {
  const { clock, advance, reset: resetClock } = steppedClock();
  /** The next append of an event of this type to a payment's stream fails, as a crash or a store gone away would leave it. */
  let failNext: string | undefined;
  /** What the write side warned an operator of. */
  let warnings: string[];

  const provider: ProviderAdapter = {
    provider: 'sandbox',
    submitPayment: async ({ paymentId }) => ({ providerRef: `pi_${paymentId}` }),
    refundPayment: () => Promise.reject(new Error('no refunds in these tests')),
    findPayment: () => Promise.reject(new Error('no references given in these tests')),
    submitPayout: () => Promise.reject(new Error('no payouts in these tests')),
  };
  const apiOptions = {
    clock,
    sandboxProviders: [],
    providers: [{ adapter: provider, secret: SANDBOX_SECRET }],
    callbackRetryMs: RETRY_MS,
    callbackRecoveryChecks: noPeriodicCheck,
    onWarning: (message: string) => warnings.push(message),
  };
  const failing = (store: EventStore) =>
    interceptAppends(store, (call, proceed) => {
      if (failNext !== undefined && call.streamName.startsWith('payment-') && call.events.some((event) => event.type === failNext)) {
        failNext = undefined;
        return Promise.reject(new StoreUnavailableError('the store went away'));
      }
      return proceed();
    });

  beforeEach(() => {
    resetClock();
    failNext = undefined;
    warnings = [];
  });

  const eventsOf = async (store: EventStore, paymentId: string) =>
    (await collect(store.readStream(paymentStream(paymentId)))).map((recorded) => paymentCatalog.decode(recorded));
  const capturesOf = async (store: EventStore, paymentId: string) =>
    (await eventsOf(store, paymentId)).filter((event) => event.type === 'PaymentCaptured');

  /**
   * A pending payment whose provider's capture callback is recorded as applied, the capture it
   * calls for then interrupted: the merchant is credited nothing. Sent before any clock is advanced
   * (its signature is checked against that clock).
   */
  const unappliedCapture = async (api: ApiServer, store: EventStore) => {
    const merchant = await openMerchant(api);
    const payment = await createPayment(api, merchant);
    const pending = expectMoved(await move(api, payment.id, 'submit'), 'PENDING');
    const callback = paymentCallback('payment.captured', pending);
    failNext = 'PaymentCaptureStarted';
    const sent = await sendCallback(api, callback);
    expect(sent.status, sent.text).to.be.at.least(500);
    const last = (await eventsOf(store, payment.id)).at(-1)!;
    expect(last.type).to.equal('PaymentCallbackRecorded');
    expect(last.data).to.include({ eventId: callback.id, outcome: 'applied' });
    expect(await postedOf(api, merchant)).to.equal(0n);
    return { merchant, paymentId: payment.id as string, eventId: callback.id };
  };

  describe('on one write API', () => {
    let temp: TempStore;
    let api: ApiServer;

    beforeEach(async () => {
      temp = openTempStore(clock);
      api = await ApiServer.start(temp.store, { ...apiOptions, eventStore: failing(temp.store) });
    });
    afterEach(async () => {
      await api.stop();
      await temp.dispose();
    });

    it('books a capture the provider confirmed when the next process starts, before it serves and with no read of the payment', async () => {
      const { merchant, paymentId } = await unappliedCapture(api, temp.store);
      await api.stop();

      api = await ApiServer.start(temp.store, apiOptions);
      const captures = await capturesOf(temp.store, paymentId);
      expect(captures, 'booked by the start').to.have.length(1);
      expect(captures[0]!.metadata.actor).to.equal('folio:payment-repair');
      expect(api.writeApi.callbacksAwaitingEffect()).to.deep.equal([]);
      expect(await postedOf(api, merchant)).to.equal(10_000n);
      await expectBooksRight(temp.store);
    });

    it('completes a callback a failure left unapplied once it is overdue, backing off while it keeps failing', async () => {
      const { merchant, paymentId, eventId } = await unappliedCapture(api, temp.store);
      const [awaiting] = api.writeApi.callbacksAwaitingEffect();
      expect(awaiting).to.include({ paymentId, eventId, callbackType: 'payment.captured' });

      // Not overdue yet: the run applying it may still be under way.
      advance(RETRY_MS - 1_000);
      await api.writeApi.recoverCallbacks();
      expect(await capturesOf(temp.store, paymentId)).to.deep.equal([]);

      failNext = 'PaymentCaptureStarted';
      advance(1_000);
      await api.writeApi.recoverCallbacks();
      expect(failNext, 'tried once overdue').to.equal(undefined);
      expect(await capturesOf(temp.store, paymentId)).to.deep.equal([]);
      expect(warnings.filter((warning) => warning.includes(`callback ${eventId} (payment.captured) on payment ${paymentId}`))).to.have.length(1);

      // Tried again two retry delays after the failed attempt, not at the next check.
      advance(RETRY_MS);
      await api.writeApi.recoverCallbacks();
      expect(await capturesOf(temp.store, paymentId), 'backing off').to.deep.equal([]);
      advance(RETRY_MS);
      await api.writeApi.recoverCallbacks();
      expect(await capturesOf(temp.store, paymentId)).to.have.length(1);
      expect(api.writeApi.callbacksAwaitingEffect()).to.deep.equal([]);
      expect(await postedOf(api, merchant)).to.equal(10_000n);

      // Completed, nothing is due any more.
      advance(RETRY_MS * 10);
      await api.writeApi.recoverCallbacks();
      expect(await capturesOf(temp.store, paymentId)).to.have.length(1);
      await expectBooksRight(temp.store);
    });

    it('forgets each callback once its change follows on the stream, completing none', async () => {
      const merchant = await openMerchant(api);
      const paid = await createPayment(api, merchant);
      const pending = expectMoved(await move(api, paid.id, 'submit'), 'PENDING');
      const failed = await createPayment(api, merchant);
      expectMoved(await move(api, failed.id, 'submit'), 'PENDING');
      const callbacks = [
        paymentCallback('payment.captured', pending),
        paymentCallback('payment.refunded', pending, { amount: '4000', refundReference: 're_1' }),
        paymentCallback('payment.settled', pending, { fee: '100' }),
        paymentCallback('payment.failed', { id: failed.id, providerRef: `pi_${failed.id}` }, { reason: 'card declined' }),
      ];
      for (const callback of callbacks) {
        const sent = await sendCallback(api, callback);
        expect(sent.status, sent.text).to.equal(200);
        expect(sent.body.outcome, sent.text).to.equal('applied');
      }
      await api.writeApi.recoverCallbacks();
      expect(api.writeApi.callbacksAwaitingEffect()).to.deep.equal([]);
      expect(await postedOf(api, merchant)).to.equal(6_000n);
    });

    it('looks for overdue callbacks on its periodic check, until stopped', async () => {
      await api.stop();
      let check: (() => void) | undefined;
      let checkEveryMs: number | undefined;
      let cancelled = false;
      api = await ApiServer.start(temp.store, {
        ...apiOptions,
        eventStore: failing(temp.store),
        callbackRecoveryChecks: (run, everyMs) => {
          check = run;
          checkEveryMs = everyMs;
          return () => (cancelled = true);
        },
      });
      expect(checkEveryMs).to.equal(10_000);
      const { paymentId } = await unappliedCapture(api, temp.store);
      advance(RETRY_MS);
      check!();
      // A pass asked for while one runs joins it.
      await api.writeApi.recoverCallbacks();
      expect(await capturesOf(temp.store, paymentId)).to.have.length(1);
      await api.stop();
      expect(cancelled).to.equal(true);
      api = await ApiServer.start(temp.store, apiOptions);
    });

    it('finds a callback a stopped process left unapplied when the next one starts, from its checkpoint', async () => {
      const { merchant, paymentId, eventId } = await unappliedCapture(api, temp.store);
      await api.stop();
      const checkpoints = await collect(temp.store.readStream(CALLBACK_RECOVERY_CHECKPOINT_STREAM));
      const recorded = (await eventsOf(temp.store, paymentId)).at(-1)!;
      expect(checkpoints.at(-1)?.data, 'checkpointed on stop').to.deep.include({
        callbacks: [{ paymentId, eventId, callbackType: 'payment.captured', recordedAt: (recorded.data as { receivedAt: string }).receivedAt }],
      });

      // The next start follows the log after the checkpoint only.
      const watched = recordSubscriptions(temp.store, (subscribe) => subscribe?.filter?.eventTypePrefixes?.includes('PaymentCallbackRecorded') ?? false);
      api = await ApiServer.start(temp.store, { ...apiOptions, eventStore: watched.store });
      expect(watched.from).to.deep.equal([BigInt((checkpoints.at(-1)!.data as { position: string }).position)]);
      expect(await capturesOf(temp.store, paymentId)).to.have.length(1);
      expect(await postedOf(api, merchant)).to.equal(10_000n);
      await expectBooksRight(temp.store);
    });
  });

  describe('on two write API instances', () => {
    let instances: TwoInstances;

    beforeEach(async () => {
      instances = await startTwoInstances({ api: apiOptions, wrap: { a: failing } });
    });
    afterEach(async () => {
      await instances.close();
    });

    it('books the capture once when both instances complete the callback at the same time', async () => {
      const { a, b, store } = instances;
      const { merchant, paymentId } = await unappliedCapture(a, store);

      advance(RETRY_MS);
      await Promise.all([a.writeApi.recoverCallbacks(), b.writeApi.recoverCallbacks()]);
      expect(await capturesOf(store, paymentId)).to.have.length(1);
      const journals = (await readAllEvents(store)).filter(
        (event) => event.type === 'JournalCompleted' && (event.data as { kind?: string }).kind === 'capture',
      );
      expect(journals).to.have.length(1);
      for (const api of [a, b]) expect(api.writeApi.callbacksAwaitingEffect()).to.deep.equal([]);
      expect(await postedOf(a, merchant)).to.equal(10_000n);
      await expectBooksRight(store);
    });
  });
});

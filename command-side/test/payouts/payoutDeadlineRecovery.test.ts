/**
 * Payouts whose deadline passes after the instance that took them stopped for good (an autoscaled
 * instance removed): its timer went with it, and no restart re-arms it. Every running instance
 * looks for payouts past their deadline and ends them as the deadline would, once, whichever
 * instance took them. Time is the write APIs' injected clock; the tests run the passes themselves.
 */
import { expect } from 'chai';
import {
  accountStream,
  CHAINED_STREAM_PREFIXES,
  collect,
  isChainedStream,
  isLedgerStream,
  isMerkleLeafStream,
  StoreUnavailableError,
  type EventStore,
} from '@folio/shared';
import { openPayoutsCheckpointed, PAYOUT_DEADLINE_RECOVERY_CHECKPOINT_STREAM } from '../../src/payouts/payoutDeadlineRecovery.js';
import { ApiServer, openTempStore, readAllEvents, uniqueKey, type TempStore } from '../api/apiHarness.js';
import { interceptAppends, noPeriodicCheck, recordSubscriptions, steppedClock, type AppendCall } from '../commandHandling/testSupport.js';
import { asSharedLog, expectBooksRight, holdAppends, type AppendGate } from '../concurrency/twoInstances.js';
import { quietSandbox, requestPayout, sendCallback } from '../payments/paymentTestSupport.js';

const TIMEOUT_MS = 60_000;
/** How long after its deadline another instance steps in for the one that took the payout. */
const GRACE_MS = 60_000;


describe('payouts past their deadline whose instance stopped for good', () => {
  const { clock, advance, reset: resetClock } = steppedClock();
  let temp: TempStore;
  /** The instances still running, stopped after each test. */
  let running: ApiServer[];

  const apiOptions = { ...quietSandbox, clock, payoutTimeoutMs: TIMEOUT_MS, payoutDeadlineRecoveryChecks: noPeriodicCheck };

  /** An instance on the shared log, as one of several write-side processes. */
  const startInstance = async (wrap: (store: EventStore) => EventStore = (store) => store, options: object = {}) => {
    const api = await ApiServer.start(temp.store, { ...apiOptions, ...options, eventStore: wrap(asSharedLog(temp.store)) });
    running.push(api);
    return api;
  };

  const stopForGood = async (api: ApiServer) => {
    running = running.filter((other) => other !== api);
    await api.stop();
  };

  beforeEach(() => {
    resetClock();
    running = [];
    temp = openTempStore(clock);
  });
  afterEach(async () => {
    await Promise.all(running.map((api) => api.stop()));
    await temp.dispose();
  });

  /** A merchant account holding 10000 with a payout of 4000 from it taken by `api`, which the provider never answers. */
  const unansweredPayout = async (api: ApiServer) => {
    const account = await api.openFundedAccount('10000', { kind: 'merchant' });
    const requested = await requestPayout(api, account);
    expect(requested.status, requested.text).to.equal(201);
    expect(requested.body.state).to.equal('SUBMITTED');
    return { account, payout: requested.body as { id: string; providerRef: string } };
  };

  const payoutOn = async (api: ApiServer, payoutId: string) => (await api.get(`/v1/payouts/${payoutId}`)).body;

  /** The events of the payout's end: its failure, and its hold released or posted. */
  const endingsOf = async (payoutId: string) =>
    (await readAllEvents(temp.store))
      .filter(
        (event) =>
          (event.type === 'PayoutFailed' || event.type === 'PayoutPaid' || event.type === 'AccountHoldReleased') &&
          ((event.data as { payoutId?: string }).payoutId === payoutId || (event.data as { holdId?: string }).holdId === payoutId),
      )
      .map((event) => event.type);

  it('releases the hold once the deadline passed, on another instance, and fails the payout as timed out', async () => {
    const a = await startInstance();
    const b = await startInstance();
    const { account, payout } = await unansweredPayout(a);
    expect((await b.account(account)).balance).to.deep.equal({ posted: '10000', pending: '-4000', available: '6000' });
    await stopForGood(a);

    // Never before its deadline.
    advance(TIMEOUT_MS - 1_000);
    await b.writeApi.recoverPayoutDeadlines();
    expect(await payoutOn(b, payout.id)).to.include({ state: 'SUBMITTED' });

    advance(1_000 + GRACE_MS);
    await b.writeApi.recoverPayoutDeadlines();
    expect(await payoutOn(b, payout.id)).to.include({
      state: 'FAILED',
      timedOut: true,
      failureReason: 'no answer from the provider before the deadline',
      flaggedForReconciliation: false,
    });
    expect((await b.account(account)).balance).to.deep.equal({ posted: '10000', pending: '0', available: '10000' });
    expect(await endingsOf(payout.id)).to.deep.equal(['PayoutFailed', 'AccountHoldReleased']);

    // Ended once: later passes and a late paid answer move no money.
    advance(10 * GRACE_MS);
    await b.writeApi.recoverPayoutDeadlines();
    const late = await sendCallback(
      b,
      { id: uniqueKey('evt'), type: 'payout.paid', createdAt: clock().toISOString(), data: { reference: payout.providerRef } },
      { timestamp: Math.floor(clock().getTime() / 1000) },
    );
    expect(late.status, late.text).to.equal(200);
    expect(late.body).to.include({ outcome: 'superseded', flaggedForReconciliation: true });
    expect(await endingsOf(payout.id)).to.deep.equal(['PayoutFailed', 'AccountHoldReleased']);
    expect((await b.account(account)).balance).to.deep.equal({ posted: '10000', pending: '0', available: '10000' });
    await expectBooksRight(temp.store);
  });

  it('posts, never releases, the hold of a payout reported paid whose instance stopped before its money moved', async () => {
    let accountUnreachable: string | undefined;
    const a = await startInstance((store) =>
      interceptAppends(store, (call, proceed) =>
        call.streamName === accountUnreachable
          ? Promise.reject(new StoreUnavailableError('the store is unreachable'))
          : proceed(),
      ),
    );
    const b = await startInstance();
    const { account, payout } = await unansweredPayout(a);
    accountUnreachable = accountStream(account);
    const paid = await sendCallback(a, {
      id: uniqueKey('evt'),
      type: 'payout.paid',
      createdAt: new Date().toISOString(),
      data: { reference: payout.providerRef },
    });
    expect(paid.status, paid.text).to.be.at.least(500);
    await stopForGood(a);

    advance(TIMEOUT_MS + GRACE_MS);
    await b.writeApi.recoverPayoutDeadlines();
    expect(await payoutOn(b, payout.id)).to.include({ state: 'PAID', timedOut: false, flaggedForReconciliation: false });
    expect((await b.account(account)).balance).to.deep.equal({ posted: '6000', pending: '0', available: '6000' });
    expect(await endingsOf(payout.id)).to.deep.equal(['AccountHoldReleased', 'PayoutPaid']);
    await expectBooksRight(temp.store);
  });

  it('ends the payout once when both instances run past its deadline at the same time', async () => {
    /** The first append of the payout's failure on each instance waits until both make theirs. */
    const failureAppended = (call: AppendCall) =>
      call.streamName.startsWith('payout-') && call.events.some((event) => event.type === 'PayoutFailed');
    const gates: AppendGate[] = [holdAppends(failureAppended), holdAppends(failureAppended)];
    const a = await startInstance((store) => gates[0]!.wrap(store));
    const b = await startInstance((store) => gates[1]!.wrap(store));
    const { account, payout } = await unansweredPayout(a);

    advance(TIMEOUT_MS + GRACE_MS);
    const passes = Promise.all([a.writeApi.recoverPayoutDeadlines(), b.writeApi.recoverPayoutDeadlines()]);
    await Promise.all(gates.map((gate) => gate.reached));
    for (const gate of gates) gate.release();
    await passes;

    for (const api of [a, b]) {
      expect(await payoutOn(api, payout.id)).to.include({ state: 'FAILED', timedOut: true });
      expect((await api.account(account)).balance).to.deep.equal({ posted: '10000', pending: '0', available: '10000' });
    }
    expect(await endingsOf(payout.id)).to.deep.equal(['PayoutFailed', 'AccountHoldReleased']);
    await expectBooksRight(temp.store);
  });

  it('finds, from its checkpoint, a payout an instance stopped before it started left open', async () => {
    const a = await startInstance();
    const { account, payout } = await unansweredPayout(a);
    await stopForGood(a);
    const checkpoints = await collect(temp.store.readStream(PAYOUT_DEADLINE_RECOVERY_CHECKPOINT_STREAM));
    const requested = (await readAllEvents(temp.store)).find((event) => event.type === 'PayoutRequested')!;
    const { deadline } = requested.data as { deadline: string };
    expect(checkpoints.at(-1)?.data, 'checkpointed on stop').to.deep.include({
      payouts: [{ payoutId: payout.id, deadline, failed: false, released: false, answered: false }],
    });

    // The next instance follows the log after the checkpoint only.
    let followedFrom: unknown[] = [];
    const b = await startInstance((store) => {
      const watched = recordSubscriptions(
        store,
        (subscribe) => subscribe?.filter?.eventTypePrefixes?.includes('PayoutRequested') ?? false,
      );
      followedFrom = watched.from;
      return watched.store;
    });
    advance(TIMEOUT_MS + GRACE_MS);
    await b.writeApi.recoverPayoutDeadlines();
    expect(followedFrom).to.deep.equal([BigInt((checkpoints.at(-1)!.data as { position: string }).position)]);
    expect(await payoutOn(b, payout.id)).to.include({ state: 'FAILED', timedOut: true });
    expect((await b.account(account)).balance).to.deep.equal({ posted: '10000', pending: '0', available: '10000' });
    expect(await endingsOf(payout.id)).to.deep.equal(['PayoutFailed', 'AccountHoldReleased']);
  });

  it('checkpoints on a stream, and as an event type, no ledger, audit chain, projection or payout fold reads', () => {
    const stream = PAYOUT_DEADLINE_RECOVERY_CHECKPOINT_STREAM;
    expect(isLedgerStream(stream) || isChainedStream(stream) || isMerkleLeafStream(stream)).to.equal(false);
    const projectionPrefixes = ['account-', 'transfer-', 'deposit-', 'journal-', 'payment-', 'payout-', 'statement-', 'statementrow-'];
    for (const prefix of [...CHAINED_STREAM_PREFIXES, ...projectionPrefixes, 'reconciliation-']) {
      expect(stream.startsWith(prefix), prefix).to.equal(false);
    }
    for (const prefix of ['Payout', 'Payment', 'Account']) {
      expect(openPayoutsCheckpointed.type.startsWith(prefix), prefix).to.equal(false);
    }
  });

  it('looks for payouts past their deadline on its periodic check, until stopped', async () => {
    let check: (() => void) | undefined;
    let checkEveryMs: number | undefined;
    let cancelled = false;
    const a = await startInstance();
    const b = await startInstance((store) => store, {
      payoutDeadlineRecoveryChecks: (run: () => void, everyMs: number) => {
        check = run;
        checkEveryMs = everyMs;
        return () => (cancelled = true);
      },
    });
    expect(checkEveryMs).to.equal(10_000);
    const { account, payout } = await unansweredPayout(a);
    await stopForGood(a);

    advance(TIMEOUT_MS + GRACE_MS);
    check!();
    // A pass asked for while one runs joins it.
    await b.writeApi.recoverPayoutDeadlines();
    expect(await payoutOn(b, payout.id)).to.include({ state: 'FAILED', timedOut: true });
    expect(await b.available(account)).to.equal('10000');
    await stopForGood(b);
    expect(cancelled).to.equal(true);
  });

  it('ends a payout sooner, and looks for it more often, with a shorter grace period set', async () => {
    const shorterGraceMs = 5_000;
    let checkEveryMs: number | undefined;
    const a = await startInstance();
    const b = await startInstance((store) => store, {
      payoutDeadlineGraceMs: shorterGraceMs,
      payoutDeadlineRecoveryChecks: (_run: () => void, everyMs: number) => {
        checkEveryMs = everyMs;
        return () => {};
      },
    });
    expect(checkEveryMs).to.equal(shorterGraceMs);
    const { account, payout } = await unansweredPayout(a);
    await stopForGood(a);

    advance(TIMEOUT_MS + shorterGraceMs - 1_000);
    await b.writeApi.recoverPayoutDeadlines();
    expect(await payoutOn(b, payout.id)).to.include({ state: 'SUBMITTED' });

    // Well before the default grace period would have passed.
    advance(1_000);
    await b.writeApi.recoverPayoutDeadlines();
    expect(await payoutOn(b, payout.id)).to.include({ state: 'FAILED', timedOut: true });
    expect((await b.account(account)).balance).to.deep.equal({ posted: '10000', pending: '0', available: '10000' });
    expect(await endingsOf(payout.id)).to.deep.equal(['PayoutFailed', 'AccountHoldReleased']);
  });

  describe('holds placed whose payout request was not recorded', () => {
    /** The append recording a payout's request. */
    const recordingRequest = (call: AppendCall) =>
      call.streamName.startsWith('payout-') && call.events.some((event) => event.type === 'PayoutRequested');
    const holdOf = async () => (await readAllEvents(temp.store)).find((event) => event.type === 'AccountFundsHeld')!;

    it('releases, without a restart, the hold of a request that failed to record its payout, once past the grace period', async () => {
      let unreachable = true;
      const api = await startInstance((store) =>
        interceptAppends(store, (call, proceed) =>
          unreachable && recordingRequest(call) ? Promise.reject(new StoreUnavailableError('the store is unreachable')) : proceed(),
        ),
      );
      const account = await api.openFundedAccount('10000', { kind: 'merchant' });
      const key = uniqueKey('payout');
      const failed = await requestPayout(api, account, key);
      expect(failed.status, failed.text).to.be.at.least(500);
      unreachable = false;
      const payoutId = (await holdOf()).data.holdId as string;

      advance(GRACE_MS - 1_000);
      await api.writeApi.recoverPayoutDeadlines();
      expect(await api.available(account)).to.equal('6000');

      advance(1_000);
      await api.writeApi.recoverPayoutDeadlines();
      expect((await api.account(account)).balance).to.deep.equal({ posted: '10000', pending: '0', available: '10000' });
      expect(await endingsOf(payoutId)).to.deep.equal(['AccountHoldReleased']);
      // Retried after, the request answers the payout failed, holding nothing and asking no provider.
      const retried = await requestPayout(api, account, key);
      expect(retried.status, retried.text).to.equal(201);
      expect(retried.body).to.include({ id: payoutId, state: 'FAILED', failureReason: 'the payout was interrupted before the provider was asked' });
      expect(await api.available(account)).to.equal('10000');
      await expectBooksRight(temp.store);
    });

    it('never releases the hold of a payout whose request was recorded before its deadline', async () => {
      const api = await startInstance((store) => store, { payoutTimeoutMs: 10 * GRACE_MS });
      const { account, payout } = await unansweredPayout(api);

      advance(5 * GRACE_MS);
      await api.writeApi.recoverPayoutDeadlines();
      expect(await payoutOn(api, payout.id)).to.include({ state: 'SUBMITTED' });
      expect(await api.available(account)).to.equal('6000');
      expect(await endingsOf(payout.id)).to.deep.equal([]);
    });

    it('answers failed, its hold released once, a request still recording its payout when another instance released its hold', async () => {
      const gate = holdAppends(recordingRequest);
      const a = await startInstance((store) => gate.wrap(store));
      const b = await startInstance();
      const account = await a.openFundedAccount('10000', { kind: 'merchant' });
      const requested = requestPayout(a, account);
      const payoutId = (await gate.reached).events[0]!.data.payoutId as string;

      advance(GRACE_MS);
      await b.writeApi.recoverPayoutDeadlines();
      expect(await b.available(account)).to.equal('10000');
      gate.release();
      const answered = await requested;
      expect(answered.status, answered.text).to.equal(201);
      expect(answered.body).to.include({ id: payoutId, state: 'FAILED' });
      expect((await a.account(account)).balance).to.deep.equal({ posted: '10000', pending: '0', available: '10000' });
      expect(await endingsOf(payoutId)).to.deep.equal(['AccountHoldReleased', 'PayoutFailed']);
      await expectBooksRight(temp.store);
    });
  });
});

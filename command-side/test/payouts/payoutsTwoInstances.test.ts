/**
 * Payouts on two write API instances sharing one log, as several write-side processes share one
 * EventStoreDB cluster: a deadline, callbacks and retried requests about one payout reach both at
 * once. Whatever interleaves, the payout ends as its money says: a hold released is never posted,
 * a payout the provider reported failed is never paid on the books, and the provider is asked once.
 */
import { expect } from 'chai';
import { accountStream, StoreUnavailableError, type EventStore } from '@folio/shared';
import { DEFAULT_STALE_AFTER_MS } from '../../src/idempotency/index.js';
import type { PayoutSubmission } from '../../src/providers/providerAdapter.js';
import { payoutOnlyProvider } from './payoutOnlyProvider.js';
import { ApiServer, eventually, expectProblem, readAllEvents, uniqueKey } from '../api/apiHarness.js';
import { interceptAppends, type AppendCall } from '../commandHandling/testSupport.js';
import {
  asSharedLog,
  expectBooksRight,
  holdAppends,
  readsOfAfter,
  startTwoInstances,
  type AppendGate,
  type TwoInstances,
} from '../concurrency/twoInstances.js';
import { deferred } from '../idempotency/testSupport.js';
import { openCustomer, startProcess } from '../movements/movementScenario.js';
import { quietSandbox, requestPayout, SANDBOX_SECRET, sendCallback } from '../payments/paymentTestSupport.js';

const appendsTo = (call: AppendCall, prefix: string, type: string) =>
  call.streamName.startsWith(prefix) && call.events.some((event) => event.type === type);

/** The first append on one instance of the payout's failure, of a callback's record, of a hold's release. */
const failureRecorded = () => holdAppends((call) => appendsTo(call, 'payout-', 'PayoutFailed'));
const callbackRecorded = () => holdAppends((call) => appendsTo(call, 'payout-', 'PayoutCallbackRecorded'));
const holdReleased = () =>
  holdAppends(
    (call) =>
      appendsTo(call, 'account-', 'AccountHoldReleased') &&
      call.events.some((event) => (event.data as { outcome?: string }).outcome === 'released'),
  );

const through =
  (...gates: AppendGate[]) =>
  (store: EventStore): EventStore =>
    gates.reduce((wrapped, gate) => gate.wrap(wrapped), store);

describe('payouts on two write API instances', () => {
  let instances: TwoInstances | undefined;

  afterEach(async () => {
    await instances?.close();
    instances = undefined;
  });

  const start = async (options: { a?: AppendGate[]; b?: AppendGate[]; api?: object } = {}) => {
    instances = await startTwoInstances({
      api: { ...quietSandbox, payoutTimeoutMs: 60_000, ...options.api },
      wrap: { a: through(...(options.a ?? [])), b: through(...(options.b ?? [])) },
    });
    return instances;
  };

  /** A merchant account holding 10000 with a payout of 4000 from it submitted through `server`. */
  const submittedPayout = async (server: ApiServer) => {
    const account = await server.openFundedAccount('10000', { kind: 'merchant' });
    const requested = await requestPayout(server, account);
    expect(requested.status, requested.text).to.equal(201);
    expect(requested.body.state).to.equal('SUBMITTED');
    return { account, payout: requested.body as { id: string; providerRef: string } };
  };

  const answer = (server: ApiServer, payout: { providerRef: string }, type: 'payout.paid' | 'payout.failed') =>
    sendCallback(server, {
      id: uniqueKey('evt'),
      type,
      createdAt: new Date().toISOString(),
      data: { reference: payout.providerRef, ...(type === 'payout.failed' ? { reason: 'account_closed' } : {}) },
    });

  const payoutOn = async (server: ApiServer, payoutId: string) => (await server.get(`/v1/payouts/${payoutId}`)).body;

  const expectUntouched = async (server: ApiServer, account: string) => {
    expect((await server.account(account)).balance).to.deep.equal({ posted: '10000', pending: '0', available: '10000' });
    await expectBooksRight(instances!.store);
  };

  it("does not post a hold released at one instance's deadline for a paid answer the other decided on before it", async () => {
    const failure = failureRecorded();
    const release = holdReleased();
    const callback = callbackRecorded();
    const { a, b } = await start({ a: [failure, release], b: [callback], api: { payoutTimeoutMs: 300 } });
    const { account, payout } = await submittedPayout(a);

    const paid = answer(b, payout, 'payout.paid');
    // B judged the answer on the payout as it was before A's deadline recorded its failure.
    await Promise.all([failure.reached, callback.reached]);
    failure.release();
    await release.reached;
    callback.release();
    const answered = await paid;
    release.release();

    expect(answered.status, answered.text).to.equal(200);
    expect(answered.body).to.include({ outcome: 'superseded', flaggedForReconciliation: true });
    await eventually(async () => (await a.account(account)).balance.pending === '0', 'the hold to be released');
    for (const server of [a, b]) {
      expect(await payoutOn(server, payout.id)).to.include({ state: 'FAILED', timedOut: true, flaggedForReconciliation: true });
    }
    await expectUntouched(a, account);
  });

  it('never pays on the books a payout the provider reported failed when its paid and failed answers reach both instances at once', async () => {
    const failure = failureRecorded();
    const failedAnswer = callbackRecorded();
    const paidAnswer = callbackRecorded();
    const { a, b } = await start({ a: [failedAnswer, failure], b: [paidAnswer] });
    const { account, payout } = await submittedPayout(a);

    const failed = answer(a, payout, 'payout.failed');
    const paid = answer(b, payout, 'payout.paid');
    await Promise.all([failedAnswer.reached, paidAnswer.reached]);
    // A records the failed answer first and stops before recording the payout failed; B's paid
    // answer comes after it.
    failedAnswer.release();
    await failure.reached;
    paidAnswer.release();
    const paidAnswered = await paid;
    failure.release();
    const failedAnswered = await failed;

    expect(failedAnswered.status, failedAnswered.text).to.equal(200);
    expect(failedAnswered.body).to.include({ outcome: 'applied' });
    expect(paidAnswered.status, paidAnswered.text).to.equal(200);
    expect(paidAnswered.body).to.include({ outcome: 'superseded', flaggedForReconciliation: true });
    for (const server of [a, b]) {
      expect(await payoutOn(server, payout.id)).to.include({ state: 'FAILED', failureReason: 'account_closed', timedOut: false });
    }
    await expectUntouched(a, account);
  });

  it('posts once and answers the later of two paid answers reaching both instances at once as outdated', async () => {
    const first = callbackRecorded();
    const second = callbackRecorded();
    const { a, b } = await start({ a: [first], b: [second] });
    const { account, payout } = await submittedPayout(a);

    const one = answer(a, payout, 'payout.paid');
    const other = answer(b, payout, 'payout.paid');
    await Promise.all([first.reached, second.reached]);
    first.release();
    const oneAnswered = await one;
    second.release();
    const otherAnswered = await other;

    expect(oneAnswered.status, oneAnswered.text).to.equal(200);
    expect(oneAnswered.body).to.include({ outcome: 'applied' });
    expect(otherAnswered.status, otherAnswered.text).to.equal(200);
    expect(otherAnswered.body).to.include({ outcome: 'outdated', flaggedForReconciliation: false });
    for (const server of [a, b]) {
      expect(await payoutOn(server, payout.id)).to.include({ state: 'PAID', flaggedForReconciliation: false });
      expect((await server.account(account)).balance).to.deep.equal({ posted: '6000', pending: '0', available: '6000' });
    }
    await expectBooksRight(instances!.store);
  });

  it('asks the provider once when the request is retried on the other instance while the first asks it', async () => {
    const submitted: PayoutSubmission[] = [];
    let answerProvider!: () => void;
    const providerAnswers = new Promise<void>((resolve) => (answerProvider = resolve));
    const adapter = payoutOnlyProvider(async (submission) => {
      submitted.push(submission);
      await providerAnswers;
      return { providerRef: `po_${submission.payoutId}` };
    });
    const { a, b } = await start({ api: { sandboxProviders: [], providers: [{ adapter, secret: SANDBOX_SECRET }] } });
    const account = await a.openFundedAccount('10000', { kind: 'merchant' });
    const key = uniqueKey('payout');

    const first = requestPayout(a, account, key);
    await eventually(async () => submitted.length === 1, 'the provider to be asked');
    expectProblem(await requestPayout(b, account, key), 409, 'idempotent-request-in-progress');
    answerProvider();
    const answered = await first;
    const retried = await requestPayout(b, account, key);

    expect(answered.status, answered.text).to.equal(201);
    expect(retried.status, retried.text).to.equal(201);
    expect(retried.body).to.deep.equal(answered.body);
    expect(submitted).to.have.length(1);
    expect((await readAllEvents(instances!.store)).filter((event) => event.type === 'AccountFundsHeld')).to.have.length(1);
    expect((await b.account(account)).balance).to.deep.equal({ posted: '10000', pending: '-4000', available: '6000' });
  });

  it('never asks the provider with the hold gone when a starting instance takes a payout being requested for interrupted', async () => {
    const request = holdAppends((call) => appendsTo(call, 'payout-', 'PayoutRequested'));
    const { a, store } = await start({ a: [request] });
    const account = await a.openFundedAccount('10000', { kind: 'merchant' });

    // A holds the amount, and a third instance starts before A records the request.
    const requested = requestPayout(a, account);
    await request.reached;
    const starting = await ApiServer.start(store, { ...quietSandbox, eventStore: asSharedLog(store) });
    try {
      request.release();
      const answered = await requested;

      expect(answered.status, answered.text).to.equal(201);
      expect(answered.body).to.include({ state: 'FAILED', providerRef: null, failureReason: 'the payout was interrupted before the provider was asked' });
      const paid = await answer(starting, { providerRef: `po_${answered.body.id}` }, 'payout.paid');
      expect(paid.status, paid.text).to.equal(202);
      await expectUntouched(a, account);
    } finally {
      await starting.stop();
    }
  });

  it('releases the hold a retry placed again on the other instance while a starting instance took the payout for abandoned', async () => {
    // A holds the amount but cannot record the request; B, which knew the account before A's hold,
    // retries it and stops before holding the amount again.
    const requestRefused = (store: EventStore) =>
      interceptAppends(store, (call, proceed) =>
        appendsTo(call, 'payout-', 'PayoutRequested') ? Promise.reject(new StoreUnavailableError('the store is unreachable')) : proceed(),
      );
    const holdAgain = holdAppends((call) => appendsTo(call, 'account-', 'AccountFundsHeld'));
    instances = await startTwoInstances({
      api: { ...quietSandbox, payoutTimeoutMs: 60_000 },
      wrap: { a: requestRefused, b: holdAgain.wrap },
    });
    const { a, b, store } = instances;
    const account = await b.openFundedAccount('10000', { kind: 'merchant' });
    const key = uniqueKey('payout');
    expect((await requestPayout(a, account, key)).status).to.be.at.least(500);
    expect(await a.available(account)).to.equal('6000');

    const retried = requestPayout(b, account, key);
    await holdAgain.reached;
    // A third instance starts meanwhile: it abandons the payout and releases the first hold.
    const starting = await ApiServer.start(store, { ...quietSandbox, payoutTimeoutMs: 60_000, eventStore: asSharedLog(store) });
    try {
      expect(await starting.available(account)).to.equal('10000');
      holdAgain.release();
      const answered = await retried;

      expect(answered.status, answered.text).to.equal(201);
      expect(answered.body).to.include({ state: 'FAILED', failureReason: 'the payout was interrupted before the provider was asked' });
      const events = await readAllEvents(store);
      // Each of the two holds released once.
      expect(events.filter((event) => event.type === 'AccountFundsHeld')).to.have.length(2);
      expect(events.filter((event) => event.type === 'AccountHoldReleased')).to.have.length(2);
      for (const server of [a, b, starting]) await expectUntouched(server, account);
    } finally {
      await starting.stop();
    }
  });

  it('holds nothing for a request stalled past its claim once the other instance, taking it over, refused it', async () => {
    const account = '7300000000000009101';
    const accountRead = deferred();
    let offsetMs = 0;
    instances = await startTwoInstances({
      api: { ...quietSandbox, payoutTimeoutMs: 60_000, clock: () => new Date(Date.now() + offsetMs) },
      prepare: async (store) => {
        await openCustomer(startProcess(store).accounts, account);
      },
      // A stops before it looks at the account, past the claim of the key and before the hold.
      wrap: { a: (store) => readsOfAfter(store, accountStream(account), accountRead.promise) },
    });
    const { a, b, store } = instances;
    const key = uniqueKey('payout');

    const stalled = requestPayout(a, account, key);
    await eventually(async () => (await readAllEvents(store)).some((event) => event.streamName.startsWith('idempotency-')), 'the claim of A');
    offsetMs += DEFAULT_STALE_AFTER_MS;
    expectProblem(await requestPayout(b, account, key), 422, 'insufficient-funds');
    // The money arrives before A goes on: the account would afford the payout now.
    expect((await b.deposit(account, '10000')).status).to.equal(201);
    accountRead.resolve();

    const answered = await stalled;
    expectProblem(answered, 503, 'idempotency-claim-expired');
    expect(answered.headers['retry-after']).to.equal('1');
    expectProblem(await requestPayout(a, account, key), 422, 'insufficient-funds');
    expect((await readAllEvents(store)).filter((event) => event.type === 'AccountFundsHeld')).to.deep.equal([]);
    expect((await b.account(account)).balance).to.deep.equal({ posted: '10000', pending: '0', available: '10000' });
    await expectBooksRight(store);
  });
});

/**
 * A run of an idempotent request that stalls on one write-side process past its claim's staleness
 * (a VM pause, a long GC, a partition) while the other process takes the claim over and runs the
 * request again, with the accounts or the payment changed in between: whatever each run decided,
 * the key's answer must agree with the books, its transfer's journal posted if and only if it
 * answers 201, its payment moved or refunded only if it answers so.
 */
import { expect } from 'chai';
import { accountStream, paymentStream, reconciliationStream, type EventStore, type JsonValue, type ReadStreamOptions } from '@folio/shared';
import { DEFAULT_STALE_AFTER_MS, idempotencyStreamName } from '../../src/idempotency/index.js';
import type { ProviderAdapter } from '../../src/providers/providerAdapter.js';
import { ProviderRefusedError } from '../../src/providers/providerErrors.js';
import { expectProblem, eventually, ledgerEvents, readAllEvents, uniqueKey, type ApiServer } from '../api/apiHarness.js';
import { deferred } from '../idempotency/testSupport.js';
import { openCustomer, startProcess } from '../movements/movementScenario.js';
import { createPayment, expectMoved, move, openMerchant, postedOf, SANDBOX_SECRET } from '../payments/paymentTestSupport.js';
import { knownDiscrepancies } from '../reconciliation/knownDiscrepancies.js';
import {
  CALLER,
  completionOf,
  DESTINATION,
  expectBooksRight,
  holdAppends,
  readsOfAfter,
  SOURCE,
  startTwoInstances,
  transferRoutes,
  type TransferRoute,
  type TwoInstances,
} from './twoInstances.js';

/** Debits of the source by transfers: one per transfer whose journal was posted. */
const transfersPosted = async (store: EventStore): Promise<number> =>
  (await ledgerEvents(store)).filter((event) => {
    const data = event.data as { accountId?: string; journal?: { kind: string; leg: string } };
    return event.type === 'AccountDebited' && data.accountId === SOURCE && data.journal?.kind === 'transfer' && data.journal.leg === 'first';
  }).length;

describe('a run of an idempotent request stalled past its claim while another process took the claim over', () => {
  let offsetMs: number;
  const clock = () => new Date(Date.now() + offsetMs);
  let instances: TwoInstances | undefined;

  const start = (wrap: { a?: (store: EventStore) => EventStore; b?: (store: EventStore) => EventStore }) =>
    startTwoInstances({
      api: { clock },
      prepare: async (store) => {
        const { accounts } = startProcess(store);
        await openCustomer(accounts, SOURCE);
        await openCustomer(accounts, DESTINATION);
      },
      wrap,
    });

  beforeEach(() => {
    offsetMs = 0;
    instances = undefined;
  });

  afterEach(async () => {
    await instances?.close();
  });

  /** The key answers, replayed, what the books show; a request under a new key runs as ever. */
  const expectKeyAgreesWithBooks = async (route: TransferRoute, key: string, expected: number) => {
    const { a, b, store } = instances!;
    const replay = await route.send(b, key);
    expect(replay.headers['idempotent-replayed'], replay.text).to.equal('true');
    const answer = route.answerOf(replay);
    expect(answer.status, JSON.stringify(answer.body)).to.equal(expected);
    expect(await transfersPosted(store)).to.equal(answer.status === 201 ? 1 : 0);

    const fresh = route.answerOf(await route.send(a, uniqueKey('fresh')));
    expect(fresh.status, JSON.stringify(fresh.body)).to.equal(201);
    expect(await transfersPosted(store)).to.equal(answer.status === 201 ? 2 : 1);
    await expectBooksRight(store);
  };

  for (const [name, route] of Object.entries(transferRoutes)) {
    it(`${name}: a refusal decided before the stall is not recorded over the takeover that moved the money`, async () => {
      const key = uniqueKey('stale-refusal');
      const aRecording = holdAppends(completionOf(key));
      const bRecording = holdAppends(completionOf(key));
      instances = await start({ a: aRecording.wrap, b: bRecording.wrap });
      const { a, b } = instances;

      const answeringA = route.send(a, key);
      // A found the source empty (nothing written) and stalls before recording its answer.
      await aRecording.reached;
      expect((await b.deposit(SOURCE, '1000')).status).to.equal(201);
      offsetMs += DEFAULT_STALE_AFTER_MS;
      const answeringB = route.send(b, key);
      // B took the stale claim over and moved the money; it has not recorded its answer yet.
      await bRecording.reached;
      aRecording.release();
      const stalled = await answeringA;
      bRecording.release();
      const takeover = await answeringB;

      expectProblem(stalled, 409, 'idempotent-request-in-progress');
      expect(stalled.headers['retry-after']).to.equal('1');
      expect(route.answerOf(takeover).status, takeover.text).to.equal(201);
      await expectKeyAgreesWithBooks(route, key, 201);
    });

    it(`${name}: a run stalled before moving the money moves none after the takeover refused it`, async () => {
      const key = uniqueKey('stale-transfer');
      const sourceRead = deferred();
      // A stops before it looks at the source, past the claim of the key and before any leg.
      instances = await start({ a: (store) => readsOfAfter(store, accountStream(SOURCE), sourceRead.promise) });
      const { a, b, store } = instances;

      const answeringA = route.send(a, key);
      const claimed = async () => (await readAllEvents(store)).some((event) => event.streamName === idempotencyStreamName(CALLER, key));
      await eventually(claimed, 'the claim of A');
      offsetMs += DEFAULT_STALE_AFTER_MS;
      const refused = route.answerOf(await route.send(b, key));
      expect(refused.status, JSON.stringify(refused.body)).to.equal(422);
      expect(refused.body.type).to.equal('urn:folio:problem:insufficient-funds');
      // The money arrives before A goes on: the source would afford the transfer now.
      expect((await b.deposit(SOURCE, '1000')).status).to.equal(201);
      sourceRead.resolve();
      const stalled = await answeringA;

      expect(stalled.status, stalled.text).to.equal(503);
      expect(stalled.headers['retry-after']).to.equal('1');
      const expired = name === 'a transfer' ? stalled.body : (stalled.body.results as { body: JsonValue }[])[0]!.body;
      expect(expired).to.deep.include({ type: 'urn:folio:problem:idempotency-claim-expired', status: 503 });
      await expectKeyAgreesWithBooks(route, key, 422);
    });
  }
});

/** Reads of payment streams wait until `until` resolves: the process looks at no payment before the test lets it. */
const readsOfPaymentsAfter = (store: EventStore, until: Promise<void>): EventStore =>
  new Proxy(store, {
    get(target, property) {
      if (property === 'readStream') {
        return (name: string, readOptions?: ReadStreamOptions) =>
          !name.startsWith(paymentStream(''))
            ? target.readStream(name, readOptions)
            : (async function* () {
                await until;
                yield* target.readStream(name, readOptions);
              })();
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

describe('a payment move of a run stalled past its claim while another process took the claim over', () => {
  let offsetMs: number;
  const clock = () => new Date(Date.now() + offsetMs);
  let instances: TwoInstances | undefined;
  /** The amounts the provider paid back. */
  let refundedAtProvider: bigint[];
  /** How the provider answers a refund of `OTHER_REFUND`: its answer is lost at first, later as a test says. */
  let otherRefundAnswer: 'lost' | 'declined' | 'taken';
  const OTHER_REFUND = '7000';
  const REFUND = '5000';

  const provider: ProviderAdapter = {
    provider: 'sandbox',
    submitPayment: async ({ paymentId }) => ({ providerRef: `pi_${paymentId}` }),
    async refundPayment({ refundId, amount }) {
      if (amount === BigInt(OTHER_REFUND)) {
        if (otherRefundAnswer === 'lost') throw new Error('timed out');
        if (otherRefundAnswer === 'declined') throw new ProviderRefusedError('the card account is closed');
      }
      refundedAtProvider.push(amount);
      return { providerRefundRef: `re_${refundId}` };
    },
    findPayment: () => Promise.reject(new Error('no references given in these tests')),
    submitPayout: () => Promise.reject(new Error('no payouts in these tests')),
  };

  beforeEach(() => {
    offsetMs = 0;
    instances = undefined;
    refundedAtProvider = [];
    otherRefundAnswer = 'lost';
  });

  afterEach(async () => {
    await instances?.close();
  });

  /**
   * A looks at no payment before `paymentRead` resolves: a request sent to it claims its key and
   * stalls before anything of its move. Refund recovery never asks the provider by itself here.
   */
  const start = async (paymentRead: Promise<void>) => {
    instances = await startTwoInstances({
      api: { clock, sandboxProviders: [], providers: [{ adapter: provider, secret: SANDBOX_SECRET }], refundRecoveryChecks: () => () => {} },
      wrap: { a: (store) => readsOfPaymentsAfter(store, paymentRead) },
    });
    const merchant = await openMerchant(instances.b);
    const payment = await createPayment(instances.b, merchant);
    return { ...instances, merchant, paymentId: payment.id as string };
  };

  /** Sends `action` to A under `key` and waits until A has claimed the key: A stalls there, its answer to come. */
  const stallOnA = async (a: ApiServer, store: EventStore, paymentId: string, action: string, body: unknown, key: string) => {
    const claims = async () =>
      (await readAllEvents(store)).filter(
        (event) => event.streamName === idempotencyStreamName(CALLER, key) && event.type === 'IdempotentRequestStarted',
      ).length;
    const earlier = await claims();
    const answering = move(a, paymentId, action, body, key);
    await eventually(async () => (await claims()) > earlier, 'the claim of A');
    return { answering };
  };

  /** The events of the payment's stream, by type. */
  const paymentEventTypes = async (store: EventStore, paymentId: string): Promise<string[]> =>
    (await readAllEvents(store)).filter((event) => event.streamName === paymentStream(paymentId)).map((event) => event.type);

  it('a refund stalled before its reservation reserves nothing after the takeover refused it for capacity another refund released since', async () => {
    const paymentRead = deferred();
    const { a, b, store, merchant, paymentId } = await start(paymentRead.promise);
    expectMoved(await move(b, paymentId, 'submit'), 'PENDING');
    expectMoved(await move(b, paymentId, 'capture'), 'PAID');
    const otherKey = uniqueKey('other-refund');
    // Another refund holds 7000 of the 10000: its provider answer was lost, its reservation stands.
    expect((await move(b, paymentId, 'refunds', { amount: OTHER_REFUND }, otherKey)).status).to.equal(502);

    const key = uniqueKey('stale-refund');
    const { answering: answeringA } = await stallOnA(a, store, paymentId, 'refunds', { amount: REFUND }, key);
    offsetMs += DEFAULT_STALE_AFTER_MS;
    expectProblem(await move(b, paymentId, 'refunds', { amount: REFUND }, key), 422, 'refund-exceeds-captured');
    // The other refund fails at the provider before A goes on: its capacity is free again.
    otherRefundAnswer = 'declined';
    expectProblem(await move(b, paymentId, 'refunds', { amount: OTHER_REFUND }, otherKey), 422, 'provider-declined');
    paymentRead.resolve();
    const stalled = await answeringA;

    const reservations = (await paymentEventTypes(store, paymentId)).filter((type) => type === 'PaymentRefundRequested');
    expect(reservations, 'only the other refund reserved').to.have.length(1);
    expect(refundedAtProvider).to.deep.equal([]);
    expectProblem(stalled, 503, 'idempotency-claim-expired');
    expect(stalled.headers['retry-after']).to.equal('1');

    const replay = await move(b, paymentId, 'refunds', { amount: REFUND }, key);
    expect(replay.headers['idempotent-replayed'], replay.text).to.equal('true');
    expectProblem(replay, 422, 'refund-exceeds-captured');
    const read = (await b.get(`/v1/payments/${paymentId}`)).body;
    expect(read.refunded).to.equal('0');
    expect(await postedOf(b, merchant)).to.equal(10_000n);
    // A refund under a new key runs as ever.
    expectMoved(await move(a, paymentId, 'refunds', { amount: REFUND }), 'PAID');
    expect(refundedAtProvider).to.deep.equal([5000n]);
    await expectBooksRight(store);
  });

  it('a refund an earlier run of its key reserved is carried on past the lease of the retry', async () => {
    const paymentRead = deferred();
    const { a, b, store, merchant, paymentId } = await start(paymentRead.promise);
    expectMoved(await move(b, paymentId, 'submit'), 'PENDING');
    expectMoved(await move(b, paymentId, 'capture'), 'PAID');
    const key = uniqueKey('reserved-refund');
    expect((await move(b, paymentId, 'refunds', { amount: OTHER_REFUND }, key)).status).to.equal(502);

    otherRefundAnswer = 'taken';
    const { answering } = await stallOnA(a, store, paymentId, 'refunds', { amount: OTHER_REFUND }, key);
    // Past the lease of A's claim, not yet stale: nobody took it over.
    offsetMs += DEFAULT_STALE_AFTER_MS / 2;
    paymentRead.resolve();
    const carriedOn = await answering;

    expect(expectMoved(carriedOn, 'PAID').refunded).to.equal(OTHER_REFUND);
    expect(refundedAtProvider).to.deep.equal([7000n]);
    expect(await postedOf(b, merchant)).to.equal(3000n);
    await expectBooksRight(store);
  });

  /** Operator moves refused by the takeover for the payment's state, which a step taken since allows. */
  const operatorMoves: Record<string, { action: string; body: unknown; before: string[]; since: string; stands: string; started: string; after: string }> = {
    'a capture': { action: 'capture', body: {}, before: [], since: 'submit', stands: 'PENDING', started: 'PaymentCaptureStarted', after: 'PAID' },
    'a settlement': { action: 'settle', body: { fee: '100' }, before: ['submit'], since: 'capture', stands: 'PAID', started: 'PaymentSettlementStarted', after: 'SETTLED' },
  };

  for (const [name, step] of Object.entries(operatorMoves)) {
    it(`${name} stalled before it started moves no money after the takeover refused it for the payment's state`, async () => {
      const paymentRead = deferred();
      const { a, b, store, paymentId } = await start(paymentRead.promise);
      for (const earlier of step.before) expect((await move(b, paymentId, earlier)).status).to.equal(200);
      const key = uniqueKey(`stale-${step.action}`);
      const { answering: answeringA } = await stallOnA(a, store, paymentId, step.action, step.body, key);
      offsetMs += DEFAULT_STALE_AFTER_MS;
      expectProblem(await move(b, paymentId, step.action, step.body, key), 409, 'illegal-payment-transition');
      // The payment moves on before A goes on: it would take the move now.
      expectMoved(await move(b, paymentId, step.since), step.stands);
      paymentRead.resolve();
      const stalled = await answeringA;

      expect(await paymentEventTypes(store, paymentId)).to.not.include(step.started);
      expectProblem(stalled, 503, 'idempotency-claim-expired');
      const replay = await move(b, paymentId, step.action, step.body, key);
      expect(replay.headers['idempotent-replayed'], replay.text).to.equal('true');
      expectProblem(replay, 409, 'illegal-payment-transition');
      expect((await b.get(`/v1/payments/${paymentId}`)).body.state).to.equal(step.stands);
      // The same move under a new key runs as ever.
      expectMoved(await move(a, paymentId, step.action, step.body), step.after);
      await expectBooksRight(store);
    });
  }
});

describe('a resolution of a discrepancy by a run stalled past its claim', () => {
  const DISCREPANCY = 'c'.repeat(32);
  let offsetMs: number;
  const clock = () => new Date(Date.now() + offsetMs);
  let instances: TwoInstances | undefined;

  beforeEach(() => {
    offsetMs = 0;
    instances = undefined;
  });

  afterEach(async () => {
    await instances?.close();
  });

  it('claims nothing once the lease ran out: a claim it left would be finished by a later resolution, posting the journal of a key it never answered', async () => {
    const caseRead = deferred();
    instances = await startTwoInstances({
      api: { clock, discrepancies: knownDiscrepancies({ [DISCREPANCY]: {} }) },
      wrap: { a: (store) => readsOfAfter(store, reconciliationStream(DISCREPANCY), caseRead.promise) },
    });
    const { a, store } = instances;
    const key = uniqueKey('stale-resolve');
    const claims = async () =>
      (await readAllEvents(store)).filter((event) => event.streamName === idempotencyStreamName(CALLER, key) && event.type === 'IdempotentRequestStarted')
        .length;
    const body = { resolution: 'suspense', reason: 'no order found', correction: { amount: '500', currency: 'EUR', provider: 'sandbox' } };
    const answering = a.post(`/v1/reconciliation/discrepancies/${DISCREPANCY}/resolve`, body, { key });
    await eventually(async () => (await claims()) > 0, 'the claim of A');
    offsetMs += DEFAULT_STALE_AFTER_MS;
    caseRead.resolve();

    expectProblem(await answering, 503, 'idempotency-claim-expired');
    const workflow = (await readAllEvents(store)).filter((event) => event.streamName === reconciliationStream(DISCREPANCY));
    expect(workflow.map((event) => event.type)).to.deep.equal([]);
    expect((await ledgerEvents(store)).filter((event) => (event.data as { journal?: { kind: string } }).journal?.kind === 'correction')).to.deep.equal([]);
  });
});

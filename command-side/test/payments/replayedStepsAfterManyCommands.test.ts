/**
 * A payment step another write-side instance recorded first, that instance stopped after the first
 * leg of the step's journal, and the leg's account then took more commands than a stream's state
 * remembers (256). The instance that handles the step next finds it recorded (a replay on the
 * payment's stream) and must find that leg in the log rather than among the account's recent
 * commands: posted again, it would be money out of nothing.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createSnowflakeGenerator, systemAccountId, type EventStore } from '@folio/shared';
import { createAccountCommandHandler } from '../../src/accounts/accountCommandHandler.js';
import { providerJournalPlan } from '../../src/movements/movement.js';
import { createMovementProcess } from '../../src/movements/movementProcess.js';
import { createSystemAccounts } from '../../src/movements/systemAccountOpener.js';
import { expectBooksBalanced, type ApiResponse, type ApiServer } from '../api/apiHarness.js';
import { asSharedLog, holdAppends, journalOf, startTwoInstances, type AppendGate, type TwoInstances } from '../concurrency/twoInstances.js';
import { clearingId, createPayment, expectMoved, move, openMerchant, paymentCallback, postedOf, quietSandbox, sendCallback } from './paymentTestSupport.js';

/** More commands than the command handler remembers per stream. */
const BEYOND_WINDOW = 257;
/** Requests sent at once: the handler decides them in shared batches, each remembered on its own. */
const CONCURRENCY = 16;

const bank = systemAccountId({ role: 'bank', currency: 'EUR' });
const fees = systemAccountId({ role: 'fees', currency: 'EUR' });
const suspense = systemAccountId({ role: 'suspense', currency: 'EUR' });

const inChunks = async (count: number, one: (index: number) => Promise<void>) => {
  for (let start = 0; start < count; start += CONCURRENCY) {
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count - start) }, (_, offset) => one(start + offset)));
  }
};

/** `count` deposits of 1 into `accountId`: as many commands on it. */
const depositMany = (api: ApiServer, accountId: string, count: number) =>
  inChunks(count, async () => {
    const response = await api.deposit(accountId, '1');
    expect(response.status, response.text).to.equal(201);
  });

/**
 * `count` commands on the clearing account by a third write-side process: corrections to suspense
 * and back (2 each), balanced journals standing for other payments' postings there.
 */
const postOnClearing = async (store: EventStore, count: number) => {
  const clock = () => new Date();
  const accounts = createAccountCommandHandler(store);
  const movements = createMovementProcess({ eventStore: store, accounts, systemAccounts: createSystemAccounts(accounts, clock), clock, newEventId: randomUUID });
  const ids = createSnowflakeGenerator({ nodeId: 1000, clock: () => Date.now() });
  const run = { correlationId: 'other-payments', actor: 'test' };
  const correction = async (from: string, to: string) => {
    const movement = { fromAccountId: from, toAccountId: to, amount: 1n, currency: 'EUR' as const, requestedAt: clock().toISOString() };
    const outcome = await movements.run(providerJournalPlan('correction', ids.nextId(), movement), run);
    expect(outcome.status).to.equal('completed');
  };
  await inChunks(Math.ceil(count / 2), async () => {
    await correction(clearingId(), suspense);
    await correction(suspense, clearingId());
  });
};

describe('a payment step replayed from another instance after its first leg left the account\'s recent commands', () => {
  let instances: TwoInstances | undefined;
  afterEach(async () => {
    await instances?.close();
    instances = undefined;
  });

  /** Two instances, A stopped at the append of the second leg of the journal `kind` until released. */
  const start = async (kind: string): Promise<{ a: ApiServer; b: ApiServer; gate: AppendGate }> => {
    const gate = holdAppends((call) => journalOf(call)?.kind === kind && journalOf(call)?.leg === 'second');
    instances = await startTwoInstances({ api: quietSandbox, wrap: { a: gate.wrap } });
    return { a: instances.a, b: instances.b, gate };
  };

  /** A submitted payment of 10000 that B has read (and so holds as PENDING). */
  const pendingPayment = async (a: ApiServer, b: ApiServer) => {
    const merchant = await openMerchant(a);
    const created = await createPayment(a, merchant);
    const payment = expectMoved(await move(a, created.id, 'submit'), 'PENDING');
    expect((await b.get(`/v1/payments/${payment.id}`)).body.state).to.equal('PENDING');
    return { merchant, payment };
  };

  const expectAnswered = async (answer: Promise<ApiResponse>) => {
    const response = await answer;
    expect(response.status, response.text).to.equal(200);
  };

  it('credits the merchant once when B is asked to capture a payment whose capture A started from the provider\'s callback', async () => {
    const { a, b, gate } = await start('capture');
    const { merchant, payment } = await pendingPayment(a, b);

    // A records the provider's callback, starts the capture and credits the merchant, then stops.
    const callback = sendCallback(a, paymentCallback('payment.captured', payment));
    await gate.reached;
    expect(await postedOf(b, merchant)).to.equal(10_000n);
    await depositMany(b, merchant, BEYOND_WINDOW);

    // B still holds the payment as PENDING: its capture is decided again, and found recorded.
    expectMoved(await move(b, payment.id, 'capture'), 'PAID');
    const deposited = BigInt(BEYOND_WINDOW);
    expect(await postedOf(b, merchant)).to.equal(10_000n + deposited);
    expect(await postedOf(b, clearingId())).to.equal(-10_000n);

    gate.release();
    await expectAnswered(callback);
    expect((await a.get(`/v1/payments/${payment.id}`)).body).to.include({ state: 'PAID', captured: '10000' });
    expect({ merchant: await postedOf(a, merchant), clearing: await postedOf(a, clearingId()), bank: await postedOf(a, bank) }).to.deep.equal({
      merchant: 10_000n + deposited,
      clearing: -10_000n,
      bank: -deposited,
    });
    await expectBooksBalanced(instances!.store);
  });

  it('credits the clearing account with the net once when B is asked again to settle a payment whose settlement A started', async () => {
    const { a, b, gate } = await start('settlement');
    const { merchant, payment } = await pendingPayment(a, b);
    expectMoved(await move(a, payment.id, 'capture'), 'PAID');
    expect((await b.get(`/v1/payments/${payment.id}`)).body.state).to.equal('PAID');
    // Redelivered by the provider, the capture's callback is recorded by A after what B last read.
    expect((await sendCallback(a, paymentCallback('payment.captured', payment))).status).to.equal(200);

    // A fixes the settlement, credits the clearing account with the net, then stops.
    const settling = move(a, payment.id, 'settle', { fee: '300' });
    await gate.reached;
    // Read on A: B has not loaded the clearing account yet, and loads it only after the postings.
    expect(await postedOf(a, clearingId())).to.equal(-10_000n + 9_700n);
    await postOnClearing(asSharedLog(instances!.store), BEYOND_WINDOW + 1);

    // The request, retried on B: the settlement is found fixed on the stream.
    expectMoved(await move(b, payment.id, 'settle', { fee: '300' }), 'SETTLED');
    const books = async (api: ApiServer) => ({
      merchant: await postedOf(api, merchant),
      clearing: await postedOf(api, clearingId()),
      bank: await postedOf(api, bank),
      fees: await postedOf(api, fees),
    });
    const settled = { merchant: 10_000n, clearing: 0n, bank: -9_700n, fees: -300n };
    expect(await books(b)).to.deep.equal(settled);

    gate.release();
    expectMoved(await settling, 'SETTLED');
    expect((await a.get(`/v1/payments/${payment.id}`)).body).to.include({ state: 'SETTLED', fee: '300', net: '9700' });
    expect(await books(a)).to.deep.equal(settled);
    await expectBooksBalanced(instances!.store);
  });

  it('credits the merchant once when A and B are both asked to capture, B holding the payment as it was before A\'s capture', async () => {
    const { a, b, gate } = await start('capture');
    const { merchant, payment } = await pendingPayment(a, b);
    const capturing = move(a, payment.id, 'capture');
    await gate.reached;
    await depositMany(b, merchant, BEYOND_WINDOW);

    // Decided on B's copy, B's start of the capture would be the same append as A's, taken for a retry of it.
    expectMoved(await move(b, payment.id, 'capture'), 'PAID');
    gate.release();
    expectMoved(await capturing, 'PAID');
    const deposited = BigInt(BEYOND_WINDOW);
    expect({ merchant: await postedOf(a, merchant), clearing: await postedOf(a, clearingId()), bank: await postedOf(a, bank) }).to.deep.equal({
      merchant: 10_000n + deposited,
      clearing: -10_000n,
      bank: -deposited,
    });
    await expectBooksBalanced(instances!.store);
  });

  it('credits the clearing account with the net once when B is asked to settle a payment whose settlement A started from the provider\'s callback', async () => {
    const { a, b, gate } = await start('settlement');
    const { merchant, payment } = await pendingPayment(a, b);
    expectMoved(await move(a, payment.id, 'capture'), 'PAID');
    expect((await b.get(`/v1/payments/${payment.id}`)).body.state).to.equal('PAID');
    const settling = sendCallback(a, paymentCallback('payment.settled', payment, { fee: '300' }));
    await gate.reached;
    await postOnClearing(asSharedLog(instances!.store), BEYOND_WINDOW + 1);

    // Under the request's command id B's settlement is no replay: the stream has it fixed already.
    expectMoved(await move(b, payment.id, 'settle', { fee: '300' }), 'SETTLED');
    gate.release();
    await expectAnswered(settling);
    expect({
      merchant: await postedOf(a, merchant),
      clearing: await postedOf(a, clearingId()),
      bank: await postedOf(a, bank),
      fees: await postedOf(a, fees),
    }).to.deep.equal({ merchant: 10_000n, clearing: 0n, bank: -9_700n, fees: -300n });
    await expectBooksBalanced(instances!.store);
  });
});

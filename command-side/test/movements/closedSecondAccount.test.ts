/**
 * With several write-side processes, a movement records its choice (`MovementOutcomeChosen`) before
 * its later leg. A transfer whose choice is to complete, and whose destination is then closed
 * before the credit is posted (the close sees only the movements recovery has read up to the
 * account's own last event: one whose debit came after that passes), could never be credited: it
 * must end as failed, its debit reversed onto the source exactly once, however many runs follow it
 * at once and across crashes.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  accountStream,
  checkLedger,
  collect,
  ledgerCatalog,
  StoreUnavailableError,
  StreamNotFoundError,
  type EventStore,
  type GlobalPosition,
  type LedgerEvent,
  type LedgerReport,
  type SqliteEventStore,
} from '@folio/shared';
import { closeAccount } from '../../src/accounts/accountClosing.js';
import { createAccountCommandHandler } from '../../src/accounts/accountCommandHandler.js';
import type { MovementPlan } from '../../src/movements/movement.js';
import { createMovementProcess, MovementIncompleteError } from '../../src/movements/movementProcess.js';
import { createMovementRecovery } from '../../src/movements/movementRecovery.js';
import { createOpenJournals } from '../../src/movements/openJournals.js';
import { createSystemAccounts } from '../../src/movements/systemAccountOpener.js';
import { eventually, readAllEvents, totalsPerCurrency } from '../api/apiHarness.js';
import { contextFor, interceptAppends, openTempStore, rejectionOf, type AppendCall, type TempStore } from '../commandHandling/testSupport.js';
import { asSharedLog, expectBooksRight, holdAppends, journalOf, startTwoInstances, type TwoInstances } from '../concurrency/twoInstances.js';
import { clock, movementPlans, openCustomer, RUN } from './movementScenario.js';

const SOURCE = '7600000000000000011';
const DESTINATION = '7600000000000000012';

const decoded = async (store: EventStore, streamName: string): Promise<LedgerEvent[]> => {
  try {
    return (await collect(store.readStream(streamName))).map((recorded) => ledgerCatalog.decode(recorded) as LedgerEvent);
  } catch (error) {
    if (error instanceof StreamNotFoundError) return [];
    throw error;
  }
};

/** The legs of the journal posted on the account, as `<type>:<leg>`. */
const legsOn = async (store: EventStore, accountId: string, journalId: string): Promise<string[]> =>
  (await decoded(store, accountStream(accountId))).flatMap((event) =>
    (event.type === 'AccountDebited' || event.type === 'AccountCredited') && event.data.journal.id === journalId
      ? [`${event.type}:${event.data.journal.leg}`]
      : [],
  );

/** The movement's stream, as `<type>` or `MovementOutcomeChosen:<outcome>[<replaces]`. */
const movementStream = async (store: EventStore, plan: MovementPlan): Promise<string[]> =>
  (await decoded(store, plan.streamName)).map((event) =>
    event.type === 'MovementOutcomeChosen'
      ? `${event.type}:${event.data.outcome}${event.data.replaces === undefined ? '' : `<${event.data.replaces}`}`
      : event.type,
  );

const openJournalsOf = async (store: EventStore) => {
  const journals = createOpenJournals();
  for await (const recorded of store.readAll()) journals.apply(recorded);
  return journals.list();
};

/**
 * Movement recovery as a close sees it when it lags: it has read the log up to the position the
 * close waits for (the account's own last event), and nothing after it yet.
 */
const recoveryReadUpTo = (store: EventStore) => {
  let journals = createOpenJournals();
  return {
    open: () => journals.list(),
    waitFor: async (target: GlobalPosition) => {
      journals = createOpenJournals();
      for (const recorded of await collect(store.readAll())) if (recorded.position <= target) journals.apply(recorded);
      return true;
    },
  };
};

/** A process of one of several writers on the log: its own handler (and caches), its own ids. */
const writer = (log: EventStore, newEventId: () => string = randomUUID) => {
  const accounts = createAccountCommandHandler(log);
  const movements = createMovementProcess({ eventStore: log, accounts, systemAccounts: createSystemAccounts(accounts, clock), clock, newEventId });
  return { accounts, movements };
};

const isCreditOf = (plan: MovementPlan) => (call: AppendCall) =>
  call.streamName === accountStream(plan.second.accountId) && journalOf(call)?.id === plan.id && journalOf(call)?.leg === 'second';
const isReversalOf = (plan: MovementPlan) => (call: AppendCall) => journalOf(call)?.id === plan.id && journalOf(call)?.leg === 'reversal';
const isReplacementOf = (plan: MovementPlan) => (call: AppendCall) =>
  call.streamName === plan.streamName && (call.events[0]?.data as { replaces?: string } | undefined)?.replaces !== undefined;
const isOutcomeOf = (plan: MovementPlan) => (call: AppendCall) =>
  call.streamName === plan.streamName && /(Completed|Failed)$/.test(call.events[0]!.type);

/** A process that stops (a crash) at the append `stopsAt` picks. */
const stoppingAt = (log: EventStore, stopsAt: (call: AppendCall) => boolean) =>
  writer(interceptAppends(log, (call, proceed) => (stopsAt(call) ? Promise.reject(new StoreUnavailableError('the process died')) : proceed())));

/**
 * The scenario: a source funded with 500, a transfer of 100 to the destination whose run chose to
 * complete it and crashed before the credit, then the destination closed by a close whose view of
 * the open movements ends at the destination's last event (before the transfer's debit).
 */
const chosenToCompleteThenClosed = async (store: SqliteEventStore, ids: ReturnType<typeof movementPlans>) => {
  const log = asSharedLog(store);
  const { accounts, movements } = writer(log);
  for (const id of [SOURCE, DESTINATION]) await openCustomer(accounts, id);
  expect((await movements.run(ids.deposit(SOURCE, 500n), RUN)).status).to.equal('completed');
  const plan = ids.transfer(SOURCE, DESTINATION, 100n);

  const crashed = stoppingAt(log, isCreditOf(plan));
  expect(await rejectionOf(crashed.movements.run(plan, RUN))).to.be.instanceOf(StoreUnavailableError);
  expect(await movementStream(store, plan)).to.deep.equal(['MovementOutcomeChosen:complete']);

  // Nothing else keeps the close from being decided: no payment journal waits on the destination.
  const closing = { accounts, recovery: recoveryReadUpTo(store), paymentJournals: { waitingOn: async () => ({ journals: [], payments: [] }) } };
  const closed = await closeAccount(closing, DESTINATION, contextFor(`close-${DESTINATION}`));
  expect(closed.state.exists && closed.state.status).to.equal('closed');
  const [open] = (await openJournalsOf(store)).filter((journal) => journal.id === plan.id);
  expect(open).to.deep.include({ kind: 'transfer', inTransit: 100n });
  return { plan, firstLegPosition: open!.firstLegPosition, accounts };
};

/** Σ balances + in transit = 0 per currency at every position, and no rule of the books broken. */
const expectBooksSound = async (store: EventStore): Promise<LedgerReport> => {
  const events = await readAllEvents(store);
  for (let upTo = 1; upTo <= events.length; upTo++) {
    const report = checkLedger(events.slice(0, upTo));
    for (const [currency, total] of totalsPerCurrency(report)) expect(total, `${currency} at ${events[upTo - 1]!.position}`).to.equal(0n);
  }
  const report = checkLedger(events);
  expect(report.violations, report.violations.join('\n')).to.deep.equal([]);
  return report;
};

/** Ended once as failed: the choice replaced once, the debit reversed once, the destination never credited. */
const expectFailedOnce = async (store: EventStore, plan: MovementPlan) => {
  expect(await movementStream(store, plan)).to.deep.equal([
    'MovementOutcomeChosen:complete',
    'MovementOutcomeChosen:reverse<complete',
    'TransferFailed',
  ]);
  expect(await legsOn(store, SOURCE, plan.id)).to.deep.equal(['AccountDebited:first', 'AccountCredited:reversal']);
  expect(await legsOn(store, DESTINATION, plan.id)).to.deep.equal([]);
  const report = await expectBooksSound(store);
  expect(report.balances.get(SOURCE)!.balance).to.equal(500n);
  expect(report.balances.get(DESTINATION)!.balance).to.equal(0n);
  expect(report.openJournals).to.equal(0);
  expect(await openJournalsOf(store)).to.deep.equal([]);
};

describe('a transfer chosen to complete whose destination is then closed before the credit (several writers)', () => {
  let temp: TempStore;
  beforeEach(() => {
    temp = openTempStore();
  });
  afterEach(() => temp.dispose());

  it('is ended by movement recovery as failed, its debit reversed onto the source, and leaves the open and stuck lists', async () => {
    const { plan } = await chosenToCompleteThenClosed(temp.store, movementPlans(7600000000000001000n));
    const log = asSharedLog(temp.openAnother());
    const errors: unknown[] = [];
    const recovery = createMovementRecovery({
      eventStore: log,
      process: writer(log).movements,
      clock: () => new Date(),
      stuckAfterMs: 0,
      checkEveryMs: 3_600_000,
      onStuck: () => {},
      onError: (error) => errors.push(error),
      onWarning: () => {},
    });
    await recovery.start();
    try {
      await eventually(async () => recovery.open().length === 0, 'the transfer to leave the open movements', 2_000);
      expect(recovery.stuck()).to.deep.equal([]);
      expect(errors).to.deep.equal([]);
    } finally {
      await recovery.stop();
    }
    await expectFailedOnce(temp.store, plan);
    const [, replacement, failed] = await decoded(temp.store, plan.streamName);
    expect(replacement?.type === 'MovementOutcomeChosen' && replacement.data.reason?.type).to.equal('account-closed');
    expect(failed?.type === 'TransferFailed' && failed.data.reason.type).to.equal('account-closed');
  });

  it('ends once however many runs of several processes follow it at once', async () => {
    const ids = movementPlans(7600000000000002000n);
    const { plan, firstLegPosition } = await chosenToCompleteThenClosed(temp.store, ids);
    const processes = Array.from({ length: 4 }, () => writer(asSharedLog(temp.openAnother())).movements);

    const outcomes = await Promise.all(
      processes.flatMap((movements, index) => [
        movements.resume(plan, { correlationId: `recovery-${index}`, actor: 'recovery' }, { firstLegPosition }),
        movements.run(plan, RUN, { retry: true }),
      ]),
    );

    for (const outcome of outcomes) expect(outcome).to.deep.equal(outcomes[0]);
    expect(outcomes[0]).to.deep.include({ status: 'failed' });
    expect(outcomes[0]!.failure?.type).to.equal('account-closed');
    await expectFailedOnce(temp.store, plan);
  });

  it('a run that loses the race to replace the choice follows the one that stands, and the reversal is posted once', async () => {
    const { plan, firstLegPosition } = await chosenToCompleteThenClosed(temp.store, movementPlans(7600000000000003000n));
    // A is stopped just before it appends its replacement; B just before it posts the reversal of its own.
    const gateA = holdAppends(isReplacementOf(plan));
    const gateB = holdAppends(isReversalOf(plan));
    const a = writer(gateA.wrap(asSharedLog(temp.openAnother()))).movements;
    const b = writer(gateB.wrap(asSharedLog(temp.openAnother()))).movements;
    const from = { firstLegPosition };

    const aRunning = a.resume(plan, { correlationId: 'a', actor: 'recovery' }, from);
    await gateA.reached;
    const bRunning = b.resume(plan, { correlationId: 'b', actor: 'recovery' }, from);
    await gateB.reached;
    expect(await movementStream(temp.store, plan)).to.deep.equal(['MovementOutcomeChosen:complete', 'MovementOutcomeChosen:reverse<complete']);
    // A's replacement is refused (B's stands): A follows B's choice to its end.
    gateA.release();
    const aOutcome = await aRunning;
    gateB.release();
    const bOutcome = await bRunning;

    expect(aOutcome.status).to.equal('failed');
    expect(bOutcome).to.deep.equal(aOutcome);
    await expectFailedOnce(temp.store, plan);
  });

  for (const [where, stopsAt] of [
    ['after it replaced the choice, before the reversal', isReversalOf],
    ['after the reversal, before recording the outcome', isOutcomeOf],
  ] as const) {
    it(`is finished by a restarted process when the run that replaced the choice stopped ${where}`, async () => {
      const { plan, firstLegPosition } = await chosenToCompleteThenClosed(temp.store, movementPlans(7600000000000004000n));
      const crashing = stoppingAt(asSharedLog(temp.openAnother()), stopsAt(plan));
      expect(await rejectionOf(crashing.movements.resume(plan, RUN, { firstLegPosition }))).to.be.instanceOf(StoreUnavailableError);
      expect((await movementStream(temp.store, plan)).slice(0, 2)).to.deep.equal(['MovementOutcomeChosen:complete', 'MovementOutcomeChosen:reverse<complete']);

      const restarted = writer(asSharedLog(temp.openAnother())).movements;
      const outcome = await restarted.resume(plan, RUN, { firstLegPosition });
      const head = await temp.store.headPosition();

      expect(outcome.status).to.equal('failed');
      expect(await restarted.resume(plan, RUN, { firstLegPosition })).to.deep.equal(outcome);
      expect(await writer(asSharedLog(temp.openAnother())).movements.run(plan, RUN, { retry: true })).to.deep.equal(outcome);
      expect(await temp.store.headPosition()).to.equal(head);
      await expectFailedOnce(temp.store, plan);
    });
  }

  it('keeps a choice to complete while the destination is only frozen: in transit until it is unfrozen, then credited', async () => {
    const ids = movementPlans(7600000000000005000n);
    const log = asSharedLog(temp.store);
    const { accounts, movements } = writer(log);
    for (const id of [SOURCE, DESTINATION]) await openCustomer(accounts, id);
    await movements.run(ids.deposit(SOURCE, 500n), RUN);
    const plan = ids.transfer(SOURCE, DESTINATION, 100n);
    await rejectionOf(stoppingAt(log, isCreditOf(plan)).movements.run(plan, RUN));
    await accounts.handle(accountStream(DESTINATION), { type: 'FreezeAccount', accountId: DESTINATION }, contextFor('freeze'));
    const [open] = await openJournalsOf(temp.store);
    const from = { firstLegPosition: open!.firstLegPosition };

    const refused = await rejectionOf(writer(asSharedLog(temp.openAnother())).movements.resume(plan, RUN, from));

    expect(refused).to.be.instanceOf(MovementIncompleteError);
    expect(await movementStream(temp.store, plan)).to.deep.equal(['MovementOutcomeChosen:complete']);
    await accounts.handle(accountStream(DESTINATION), { type: 'UnfreezeAccount', accountId: DESTINATION }, contextFor('unfreeze'));
    expect((await writer(asSharedLog(temp.openAnother())).movements.resume(plan, RUN, from)).status).to.equal('completed');
    expect(await movementStream(temp.store, plan)).to.deep.equal(['MovementOutcomeChosen:complete', 'TransferCompleted']);
    const report = await expectBooksSound(temp.store);
    expect(report.balances.get(DESTINATION)!.balance).to.equal(100n);
  });

  it('gives its choices the ids of the id source it is given', async () => {
    const ids = movementPlans(7600000000000006000n);
    const { plan, firstLegPosition } = await chosenToCompleteThenClosed(temp.store, ids);
    const minted: string[] = [];
    const newEventId = () => {
      const id = `00000000-0000-4000-8000-${String(minted.length + 1).padStart(12, '0')}`;
      minted.push(id);
      return id;
    };

    await writer(asSharedLog(temp.openAnother()), newEventId).movements.resume(plan, RUN, { firstLegPosition });

    const [, replacement] = await collect(temp.store.readStream(plan.streamName));
    expect(minted).to.deep.equal(['00000000-0000-4000-8000-000000000001']);
    expect(replacement!.id).to.equal(minted[0]);
  });
});

describe('two write APIs restarted on a transfer chosen to complete whose destination was then closed', () => {
  let instances: TwoInstances | undefined;
  afterEach(async () => {
    await instances?.close();
    instances = undefined;
  });

  it('both recoveries resume it: it ends failed once, the source has its money back, and neither lists it in transit', async () => {
    let plan!: MovementPlan;
    instances = await startTwoInstances({
      api: { stuckAfterMs: 50, onStuck: () => {} },
      prepare: async (store) => {
        ({ plan } = await chosenToCompleteThenClosed(store, movementPlans(7600000000000007000n)));
      },
    });
    const { a, b, store } = instances;
    const ended = async (): Promise<boolean> => (await movementStream(store, plan)).includes('TransferFailed');
    await eventually(ended, 'a recovery to end the transfer');
    await eventually(
      async () => [a, b].every((api) => api.writeApi.inTransit().length === 0 && api.writeApi.stuckMovements().length === 0),
      'both recoveries to drop it',
    );

    await expectBooksRight(store);
    await expectFailedOnce(store, plan);
    const viewed = await b.get(`/v1/transfers/${plan.id}`);
    expect(viewed.body.status).to.equal('failed');
    expect(viewed.body.failureReason.type).to.equal('account-closed');
    expect((await a.account(SOURCE)).balance.posted).to.equal('500');
  });
});

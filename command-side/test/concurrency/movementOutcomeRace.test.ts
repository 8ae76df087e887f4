/**
 * Two runs of one movement in two write-side processes (see `twoInstances.ts`): a run slower than
 * the stuck threshold and the other process's recovery, or both recoveries. Between their looks at
 * the destination its acceptance changes (frozen, then unfrozen, or the reverse), so left to
 * themselves one run would credit it and the other reverse the debit: money out of nothing. Each
 * race is pinned by holding one run's append until the other has run.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  accountStream,
  checkLedger,
  ledgerCatalog,
  type EventStore,
  type LedgerEvent,
  type RecordedEvent,
  type SqliteEventStore,
} from '@folio/shared';
import { MovementIncompleteError } from '../../src/movements/movementProcess.js';
import { eventually, readAllEvents } from '../api/apiHarness.js';
import { contextFor, NOW, openTempStore, recordAppends, type AppendCall } from '../commandHandling/testSupport.js';
import { movementPlans, openCustomer, postFirstLegOnly, RUN, startProcess } from '../movements/movementScenario.js';
import {
  asSharedLog,
  expectBooksRight,
  holdAppends,
  journalOf,
  readsOfAfter,
  startTwoInstances,
  type TwoInstances,
} from './twoInstances.js';

const OUTCOMES = new Set(['TransferCompleted', 'TransferFailed']);

const eventsOfTransfer = (events: RecordedEvent[], transferId: string) =>
  events.filter((event) => event.streamName === `transfer-${transferId}`);

/** The transfer's outcome event, once some run recorded it. */
const outcomeOf = async (store: SqliteEventStore, transferId: string) =>
  eventsOfTransfer(await readAllEvents(store), transferId).find((event) => OUTCOMES.has(event.type));

/** Every run followed one choice: one recorded, and the outcome is the one chosen. */
const expectOneChoice = async (store: SqliteEventStore, transferId: string, outcome: 'complete' | 'reverse') => {
  const events = eventsOfTransfer(await readAllEvents(store), transferId);
  expect(events.map((event) => event.type)).to.deep.equal([
    'MovementOutcomeChosen',
    outcome === 'complete' ? 'TransferCompleted' : 'TransferFailed',
  ]);
  expect((events[0]!.data as { outcome: string }).outcome).to.equal(outcome);
};

describe('two runs of one movement that its destination answers differently', () => {
  let instances: TwoInstances | undefined;
  afterEach(async () => {
    await instances?.close();
    instances = undefined;
  });

  it('a run refused by the frozen destination and the other process resuming it once unfrozen: the debit is reversed, never also credited', async () => {
    // A is stopped just before it reverses the debit its destination refused.
    const gate = holdAppends((call) => journalOf(call)?.leg === 'reversal');
    instances = await startTwoInstances({ api: { stuckAfterMs: 50, onStuck: () => {} }, wrap: { a: gate.wrap } });
    const { a, b } = instances;
    const source = await a.openFundedAccount('500');
    const destination = (await a.openAccount()).id as string;
    expect((await a.post(`/v1/accounts/${destination}/freeze`, {})).status).to.equal(200);

    const transferring = a.transfer(source, destination, '100');
    const transferId = journalOf(await gate.reached)!.id;
    // The destination would take the money now; B's recovery finds the transfer stuck and runs it.
    expect((await b.post(`/v1/accounts/${destination}/unfreeze`, {})).status).to.equal(200);
    await eventually(async () => (await outcomeOf(instances!.store, transferId)) !== undefined, 'B to finish the transfer');
    gate.release();
    const response = await transferring;

    const report = await expectBooksRight(instances.store);
    expect(response.status, response.text).to.equal(201);
    expect(response.body.status).to.equal('failed');
    expect(response.body.failureReason.type).to.equal('account-frozen');
    expect((await b.get(`/v1/transfers/${transferId}`)).body.status).to.equal('failed');
    expect(report.balances.get(source)!.balance).to.equal(500n);
    expect(report.balances.get(destination)!.balance).to.equal(0n);
    await expectOneChoice(instances.store, transferId, 'reverse');
  });

  it('a run the destination accepted and the other process resuming it while frozen: it is credited once unfrozen, never reversed', async () => {
    // A is stopped just before it credits the destination that accepted its leg.
    const gate = holdAppends((call) => journalOf(call)?.kind === 'transfer' && journalOf(call)?.leg === 'second');
    const errors: unknown[] = [];
    instances = await startTwoInstances({
      api: { stuckAfterMs: 50, onStuck: () => {}, onError: (error) => errors.push(error) },
      wrap: { a: gate.wrap },
    });
    const { a, b } = instances;
    const source = await a.openFundedAccount('500');
    const destination = (await a.openAccount()).id as string;

    const transferring = a.transfer(source, destination, '100');
    const transferId = journalOf(await gate.reached)!.id;
    expect((await b.post(`/v1/accounts/${destination}/freeze`, {})).status).to.equal(200);
    // B's recovery runs the stuck transfer against the frozen destination: it ends it, or leaves it in transit.
    const bRan = async () =>
      (await outcomeOf(instances!.store, transferId)) !== undefined ||
      errors.some((error) => error instanceof MovementIncompleteError && error.movementId === transferId);
    await eventually(bRan, 'B to run the transfer');
    expect((await b.post(`/v1/accounts/${destination}/unfreeze`, {})).status).to.equal(200);
    gate.release();
    const response = await transferring;

    const report = await expectBooksRight(instances.store);
    expect(response.status, response.text).to.equal(201);
    expect(response.body.status).to.equal('completed');
    expect(report.balances.get(source)!.balance).to.equal(400n);
    expect(report.balances.get(destination)!.balance).to.equal(100n);
    await expectOneChoice(instances.store, transferId, 'complete');
  });

  it('both recoveries on a transfer a crash left after its debit, one refused and one accepted: the debit is reversed, never also credited', async () => {
    const { transfer } = movementPlans(7400000000000009000n);
    const SOURCE = '7400000000000009901';
    const DESTINATION = '7400000000000009902';
    const plan = transfer(SOURCE, DESTINATION, 100n);
    let store!: SqliteEventStore;
    const side = () => startProcess(asSharedLog(store));
    const crashedRun = async (prepared: SqliteEventStore) => {
      store = prepared;
      const { accounts, movements } = side();
      for (const id of [SOURCE, DESTINATION]) await openCustomer(accounts, id);
      await movements.run(movementPlans(7400000000000009500n).deposit(SOURCE, 500n), RUN);
      await postFirstLegOnly(accounts, plan);
      await accounts.handle(accountStream(DESTINATION), { type: 'FreezeAccount', accountId: DESTINATION }, contextFor('freeze'));
    };
    // A's recovery is stopped before it reverses the debit; B's looks at the transfer only once the destination is unfrozen.
    const gate = holdAppends((call) => journalOf(call)?.leg === 'reversal');
    let appendsOfA: AppendCall[] = [];
    const wrapA = (log: EventStore) => {
      const recorded = recordAppends(gate.wrap(log));
      appendsOfA = recorded.calls;
      return recorded.store;
    };
    let unfrozen!: () => void;
    const bMayLook = new Promise<void>((resolve) => (unfrozen = resolve));
    const starting = startTwoInstances({
      api: { stuckAfterMs: 50, onStuck: () => {} },
      prepare: crashedRun,
      wrap: { a: wrapA, b: (log) => readsOfAfter(log, plan.streamName, bMayLook) },
    });
    try {
      await gate.reached;
      await side().accounts.handle(accountStream(DESTINATION), { type: 'UnfreezeAccount', accountId: DESTINATION }, contextFor('unfreeze'));
      unfrozen();
      await eventually(async () => (await outcomeOf(store, plan.id)) !== undefined, 'B to finish the transfer');
    } finally {
      unfrozen();
      gate.release();
      instances = await starting;
    }
    // A's run ends by recording the outcome (which finds B's recorded already).
    const aEnded = () => appendsOfA.some((call) => call.streamName === plan.streamName && OUTCOMES.has(call.events[0]!.type));
    await eventually(async () => aEnded(), 'A to finish its run');

    const report = await expectBooksRight(store);
    expect(report.balances.get(SOURCE)!.balance).to.equal(500n);
    expect(report.balances.get(DESTINATION)!.balance).to.equal(0n);
    await expectOneChoice(store, plan.id, 'reverse');
  });
});

describe('the books check of an outcome chosen for a movement', () => {
  it('reports a leg and an outcome that contradict the outcome a run chose', async () => {
    const temp = openTempStore();
    try {
      const { accounts, movements } = startProcess(temp.store);
      const { transfer, deposit } = movementPlans(7400000000000009700n);
      const SOURCE = '7400000000000009951';
      const DESTINATION = '7400000000000009952';
      for (const id of [SOURCE, DESTINATION]) await openCustomer(accounts, id);
      await movements.run(deposit(SOURCE, 500n), RUN);
      const plan = transfer(SOURCE, DESTINATION, 100n);
      await postFirstLegOnly(accounts, plan);
      const metadata = { $correlationId: 'test', actor: 'test', occurredAt: NOW.toISOString() };
      const append = (expectedRevision: bigint | 'no_stream', event: { type: string; data: object }) =>
        temp.store.appendToStream(
          plan.streamName,
          [ledgerCatalog.encode({ ...event, id: randomUUID(), version: 1, metadata } as LedgerEvent)],
          { expectedRevision },
        );
      await append('no_stream', {
        type: 'MovementOutcomeChosen',
        data: {
          kind: 'transfer',
          journalId: plan.id,
          outcome: 'reverse',
          reason: { type: 'account-frozen', detail: 'frozen' },
          chosenAt: NOW.toISOString(),
        },
      });
      // A run that ignores the choice: it credits the destination and records the transfer completed.
      await accounts.handle(
        accountStream(DESTINATION),
        {
          type: 'PostCredit',
          accountId: DESTINATION,
          journal: { id: plan.id, kind: 'transfer', leg: 'second', counterpartyAccountId: SOURCE },
          amount: 100n,
          currency: 'EUR',
        },
        contextFor('ignoring-the-choice'),
      );
      await append(0n, { type: 'TransferCompleted', data: { ...plan.movement, transferId: plan.id, completedAt: NOW.toISOString() } });

      const { violations } = checkLedger(await readAllEvents(temp.store));

      expect(violations.map((violation) => violation.replace(/^@[0-9]+: /, ''))).to.deep.equal([
        `second leg of transfer-${plan.id} posted though a run chose to reverse it`,
        `transfer-${plan.id} completed though a run chose to reverse it`,
      ]);
    } finally {
      await temp.dispose();
    }
  });
});

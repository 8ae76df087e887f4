import { expect } from 'chai';
import {
  accountStream,
  collect,
  ledgerCatalog,
  StreamNotFoundError,
  type EventStore,
  type GlobalPosition,
  type LedgerEvent,
} from '@folio/shared';
import type { AccountCommandHandler } from '../../src/accounts/accountCommandHandler.js';
import type { MovementPlan } from '../../src/movements/movement.js';
import { legCommandId, type MovementProcess } from '../../src/movements/movementProcess.js';
import { createMovementRecovery, type RecoveryCheckpointSchedule } from '../../src/movements/movementRecovery.js';
import { createOpenJournals, type OpenJournal } from '../../src/movements/openJournals.js';
import {
  decodeRecoveryCheckpoint,
  encodeRecoveryCheckpoint,
  RECOVERY_CHECKPOINT_STREAM,
} from '../../src/movements/recoveryCheckpoint.js';
import { readLatestCheckpoint } from '../../src/recovery/checkpointedLogFold.js';
import { interceptAppends, NOW, openTempStore, recordSubscriptions, type TempStore } from '../commandHandling/testSupport.js';
import { movementPlans, openCustomer, postFirstLegOnly, RUN, startProcess } from './movementScenario.js';

const { transfer, deposit } = movementPlans(7300000000000002000n);

const ALICE = '7300000000000000021';
const BOB = '7300000000000000022';






/** The open journals after the event at `upTo`, folded from the start of the log. */
const openJournalsUpTo = async (store: EventStore, upTo: GlobalPosition): Promise<OpenJournal[]> => {
  const journals = createOpenJournals();
  for await (const recorded of store.readAll()) {
    if (recorded.position > upTo) break;
    journals.apply(recorded);
  }
  return journals.list();
};

/** The position of the last ledger event, the last one recovery follows. */
const lastLedgerPosition = async (store: EventStore): Promise<GlobalPosition> => {
  const [last] = await collect(store.readAll({ direction: 'backwards', maxCount: 1, filter: { streamNamePrefixes: ['account-', 'transfer-'] } }));
  return last!.position;
};

const outcomesOf = async (store: EventStore, plan: MovementPlan): Promise<string[]> => {
  try {
    return (await collect(store.readStream(plan.streamName))).map((recorded) => recorded.type);
  } catch (error) {
    if (error instanceof StreamNotFoundError) return [];
    throw error;
  }
};

const postingsOf = async (store: EventStore, accountId: string, journalId: string): Promise<string[]> =>
  (await collect(store.readStream(accountStream(accountId))))
    .map((recorded) => ledgerCatalog.decode(recorded) as LedgerEvent)
    .flatMap((event) =>
      (event.type === 'AccountDebited' || event.type === 'AccountCredited') && event.data.journal.id === journalId
        ? [`${event.type}:${event.data.journal.leg}`]
        : [],
    );

/** The process, recording which movements it was asked to resume. */
const recordResumes = (process: MovementProcess): { process: MovementProcess; resumed: string[] } => {
  const resumed: string[] = [];
  return {
    process: { ...process, resume: (plan, run, from) => (resumed.push(plan.id), process.resume(plan, run, from)) },
    resumed,
  };
};

const eventually = async (probe: () => Promise<boolean>, what: string): Promise<void> => {
  const deadline = Date.now() + 5_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

interface Warning {
  message: string;
  error: unknown;
}

const startRecovery = (
  eventStore: EventStore,
  process: MovementProcess,
  checkpoint: Partial<RecoveryCheckpointSchedule> = {},
  now: () => Date = () => new Date(),
) => {
  const warnings: Warning[] = [];
  const errors: unknown[] = [];
  const recovery = createMovementRecovery({
    eventStore,
    process,
    clock: now,
    stuckAfterMs: 3_600_000,
    checkEveryMs: 3_600_000,
    onStuck: () => {},
    onError: (error) => errors.push(error),
    onWarning: (message, error) => warnings.push({ message, error }),
    checkpoint: { everyEvents: 1_000_000, everyMs: 3_600_000, ...checkpoint },
  });
  return { recovery, warnings, errors };
};

describe('movement recovery from a checkpoint (SQLite store)', () => {
  let temp: TempStore;
  let accounts: AccountCommandHandler;
  let movements: MovementProcess;

  beforeEach(async () => {
    temp = openTempStore();
    ({ accounts, movements } = startProcess(temp.store));
    await openCustomer(accounts, ALICE);
    await openCustomer(accounts, BOB);
    expect((await movements.run(deposit(ALICE, 1_000n), RUN)).status).to.equal('completed');
  });

  afterEach(() => temp.dispose());

  /**
   * Two transfers interrupted after their first leg, a checkpoint of the log at that point, then
   * one of the two finished (after the checkpoint) by a process that went down again before
   * recording anything else.
   */
  const crashAroundACheckpoint = async () => {
    const closedLater = transfer(ALICE, BOB, 100n);
    const stillOpen = transfer(ALICE, BOB, 200n);
    await postFirstLegOnly(accounts, closedLater);
    await postFirstLegOnly(accounts, stillOpen);
    const position = await lastLedgerPosition(temp.store);
    const journals = await openJournalsUpTo(temp.store, position);
    expect(journals.map(({ id }) => id)).to.deep.equal([closedLater.id, stillOpen.id]);
    const checkpoint = encodeRecoveryCheckpoint({ position, journals }, NOW);
    await temp.store.appendToStream(RECOVERY_CHECKPOINT_STREAM, [checkpoint]);
    expect((await movements.resume(closedLater, RUN, { firstLegPosition: journals[0]!.firstLegPosition })).status).to.equal('completed');
    return { closedLater, stillOpen, position, checkpoint };
  };

  /** What every start, with or without a usable checkpoint, must end with. */
  const expectBothCompletedOnce = async ({ closedLater, stillOpen }: { closedLater: MovementPlan; stillOpen: MovementPlan }) => {
    for (const plan of [closedLater, stillOpen]) {
      expect(await outcomesOf(temp.store, plan), plan.id).to.deep.equal(['TransferCompleted']);
      expect(await postingsOf(temp.store, ALICE, plan.id)).to.deep.equal(['AccountDebited:first']);
      expect(await postingsOf(temp.store, BOB, plan.id)).to.deep.equal(['AccountCredited:second']);
    }
  };

  it('follows the log from the checkpoint, not from the start, and resumes only what is still open', async () => {
    const crash = await crashAroundACheckpoint();
    const subscriptions = recordSubscriptions(temp.openAnother());
    const restarted = recordResumes(startProcess(subscriptions.store).movements);
    const { recovery, warnings, errors } = startRecovery(subscriptions.store, restarted.process);

    await recovery.start();
    try {
      expect(subscriptions.from).to.deep.equal([crash.position]);
      // The one closed after the checkpoint was closed by the log that followed it.
      expect(restarted.resumed).to.deep.equal([crash.stillOpen.id]);
      await expectBothCompletedOnce(crash);
      await eventually(async () => recovery.open().length === 0, 'nothing open');
      expect([warnings, errors]).to.deep.equal([[], []]);
    } finally {
      await recovery.stop();
    }
  });

  for (const [what, corrupt] of [
    ['garbled data', (event: ReturnType<typeof encodeRecoveryCheckpoint>) => ({ ...event, data: { position: 'nowhere', journals: 'all' } })],
    ['an unknown event type', (event: ReturnType<typeof encodeRecoveryCheckpoint>) => ({ ...event, type: 'SomethingElse' })],
    ['another fold version', (event: ReturnType<typeof encodeRecoveryCheckpoint>) => ({ ...event, data: { ...event.data, fold: 99 } })],
  ] as const) {
    it(`ignores a latest checkpoint with ${what}, with a warning, and folds the whole log to the same end`, async () => {
      const crash = await crashAroundACheckpoint();
      const bad = corrupt(encodeRecoveryCheckpoint({ position: crash.position + 1_000n, journals: [] }, NOW));
      await temp.store.appendToStream(RECOVERY_CHECKPOINT_STREAM, [{ ...bad, id: '7a2f3b3e-4f5b-4c1e-9a55-7d3c6c0b1e01' }]);
      const subscriptions = recordSubscriptions(temp.openAnother());
      const restarted = recordResumes(startProcess(subscriptions.store).movements);
      const { recovery, warnings, errors } = startRecovery(subscriptions.store, restarted.process);

      await recovery.start();
      try {
        expect(subscriptions.from).to.deep.equal(['start']);
        expect(warnings.map(({ message }) => message)).to.deep.equal(['recovery checkpoint ignored, folding the whole log']);
        expect(restarted.resumed).to.deep.equal([crash.stillOpen.id]);
        await expectBothCompletedOnce(crash);
        await eventually(async () => recovery.open().length === 0, 'nothing open');
        expect(errors).to.deep.equal([]);
      } finally {
        await recovery.stop();
      }
    });
  }

  it('checkpoints at the first event after catching up, every N events after, and on stop: each true to the log up to its position', async () => {
    const interrupted = transfer(ALICE, BOB, 300n);
    await postFirstLegOnly(accounts, interrupted);
    const { recovery, warnings } = startRecovery(temp.store, movements, { everyEvents: 4 });

    await recovery.start();
    for (let n = 0; n < 3; n += 1) await movements.run(transfer(ALICE, BOB, 10n), RUN);
    const head = await lastLedgerPosition(temp.store);
    await eventually(async () => recovery.position() === head, 'everything folded');
    await recovery.stop();

    const checkpoints = (await collect(temp.store.readStream(RECOVERY_CHECKPOINT_STREAM))).map(decodeRecoveryCheckpoint);
    // Right after the credit that finished the interrupted transfer, before its outcome closed it.
    const credit = (await collect(temp.store.readStream(accountStream(BOB)))).find(({ metadata }) => metadata?.commandId === legCommandId(interrupted, 'second'))!;
    expect(checkpoints[0]!.position).to.equal(credit.position);
    expect(checkpoints[0]!.journals.map(({ id, inTransit }) => ({ id, inTransit }))).to.deep.equal([{ id: interrupted.id, inTransit: 0n }]);
    // 11 events folded after catching up (2 finishing the resumed transfer, 3 per new one): the
    // first, at least one every 4 after it, and the last on stop.
    expect(checkpoints.length).to.be.within(3, 5);
    expect(checkpoints.at(-1)).to.deep.equal({ position: head, journals: [] });
    for (const { position, journals } of checkpoints) {
      // Never ahead of what it records: exactly the fold of the log up to its position.
      expect(journals, `checkpoint at ${position}`).to.deep.equal(await openJournalsUpTo(temp.store, position));
    }
    expect(warnings).to.deep.equal([]);
  });

  it('checkpoints at the first event once the interval has passed, and not on stop after the log was idle that long', async () => {
    let now = NOW.getTime();
    const moving = () => new Date(now);
    // The store commits at the same moving time.
    const own = openTempStore(moving);
    try {
      const { accounts, movements } = startProcess(own.store);
      await openCustomer(accounts, ALICE);
      await openCustomer(accounts, BOB);
      await movements.run(deposit(ALICE, 1_000n), RUN);
      const { recovery } = startRecovery(own.store, movements, { everyEvents: 1_000, everyMs: 60_000 }, moving);
      await recovery.start();
      const written = async () => {
        try {
          return (await collect(own.store.readStream(RECOVERY_CHECKPOINT_STREAM))).map(decodeRecoveryCheckpoint);
        } catch (error) {
          if (error instanceof StreamNotFoundError) return [];
          throw error;
        }
      };

      await movements.run(transfer(ALICE, BOB, 10n), RUN);
      await eventually(async () => recovery.position() === (await lastLedgerPosition(own.store)), 'the first transfer folded');
      await eventually(async () => (await written()).length === 1, 'the checkpoint of what the start folded');

      now += 30_000;
      await movements.run(transfer(ALICE, BOB, 10n), RUN);
      await eventually(async () => recovery.position() === (await lastLedgerPosition(own.store)), 'the second transfer folded');
      expect(await written()).to.have.length(1);

      now += 30_000;
      await movements.run(transfer(ALICE, BOB, 10n), RUN);
      const third = await lastLedgerPosition(own.store);
      await eventually(async () => (await written()).length === 2, 'a checkpoint a minute after the first');
      await eventually(async () => recovery.position() === third, 'the third transfer folded');

      now += 60_000;
      await recovery.stop();
      const checkpoints = await written();
      expect(checkpoints).to.have.length(2);
      expect(checkpoints[1]!.position <= third, 'never ahead of the log').to.equal(true);
      expect(checkpoints[1]!.journals).to.deep.equal(await openJournalsUpTo(own.store, checkpoints[1]!.position));
    } finally {
      await own.dispose();
    }
  });

  it('writes nothing more when nothing was folded since the last checkpoint', async () => {
    const first = startRecovery(temp.store, movements);
    await first.recovery.start();
    await first.recovery.stop();
    const written = (await collect(temp.store.readStream(RECOVERY_CHECKPOINT_STREAM))).length;

    const again = startRecovery(temp.store, movements);
    await again.recovery.start();
    await again.recovery.stop();

    expect(written).to.equal(1);
    expect(await collect(temp.store.readStream(RECOVERY_CHECKPOINT_STREAM))).to.have.length(1);
  });

  it('starts the next run from where the last one stopped', async () => {
    const first = startRecovery(temp.store, movements);
    await first.recovery.start();
    await movements.run(transfer(ALICE, BOB, 10n), RUN);
    const head = await lastLedgerPosition(temp.store);
    await eventually(async () => first.recovery.position() === head, 'the transfer folded');
    await first.recovery.stop();

    const subscriptions = recordSubscriptions(temp.store);
    const next = startRecovery(subscriptions.store, movements);
    await next.recovery.start();
    await next.recovery.stop();

    expect(subscriptions.from).to.deep.equal([head]);
  });

  it('never holds up or fails a movement when checkpoints cannot be written, and writes one once it can', async () => {
    let refuse = true;
    const failing = interceptAppends(temp.store, (call, proceed) =>
      refuse && call.streamName === RECOVERY_CHECKPOINT_STREAM ? Promise.reject(new Error('disk full')) : proceed(),
    );
    const interrupted = transfer(ALICE, BOB, 300n);
    await postFirstLegOnly(accounts, interrupted);
    const process = startProcess(failing).movements;
    const { recovery, warnings, errors } = startRecovery(failing, process, { everyEvents: 2, everyMs: 20 }, () => new Date());

    await recovery.start();
    expect(await outcomesOf(temp.store, interrupted)).to.deep.equal(['TransferCompleted']);
    expect((await process.run(transfer(ALICE, BOB, 50n), RUN)).status).to.equal('completed');
    await eventually(async () => warnings.length >= 1, 'a failed write reported');
    expect(await readLatestCheckpoint(temp.store, RECOVERY_CHECKPOINT_STREAM, decodeRecoveryCheckpoint)).to.equal(undefined);

    refuse = false;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect((await process.run(transfer(ALICE, BOB, 50n), RUN)).status).to.equal('completed');
    await eventually(async () => (await readLatestCheckpoint(temp.store, RECOVERY_CHECKPOINT_STREAM, decodeRecoveryCheckpoint)) !== undefined, 'a checkpoint once the store takes it');
    await eventually(async () => recovery.position() === (await lastLedgerPosition(temp.store)), 'everything folded');
    await recovery.stop();
    expect(warnings.every(({ message }) => message === 'recovery checkpoint not written, tried again later')).to.equal(true);
    expect(errors).to.deep.equal([]);
    const latest = (await readLatestCheckpoint(temp.store, RECOVERY_CHECKPOINT_STREAM, decodeRecoveryCheckpoint))!;
    expect(latest.position).to.equal(await lastLedgerPosition(temp.store));
    expect(latest.journals).to.deep.equal([]);
  });
});

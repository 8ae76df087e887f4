import { expect } from 'chai';
import {
  accountStream,
  collect,
  createSnowflakeGenerator,
  depositStream,
  ledgerCatalog,
  StoreUnavailableError,
  StreamNotFoundError,
  transferStream,
  type CurrencyCode,
  type EventStore,
  type LedgerEvent,
  type SqliteEventStore,
} from '@folio/shared';
import type { AccountCommandHandler } from '../../src/accounts/accountCommandHandler.js';
import { InsufficientFundsError } from '../../src/accounts/accountErrors.js';
import { CommandIdReusedError } from '../../src/commandHandling/commandErrors.js';
import { IdempotencyClaimExpiredError, isBusinessRejection } from '../../src/idempotency/index.js';
import { legCommandId, MovementIncompleteError, type MovementProcess } from '../../src/movements/movementProcess.js';
import { createOpenJournals } from '../../src/movements/openJournals.js';
import {
  contextFor,
  interceptAppends,
  NOW,
  openTempStore,
  recordAppends,
  rejectionOf,
  type TempStore,
} from '../commandHandling/testSupport.js';
import { asSharedLog } from '../concurrency/twoInstances.js';
import { BANK, movementPlans, openCustomer, postFirstLegOnly, RUN, startProcess } from './movementScenario.js';

const { newId, transfer, deposit } = movementPlans(7300000000000001000n);

const ALICE = '7300000000000000011';
const BOB = '7300000000000000012';
const CAROL = '7300000000000000013';






const setFrozen = (accounts: AccountCommandHandler, accountId: string, frozen: boolean) =>
  accounts.handle(
    accountStream(accountId),
    frozen ? { type: 'FreezeAccount', accountId } : { type: 'UnfreezeAccount', accountId },
    contextFor(`${frozen ? 'freeze' : 'unfreeze'}-${accountId}-${newId()}`),
  );


const decodedStream = async (store: EventStore, streamName: string): Promise<LedgerEvent[]> => {
  try {
    return (await collect(store.readStream(streamName))).map((recorded) => ledgerCatalog.decode(recorded) as LedgerEvent);
  } catch (error) {
    if (error instanceof StreamNotFoundError) return [];
    throw error;
  }
};

type PostingEvent = Extract<LedgerEvent, { type: 'AccountDebited' | 'AccountCredited' }>;
const isPosting = (event: LedgerEvent): event is PostingEvent =>
  event.type === 'AccountDebited' || event.type === 'AccountCredited';

const postingsOf = async (store: EventStore, accountId: string, journalId: string): Promise<PostingEvent[]> =>
  (await decodedStream(store, accountStream(accountId))).filter(isPosting).filter((event) => event.data.journal.id === journalId);

const openJournalsOf = async (store: EventStore) => {
  const journals = createOpenJournals();
  for await (const recorded of store.readAll()) journals.apply(recorded);
  return journals.list();
};

/**
 * Folds the whole log and checks the books at every global position: Σ account balances + Σ in
 * transit = 0 per currency, and a journal's legs sum to zero once it has ended (and stay so).
 * Returns the balances it found.
 */
const checkBooks = async (store: EventStore) => {
  const journals = createOpenJournals();
  const balances = new Map<string, bigint>();
  const perCurrency = new Map<CurrencyCode, bigint>();
  const journalSums = new Map<string, bigint>();
  const ended = new Set<string>();
  const add = <K>(map: Map<K, bigint>, key: K, amount: bigint) => map.set(key, (map.get(key) ?? 0n) + amount);

  for await (const recorded of store.readAll()) {
    if (ledgerCatalog.definitionOf(recorded.type) === undefined) continue;
    const event = ledgerCatalog.decode(recorded) as LedgerEvent;
    journals.apply(recorded);
    if (isPosting(event)) {
      const { accountId, amount, currency, journal } = event.data;
      const signed = event.type === 'AccountCredited' ? amount : -amount;
      add(balances, accountId, signed);
      add(perCurrency, currency, signed);
      add(journalSums, `${journal.kind}-${journal.id}`, signed);
    } else if (event.type === 'TransferCompleted' || event.type === 'TransferFailed') {
      ended.add(`transfer-${event.data.transferId}`);
    } else if (event.type === 'DepositCompleted') {
      ended.add(`deposit-${event.data.depositId}`);
    }

    const inTransit = new Map<CurrencyCode, bigint>();
    for (const journal of journals.list()) add(inTransit, journal.movement.currency, journal.inTransit);
    for (const currency of new Set([...perCurrency.keys(), ...inTransit.keys()])) {
      const total = (perCurrency.get(currency) ?? 0n) + (inTransit.get(currency) ?? 0n);
      expect(total, `Σ balances + in transit in ${currency} at position ${recorded.position}`).to.equal(0n);
    }
    for (const key of ended) {
      expect(journalSums.get(key) ?? 0n, `legs of ended journal ${key} at position ${recorded.position}`).to.equal(0n);
    }
  }
  return { balanceOf: (accountId: string) => balances.get(accountId) ?? 0n, open: journals.list() };
};

describe('movement process (SQLite store, fixed clock)', () => {
  let temp: TempStore;
  let accounts: AccountCommandHandler;
  let movements: MovementProcess;

  const fund = async (accountId: string, amount: bigint) => {
    const outcome = await movements.run(deposit(accountId, amount), RUN);
    expect(outcome.status).to.equal('completed');
  };

  beforeEach(async () => {
    temp = openTempStore();
    ({ accounts, movements } = startProcess(temp.store));
    await openCustomer(accounts, ALICE);
    await openCustomer(accounts, BOB);
  });

  afterEach(async () => {
    await temp.dispose();
  });

  it('completes a transfer: source debited, destination credited, outcome recorded last', async () => {
    await fund(ALICE, 1_000n);
    const plan = transfer(ALICE, BOB, 300n);

    const outcome = await movements.run(plan, RUN);

    expect(outcome).to.deep.include({ status: 'completed', endedAt: NOW.toISOString() });
    expect(outcome.position).to.equal(await temp.store.headPosition());
    const recorded = await decodedStream(temp.store, transferStream(plan.id));
    expect(recorded.map((event) => [event.type, event.data])).to.deep.equal([
      ['TransferCompleted', { ...plan.movement, transferId: plan.id, completedAt: NOW.toISOString() }],
    ]);
    const books = await checkBooks(temp.store);
    expect([books.balanceOf(ALICE), books.balanceOf(BOB)]).to.deep.equal([700n, 300n]);
    expect(books.open).to.deep.equal([]);
  });

  it('throws the refusal of a transfer the source cannot afford, writing nothing', async () => {
    await fund(ALICE, 1_000n);
    const head = await temp.store.headPosition();

    const error = await rejectionOf(movements.run(transfer(ALICE, BOB, 1_001n), RUN));

    expect(error).to.be.instanceOf(InsufficientFundsError);
    expect((error as InsufficientFundsError).problemExtensions()).to.include({ available: '1000', requested: '1001' });
    expect(await temp.store.headPosition()).to.equal(head);
    const books = await checkBooks(temp.store);
    expect([books.balanceOf(ALICE), books.balanceOf(BOB)]).to.deep.equal([1_000n, 0n]);
  });

  it('reverses the debit when the destination is frozen and records TransferFailed', async () => {
    await fund(ALICE, 1_000n);
    await setFrozen(accounts, BOB, true);
    const plan = transfer(ALICE, BOB, 300n);

    const outcome = await movements.run(plan, RUN);

    expect(outcome.status).to.equal('failed');
    expect(outcome.failure?.type).to.equal('account-frozen');
    expect(outcome.position).to.equal(await temp.store.headPosition());
    const legs = await postingsOf(temp.store, ALICE, plan.id);
    expect(legs.map((event) => [event.type, event.data.journal.leg])).to.deep.equal([
      ['AccountDebited', 'first'],
      ['AccountCredited', 'reversal'],
    ]);
    expect(await postingsOf(temp.store, BOB, plan.id)).to.deep.equal([]);
    const [failed] = await decodedStream(temp.store, transferStream(plan.id));
    expect(failed?.type).to.equal('TransferFailed');
    expect(failed?.type === 'TransferFailed' && failed.data.reason).to.deep.equal(outcome.failure);
    const books = await checkBooks(temp.store);
    expect([books.balanceOf(ALICE), books.balanceOf(BOB)]).to.deep.equal([1_000n, 0n]);
    expect(books.open).to.deep.equal([]);
  });

  it('opens the bank system account on the first deposit and debits it, without a revision check', async () => {
    const { store, calls } = recordAppends(temp.store);
    const { movements: recording } = startProcess(store);
    expect(await decodedStream(temp.store, accountStream(BANK))).to.deep.equal([]);
    const plan = deposit(BOB, 250n);

    const outcome = await recording.run(plan, RUN);
    await recording.run(deposit(BOB, 100n), RUN);

    expect(outcome.status).to.equal('completed');
    const bank = await decodedStream(temp.store, accountStream(BANK));
    expect(bank.filter((event) => event.type === 'AccountOpened').map((event) => event.data)).to.deep.equal([
      { accountId: BANK, ownerId: 'folio', currency: 'EUR', kind: 'system', systemRole: 'bank', overdraftLimit: 0n },
    ]);
    const bankPostings = calls.filter((call) => call.streamName === accountStream(BANK) && call.events[0]?.type === 'AccountDebited');
    expect(bankPostings.map((call) => call.options?.expectedRevision)).to.deep.equal(['any', 'any']);
    const [completed] = await decodedStream(temp.store, depositStream(plan.id));
    expect(completed?.type === 'DepositCompleted' && completed.data.depositId).to.equal(plan.id);
    const books = await checkBooks(temp.store);
    expect([books.balanceOf(BOB), books.balanceOf(BANK)]).to.deep.equal([350n, -350n]);
  });

  it('gives the same outcome when the same plan runs again, and posts nothing more', async () => {
    await fund(ALICE, 1_000n);
    const plan = transfer(ALICE, BOB, 300n);
    const first = await movements.run(plan, RUN);
    const head = await temp.store.headPosition();

    const again = await movements.run(plan, RUN);
    const elsewhere = await startProcess(temp.openAnother()).movements.run(plan, RUN);

    expect(again).to.deep.equal(first);
    expect(elsewhere).to.deep.equal(first);
    expect(await temp.store.headPosition()).to.equal(head);
    expect(await postingsOf(temp.store, ALICE, plan.id)).to.have.length(1);
    expect(await postingsOf(temp.store, BOB, plan.id)).to.have.length(1);
  });

  it('keeps a failed transfer failed when it runs again after the destination was unfrozen', async () => {
    await fund(ALICE, 1_000n);
    await setFrozen(accounts, BOB, true);
    const plan = transfer(ALICE, BOB, 300n);
    const failed = await movements.run(plan, RUN);
    await setFrozen(accounts, BOB, false);

    expect(await movements.run(plan, RUN)).to.deep.equal(failed);
    expect(await postingsOf(temp.store, BOB, plan.id)).to.deep.equal([]);
    const books = await checkBooks(temp.store);
    expect(books.balanceOf(ALICE)).to.equal(1_000n);
  });

  it('completes, once, a transfer that crashed after its first leg', async () => {
    await fund(ALICE, 1_000n);
    const plan = transfer(ALICE, BOB, 300n);
    await postFirstLegOnly(accounts, plan);
    const [open] = await openJournalsOf(temp.store);
    expect(open).to.deep.include({ kind: 'transfer', id: plan.id, inTransit: 300n });

    const restarted = startProcess(temp.openAnother()).movements;
    const outcome = await restarted.resume(plan, RUN, { firstLegPosition: open!.firstLegPosition });
    const head = await temp.store.headPosition();

    expect(outcome.status).to.equal('completed');
    expect(outcome.position).to.equal(head);
    expect(await restarted.resume(plan, RUN, { firstLegPosition: open!.firstLegPosition })).to.deep.equal(outcome);
    expect(await movements.run(plan, RUN)).to.deep.equal(outcome);
    expect(await temp.store.headPosition()).to.equal(head);
    expect(await postingsOf(temp.store, ALICE, plan.id)).to.have.length(1);
    expect(await postingsOf(temp.store, BOB, plan.id)).to.have.length(1);
    const books = await checkBooks(temp.store);
    expect([books.balanceOf(ALICE), books.balanceOf(BOB)]).to.deep.equal([700n, 300n]);
  });

  it('records a transfer that crashed after its reversal as failed, never crediting the destination', async () => {
    await fund(ALICE, 1_000n);
    await setFrozen(accounts, BOB, true);
    const plan = transfer(ALICE, BOB, 300n);
    const crashing = interceptAppends(temp.store, (call, proceed) =>
      call.streamName === plan.streamName ? Promise.reject(new StoreUnavailableError('the process died')) : proceed(),
    );
    expect(await rejectionOf(startProcess(crashing).movements.run(plan, RUN))).to.be.instanceOf(StoreUnavailableError);
    const [open] = await openJournalsOf(temp.store);
    expect(open).to.deep.include({ kind: 'transfer', id: plan.id, inTransit: 0n });
    await setFrozen(accounts, BOB, false);

    const outcome = await startProcess(temp.openAnother()).movements.resume(plan, RUN, { firstLegPosition: open!.firstLegPosition });

    expect(outcome.status).to.equal('failed');
    expect(outcome.failure?.type).to.equal('account-frozen');
    expect(outcome.failure?.detail).to.match(/frozen/);
    expect(await postingsOf(temp.store, BOB, plan.id)).to.deep.equal([]);
    expect((await decodedStream(temp.store, plan.streamName)).map((event) => event.type)).to.deep.equal(['TransferFailed']);
    const books = await checkBooks(temp.store);
    expect([books.balanceOf(ALICE), books.balanceOf(BOB)]).to.deep.equal([1_000n, 0n]);
    expect(books.open).to.deep.equal([]);
  });

  it('reports the money in transit of open journals over $all, and none once they end', async () => {
    await fund(ALICE, 1_000n);
    const transferring = transfer(ALICE, BOB, 300n);
    const depositing = deposit(BOB, 200n);
    const transferLeg = await postFirstLegOnly(accounts, transferring);
    const depositLeg = await postFirstLegOnly(accounts, depositing);

    const open = await openJournalsOf(temp.store);

    expect(open.every((journal) => journal.openedAt instanceof Date)).to.equal(true);
    expect(open.map(({ openedAt: _openedAt, ...journal }) => journal)).to.deep.equal([
      { kind: 'transfer', id: transferring.id, movement: transferring.movement, firstLegPosition: transferLeg.position, inTransit: 300n },
      { kind: 'deposit', id: depositing.id, movement: depositing.movement, firstLegPosition: depositLeg.position, inTransit: -200n },
    ]);
    await checkBooks(temp.store);

    for (const journal of open) {
      const plan = journal.kind === 'transfer' ? transferring : depositing;
      expect((await movements.resume(plan, RUN, { firstLegPosition: journal.firstLegPosition })).status).to.equal('completed');
    }
    expect(await openJournalsOf(temp.store)).to.deep.equal([]);
    const books = await checkBooks(temp.store);
    expect([books.balanceOf(ALICE), books.balanceOf(BOB)]).to.deep.equal([700n, 500n]);
  });

  it('lets concurrent transfers out of one account through only as far as it affords', async () => {
    await openCustomer(accounts, CAROL);
    await fund(ALICE, 1_000n);
    const other = startProcess(temp.openAnother()).movements;

    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, index) =>
        (index % 2 === 0 ? movements : other).run(transfer(ALICE, index % 3 === 0 ? BOB : CAROL, 100n), RUN),
      ),
    );

    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).to.have.length(10);
    const refused = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    expect(refused.every((outcome) => outcome.reason instanceof InsufficientFundsError)).to.equal(true);
    const books = await checkBooks(temp.store);
    expect(books.balanceOf(ALICE)).to.equal(0n);
    expect(books.balanceOf(BOB) + books.balanceOf(CAROL)).to.equal(1_000n);
    expect(books.open).to.deep.equal([]);
  });

  it('posts a transfer once when the same plan runs twice at the same time', async () => {
    await fund(ALICE, 1_000n);
    const plan = transfer(ALICE, BOB, 300n);

    const [one, two] = await Promise.all([movements.run(plan, RUN), movements.run(plan, RUN)]);

    expect(two).to.deep.equal(one);
    expect(await postingsOf(temp.store, ALICE, plan.id)).to.have.length(1);
    await checkBooks(temp.store);
  });

  it('posts nothing when a finished transfer is retried after much activity on its source', async () => {
    await fund(ALICE, 1_000n);
    const plan = transfer(ALICE, BOB, 300n);
    const first = await movements.run(plan, RUN);
    // Enough later commands on the source to push the first leg out of the handler's recent ones.
    await Promise.all(Array.from({ length: 300 }, (_, index) => setFrozen(accounts, ALICE, index % 2 === 0)));

    // A retry says so (the idempotency layer knows): the log is consulted, not the recent commands.
    const again = await startProcess(temp.openAnother()).movements.run(plan, RUN, { retry: true });

    expect(again).to.deep.equal(first);
    expect(await postingsOf(temp.store, ALICE, plan.id)).to.have.length(1);
    await checkBooks(temp.store);
  });

  for (const writers of [
    { name: 'with several writers', log: (store: EventStore) => asSharedLog(store as SqliteEventStore) },
    { name: 'as the sole writer', log: (store: EventStore) => store },
  ]) {
    describe(`${writers.name}, a movement whose later leg was posted long before it is finished`, () => {
      /** A process that stops (a crash) when it is about to record how `plan` ended. */
      const stoppingBeforeOutcome = (plan: { streamName: string }) =>
        startProcess(
          interceptAppends(writers.log(temp.store), (call, proceed) =>
            call.streamName === plan.streamName && /(Completed|Failed)$/.test(call.events[0]!.type)
              ? Promise.reject(new Error('the process stopped'))
              : proceed(),
          ),
        );

      /** More commands on the account than a handler remembers, leaving it as it was (active). */
      const keepBusy = (accountId: string) =>
        Promise.all(Array.from({ length: 300 }, (_, index) => setFrozen(accounts, accountId, index % 2 === 0)));

      /** What movement recovery does in a process started afterwards. */
      const recover = async (plan: Parameters<MovementProcess['resume']>[0]) => {
        const [journal] = (await openJournalsOf(temp.store)).filter((open) => open.id === plan.id);
        expect(journal, 'the movement is open').to.not.equal(undefined);
        const recovery = startProcess(writers.log(temp.openAnother()));
        const run = { correlationId: 'recovery', actor: 'recovery' };
        return recovery.movements.resume(plan, run, { firstLegPosition: journal!.firstLegPosition });
      };

      it('credits the destination once', async () => {
        await fund(ALICE, 1_000n);
        const plan = transfer(ALICE, BOB, 300n);
        await rejectionOf(stoppingBeforeOutcome(plan).movements.run(plan, RUN));
        expect(await postingsOf(temp.store, BOB, plan.id)).to.have.length(1);
        await keepBusy(BOB);

        const outcome = await recover(plan);

        expect(outcome.status).to.equal('completed');
        expect(await postingsOf(temp.store, BOB, plan.id)).to.have.length(1);
        const books = await checkBooks(temp.store);
        expect(books.balanceOf(BOB)).to.equal(300n);
        expect(books.open).to.deep.equal([]);
      });

      it('reverses the source once', async () => {
        await fund(ALICE, 1_000n);
        await setFrozen(accounts, BOB, true);
        const plan = transfer(ALICE, BOB, 300n);
        await rejectionOf(stoppingBeforeOutcome(plan).movements.run(plan, RUN));
        expect(await postingsOf(temp.store, ALICE, plan.id)).to.have.length(2);
        await keepBusy(ALICE);

        const outcome = await recover(plan);

        expect(outcome.status).to.equal('failed');
        const types = (await postingsOf(temp.store, ALICE, plan.id)).map((event) => event.type);
        expect(types).to.deep.equal(['AccountDebited', 'AccountCredited']);
        const books = await checkBooks(temp.store);
        expect(books.balanceOf(ALICE)).to.equal(1_000n);
        expect(books.open).to.deep.equal([]);
      });
    });
  }

  it('leaves a movement in transit, not reversed, when its second leg finds its command id holding another posting', async () => {
    await fund(ALICE, 1_000n);
    const plan = transfer(ALICE, BOB, 300n);
    // A bug posted something else under the second leg's command id: that posting is in the books,
    // so the leg is no refusal that a reversal of the first could answer.
    await accounts.handle(
      accountStream(BOB),
      {
        type: 'PostCredit',
        accountId: BOB,
        journal: { id: plan.id, kind: 'transfer', leg: 'second', counterpartyAccountId: ALICE },
        amount: 1n,
        currency: 'EUR',
      },
      contextFor(legCommandId(plan, 'second')),
    );

    const error = await rejectionOf(movements.run(plan, RUN));

    expect(error).to.be.instanceOf(MovementIncompleteError);
    expect((error as MovementIncompleteError).cause).to.be.instanceOf(CommandIdReusedError);
    expect(await postingsOf(temp.store, ALICE, plan.id)).to.have.length(1);
    expect(await decodedStream(temp.store, transferStream(plan.id))).to.deep.equal([]);
  });

  describe('under the lease of an idempotency claim (the clock reads NOW)', () => {
    const expired = { claimValidUntil: NOW };
    const held = { claimValidUntil: new Date(NOW.getTime() + 1) };

    for (const retry of [false, true]) {
      it(`starts no movement once the lease has run out (${retry ? 'a retry' : 'a first run'}): a 503 to retry, nothing written`, async () => {
        await fund(ALICE, 1_000n);
        const head = await temp.store.headPosition();

        const error = await rejectionOf(movements.run(transfer(ALICE, BOB, 300n), RUN, { retry, ...expired }));

        expect(error).to.be.instanceOf(IdempotencyClaimExpiredError);
        expect(error).to.deep.include({ status: 503, type: 'idempotency-claim-expired', retryAfterSeconds: 1 });
        expect(isBusinessRejection(error)).to.equal(false);
        expect(await temp.store.headPosition()).to.equal(head);
      });
    }

    it('starts a movement while the lease holds', async () => {
      await fund(ALICE, 1_000n);

      const outcome = await movements.run(transfer(ALICE, BOB, 300n), RUN, { retry: false, ...held });

      expect(outcome.status).to.equal('completed');
      const books = await checkBooks(temp.store);
      expect([books.balanceOf(ALICE), books.balanceOf(BOB)]).to.deep.equal([700n, 300n]);
    });

    it('finishes a movement whose first leg is posted, though the lease has run out', async () => {
      await fund(ALICE, 1_000n);
      // Minted now, as a request's movement is: a retry looks for its first leg from then on.
      const plan = movementPlans(BigInt(createSnowflakeGenerator({ nodeId: 1, clock: Date.now }).nextId())).transfer(ALICE, BOB, 300n);
      await postFirstLegOnly(accounts, plan);

      const outcome = await startProcess(temp.openAnother()).movements.run(plan, RUN, { retry: true, ...expired });

      expect(outcome.status).to.equal('completed');
      expect(await postingsOf(temp.store, ALICE, plan.id)).to.have.length(1);
      expect(await postingsOf(temp.store, BOB, plan.id)).to.have.length(1);
    });

    it('answers a finished movement with its outcome, though the lease has run out', async () => {
      await fund(ALICE, 1_000n);
      const plan = transfer(ALICE, BOB, 300n);
      const outcome = await movements.run(plan, RUN, { retry: false, ...held });

      expect(await movements.run(plan, RUN, { retry: true, ...expired })).to.deep.equal(outcome);
    });
  });
});

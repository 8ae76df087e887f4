import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import {
  accountStream,
  BOOKS_SNAPSHOT_STREAM,
  collect,
  createAuditRuntime,
  generatedSigner,
  ledgerCatalog,
  transferStream,
  trialBalanceAt,
  type EventStore,
  type LedgerEvent,
} from '../../src/index.js';
import { decorateEventStore } from '../../src/eventStore/decorateEventStore.js';
import { BANK, openAuditStore, writeHistory, type AuditStore } from './auditFixture.js';

const AT = '2026-01-01T00:00:00.000Z';

/** Ledger events written one by one, whatever rule they break. */
const booksOf = (store: EventStore) => {
  const append = (streamName: string, event: Pick<LedgerEvent, 'type' | 'data'>) =>
    store.appendToStream(
      streamName,
      [ledgerCatalog.encode({ ...event, id: randomUUID(), version: 1, metadata: { $correlationId: 'test', actor: 'test', occurredAt: AT } } as LedgerEvent)],
      { expectedRevision: 'any' },
    );
  return {
    open: (accountId: string, kind: 'customer' | 'system') =>
      append(accountStream(accountId), {
        type: 'AccountOpened',
        data: { accountId, ownerId: `owner-${accountId}`, currency: 'EUR', kind, overdraftLimit: 0n, ...(kind === 'system' ? { systemRole: 'bank' as const } : {}) },
      }),
    post: (type: 'AccountDebited' | 'AccountCredited', accountId: string, transferId: string, leg: 'first' | 'second' | 'reversal', counterpartyAccountId: string, amount: bigint) =>
      append(accountStream(accountId), {
        type,
        data: { accountId, journal: { id: transferId, kind: 'transfer', leg, counterpartyAccountId }, amount, currency: 'EUR' },
      }),
    /** How a run chose to end the transfer, recorded on its stream before the leg that ends it. */
    choose: (transferId: string, outcome: 'complete' | 'reverse') =>
      append(transferStream(transferId), { type: 'MovementOutcomeChosen', data: { kind: 'transfer', journalId: transferId, outcome, chosenAt: AT } }),
    end: (outcome: 'TransferCompleted' | 'TransferFailed', transferId: string, fromAccountId: string, toAccountId: string, amount: bigint) => {
      const movement = { transferId, fromAccountId, toAccountId, amount, currency: 'EUR' as const, requestedAt: AT };
      return append(
        transferStream(transferId),
        outcome === 'TransferCompleted'
          ? { type: outcome, data: { ...movement, completedAt: AT } }
          : { type: outcome, data: { ...movement, failedAt: AT, reason: { type: 'refused', detail: 'refused' } } },
      );
    },
  };
};

/**
 * The trial balance at every position of the log, from snapshots and from the whole log, must be
 * the same. Returns how many answers were folded from a snapshot on.
 */
const expectSnapshotsChangeNothing = async (audit: AuditStore): Promise<number> => {
  let fromSnapshot = 0;
  const counted = decorateEventStore(audit.store, {
    readAll: (options) => {
      if (options?.fromPosition !== 'start') fromSnapshot++;
      return audit.store.readAll(options);
    },
  });
  for (const event of await collect(audit.raw.readAll())) {
    const point = { position: event.position };
    const answer = await trialBalanceAt(counted, point);
    expect(answer, `at ${event.position}`).to.deep.equal(await trialBalanceAt(audit.store, point, { ignoreSnapshots: true }));
  }
  return fromSnapshot;
};

describe('audit: trial balances from books snapshots', () => {
  let audit: AuditStore;
  beforeEach(() => {
    audit = openAuditStore();
  });
  afterEach(() => audit.dispose());

  const snapshotEvery = (booksSnapshotEvery: number) =>
    createAuditRuntime({ eventStore: audit.store, signer: generatedSigner(), booksSnapshotEvery, clock: audit.now }).runOnce();

  /** A transfer of 100 from the bank to alice, completed, then a books snapshot. */
  const completedTransferSnapshotted = async () => {
    const books = booksOf(audit.store);
    const alice = '1000001';
    await books.open(BANK, 'system');
    await books.open(alice, 'customer');
    await books.post('AccountDebited', BANK, '7000001', 'first', alice, 100n);
    await books.post('AccountCredited', alice, '7000001', 'second', BANK, 100n);
    await books.end('TransferCompleted', '7000001', BANK, alice, 100n);
    await snapshotEvery(1);
    return { books, alice };
  };

  it('is unbalanced, as a full replay is, when a completed transfer is posted to again after the snapshot', async () => {
    const { books, alice } = await completedTransferSnapshotted();
    await books.post('AccountCredited', alice, '7000001', 'second', BANK, 50n);
    const trial = await trialBalanceAt(audit.store, {});
    expect(trial.balanced).to.equal(false);
    expect(trial.violations.some((violation) => violation.includes('after it ended'))).to.equal(true);
    await expectSnapshotsChangeNothing(audit);
  });

  it('is unbalanced, as a full replay is, when the first leg of a completed transfer is posted again after the snapshot', async () => {
    const { books, alice } = await completedTransferSnapshotted();
    await books.post('AccountDebited', BANK, '7000001', 'first', alice, 100n);
    expect((await trialBalanceAt(audit.store, {})).balanced).to.equal(false);
    await expectSnapshotsChangeNothing(audit);
  });

  describe('an outcome chosen before the snapshot, for a transfer still open there', () => {
    /** A transfer of 100 from the bank to alice, its first leg posted and its completion chosen, then a books snapshot. */
    const chosenTransferSnapshotted = async () => {
      const books = booksOf(audit.store);
      const alice = '1000001';
      await books.open(BANK, 'system');
      await books.open(alice, 'customer');
      await books.post('AccountDebited', BANK, '7000001', 'first', alice, 100n);
      await books.choose('7000001', 'complete');
      await snapshotEvery(1);
      return { books, alice };
    };

    const expectAsFullReplay = async (position: bigint, violation: string) => {
      const full = await trialBalanceAt(audit.store, { position }, { ignoreSnapshots: true });
      expect(full.violations).to.deep.equal([`@${position}: ${violation}`]);
      expect(await trialBalanceAt(audit.store, { position })).to.deep.equal(full);
      await expectSnapshotsChangeNothing(audit);
    };

    it('is a violation when a leg after the snapshot contradicts it', async () => {
      const { books, alice } = await chosenTransferSnapshotted();
      const { position } = await books.post('AccountCredited', BANK, '7000001', 'reversal', alice, 100n);
      await expectAsFullReplay(position, 'reversal leg of transfer-7000001 posted though a run chose to complete it');
    });

    it('is a violation when it is chosen again after the snapshot', async () => {
      const { books } = await chosenTransferSnapshotted();
      const { position } = await books.choose('7000001', 'reverse');
      await expectAsFullReplay(position, 'outcome of transfer-7000001 chosen twice');
    });

    it('is a violation when an outcome event after the snapshot contradicts it', async () => {
      const { books, alice } = await chosenTransferSnapshotted();
      // Both first legs: the postings balance, so the outcome event breaks no other rule.
      await books.post('AccountCredited', alice, '7000001', 'first', BANK, 100n);
      await snapshotEvery(1);
      const { position } = await books.end('TransferFailed', '7000001', BANK, alice, 100n);
      await expectAsFullReplay(position, 'transfer-7000001 failed though a run chose to complete it');
    });
  });

  it('keeps the rules broken before the snapshot: an overdraft and a posting on an unknown account', async () => {
    const books = booksOf(audit.store);
    const [alice, bob] = ['1000001', '1000002'];
    await books.open(alice, 'customer');
    await books.open(bob, 'customer');
    await books.post('AccountDebited', alice, '7000001', 'first', bob, 100n);
    await books.post('AccountCredited', '1000009', '7000002', 'first', bob, 5n);
    await snapshotEvery(1);
    await books.post('AccountCredited', bob, '7000001', 'second', alice, 100n);
    await books.end('TransferCompleted', '7000001', alice, bob, 100n);
    await snapshotEvery(1);
    const trial = await trialBalanceAt(audit.store, {});
    expect(trial.violations).to.have.length(2);
    await expectSnapshotsChangeNothing(audit);
  });

  it('never folds from a snapshot of the first format, and writes the current one after it', async () => {
    const books = booksOf(audit.store);
    const alice = '1000001';
    await books.open(alice, 'customer');
    const { position } = await books.post('AccountCredited', alice, '7000001', 'first', BANK, 100n);
    const figures = { accountId: alice, currency: 'EUR', kind: 'customer', overdraftLimit: '0', debits: '0', credits: '999', balance: '999', postings: 1 };
    const older = { position: position.toString(), recordedAt: audit.now().toISOString(), eventsFolded: 2, completedJournals: 0, failedJournals: 0, accounts: [figures], openJournals: [], openHolds: [] };
    await audit.store.appendToStream(BOOKS_SNAPSHOT_STREAM, [{ id: randomUUID(), type: 'BooksSnapshotted', data: older, metadata: undefined }], { expectedRevision: 'no_stream' });
    await books.post('AccountCredited', alice, '7000002', 'first', BANK, 1n);
    await expectSnapshotsChangeNothing(audit);
    await snapshotEvery(1);
    const [, current, ...more] = await collect(audit.raw.readStream(BOOKS_SNAPSHOT_STREAM));
    expect(more).to.deep.equal([]);
    expect(current!.data.format).to.equal('folio-books-snapshot/4');
    expect(BigInt(current!.data.position as string) > position).to.equal(true);
    await expectSnapshotsChangeNothing(audit);
  });

  it('never folds from a snapshot of format 2, which cannot tell whether a journal open there had its outcome chosen', async () => {
    const books = booksOf(audit.store);
    const alice = '1000001';
    await books.open(BANK, 'system');
    await books.open(alice, 'customer');
    const { position: startedAt } = await books.post('AccountDebited', BANK, '7000001', 'first', alice, 100n);
    const { position } = await books.choose('7000001', 'complete');
    const figures = { currency: 'EUR', overdraftLimit: '0', credits: '0' };
    const written = {
      format: 'folio-books-snapshot/2',
      position: position.toString(),
      recordedAt: audit.now().toISOString(),
      eventsFolded: 4,
      completedJournals: 0,
      failedJournals: 0,
      accounts: [
        { ...figures, accountId: BANK, kind: 'system', debits: '100', balance: '-100', postings: 1 },
        { ...figures, accountId: alice, kind: 'customer', debits: '0', balance: '0', postings: 0 },
      ],
      openJournals: [{ kind: 'transfer', id: '7000001', currency: 'EUR', net: '-100', legs: [`first:${BANK}`], startedAt: startedAt.toString() }],
      openHolds: [],
      endedJournals: {},
      rulesBroken: false,
    };
    await audit.store.appendToStream(BOOKS_SNAPSHOT_STREAM, [{ id: randomUUID(), type: 'BooksSnapshotted', data: written, metadata: undefined }], { expectedRevision: 'no_stream' });
    await books.post('AccountCredited', BANK, '7000001', 'reversal', alice, 100n);
    expect((await trialBalanceAt(audit.store, {})).violations).to.have.length(1);
    await expectSnapshotsChangeNothing(audit);
    await snapshotEvery(1);
    const formats = (await collect(audit.raw.readStream(BOOKS_SNAPSHOT_STREAM))).map((snapshot) => snapshot.data.format);
    expect(formats).to.deep.equal(['folio-books-snapshot/2', 'folio-books-snapshot/4']);
    await expectSnapshotsChangeNothing(audit);
  });

  it('lists each ended journal in one snapshot only, so that every snapshot stays as small as the activity since the one before', async () => {
    const [alice, bob] = await writeHistory(audit.store, { accounts: 3, movements: 30, seed: 6 });
    await snapshotEvery(7);
    const books = booksOf(audit.store);
    for (let n = 0; n < 10; n++) {
      const id = String(8_000_000 + n);
      await books.post('AccountDebited', alice!, id, 'first', bob!, 1n);
      await books.post('AccountCredited', bob!, id, 'second', alice!, 1n);
      await books.end('TransferCompleted', id, alice!, bob!, 1n);
    }
    // A fresh runtime resumes from the latest snapshot, with every journal ended before it.
    await snapshotEvery(7);
    const listed = (await collect(audit.raw.readStream(BOOKS_SNAPSHOT_STREAM))).flatMap((snapshot) =>
      Object.entries(snapshot.data.endedJournals as Record<string, string[]>).flatMap(([kind, ids]) => ids.map((id) => `${kind}-${id}`)),
    );
    const ended = (await collect(audit.raw.readAll()))
      .filter((event) => /^(Transfer|Deposit)(Completed|Failed)$/.test(event.type))
      .map((event) => (event.data.transferId === undefined ? `deposit-${event.data.depositId as string}` : `transfer-${event.data.transferId as string}`));
    expect(new Set(listed).size).to.equal(listed.length);
    expect(ended.filter((key) => !listed.includes(key)).length).to.be.lessThan(7);
    expect(await expectSnapshotsChangeNothing(audit)).to.be.greaterThan(0);
  });

  it('equals a full replay at every position of books that break rules before, across and after snapshots', async () => {
    type Operation =
      | { kind: 'transfer'; from: number; to: number; amount: bigint; outcome: 'complete' | 'open' | 'fail'; chosen: boolean }
      | { kind: 'choose'; journal: number; outcome: 'complete' | 'reverse' }
      | { kind: 'finish'; journal: number; outcome: 'complete' | 'reverse' }
      | { kind: 'repost'; journal: number; leg: 'first' | 'second'; amount: bigint }
      | { kind: 'reend'; journal: number }
      | { kind: 'unknownAccount'; amount: bigint }
      | { kind: 'snapshots'; every: number; fresh: boolean };
    const amount = fc.bigInt({ min: 1n, max: 300n });
    const operation: fc.Arbitrary<Operation> = fc.oneof(
      {
        weight: 5,
        arbitrary: fc.record({
          kind: fc.constant('transfer' as const),
          from: fc.nat(3),
          to: fc.nat(3),
          amount,
          outcome: fc.constantFrom('complete' as const, 'open' as const, 'fail' as const),
          chosen: fc.boolean(),
        }),
      },
      // A second choice, or a first one for a journal open or ended.
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('choose' as const), journal: fc.nat(3), outcome: fc.constantFrom('complete' as const, 'reverse' as const) }) },
      // The leg and the outcome event that end a journal, which may contradict its choice.
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('finish' as const), journal: fc.nat(3), outcome: fc.constantFrom('complete' as const, 'reverse' as const) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('repost' as const), journal: fc.nat(), leg: fc.constantFrom('first' as const, 'second' as const), amount }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('reend' as const), journal: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('unknownAccount' as const), amount }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('snapshots' as const), every: fc.integer({ min: 1, max: 4 }), fresh: fc.boolean() }) },
    );
    const chosenOpen: Operation = { kind: 'transfer', from: 1, to: 2, amount: 1n, outcome: 'open', chosen: true };
    let fromSnapshot = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 25 }), async (operations) => {
        const fresh = openAuditStore();
        try {
          const books = booksOf(fresh.store);
          const accounts = [BANK, '1000001', '1000002', '1000003'];
          await books.open(BANK, 'system');
          const journals: { id: string; from: string; to: string; amount: bigint }[] = [];
          for (const account of accounts.slice(1)) {
            await books.open(account, 'customer');
            // Funded, so that some books stay clean and are answered from their snapshots.
            const id = String(6_000_000 + journals.length);
            await books.post('AccountDebited', BANK, id, 'first', account, 500n);
            await books.post('AccountCredited', account, id, 'second', BANK, 500n);
            await books.end('TransferCompleted', id, BANK, account, 500n);
            journals.push({ id, from: BANK, to: account, amount: 500n });
          }
          let runtime: ReturnType<typeof createAuditRuntime> | undefined;
          for (const step of operations) {
            if (step.kind === 'transfer') {
              const [from, to] = [accounts[step.from]!, accounts[step.to === step.from ? (step.to + 1) % 4 : step.to]!];
              const id = String(7_000_000 + journals.length);
              journals.push({ id, from, to, amount: step.amount });
              await books.post('AccountDebited', from, id, 'first', to, step.amount);
              // As a run with several write-side instances records it: the choice, then the leg that ends the transfer (left open: not yet).
              if (step.chosen) await books.choose(id, step.outcome === 'fail' ? 'reverse' : 'complete');
              if (step.outcome === 'open') continue;
              if (step.outcome === 'fail') await books.post('AccountCredited', from, id, 'reversal', to, step.amount);
              else await books.post('AccountCredited', to, id, 'second', from, step.amount);
              await books.end(step.outcome === 'fail' ? 'TransferFailed' : 'TransferCompleted', id, from, to, step.amount);
            } else if (step.kind === 'choose' || step.kind === 'finish') {
              // Counted back from the newest, so that a journal still open is often the one touched.
              const journal = journals[journals.length - 1 - (step.journal % journals.length)]!;
              if (step.kind === 'choose') await books.choose(journal.id, step.outcome);
              else if (step.outcome === 'reverse') {
                await books.post('AccountCredited', journal.from, journal.id, 'reversal', journal.to, journal.amount);
                await books.end('TransferFailed', journal.id, journal.from, journal.to, journal.amount);
              } else {
                await books.post('AccountCredited', journal.to, journal.id, 'second', journal.from, journal.amount);
                await books.end('TransferCompleted', journal.id, journal.from, journal.to, journal.amount);
              }
            } else if (step.kind === 'repost' || step.kind === 'reend') {
              const journal = journals[step.journal % Math.max(journals.length, 1)];
              if (journal === undefined) continue;
              if (step.kind === 'reend') await books.end('TransferCompleted', journal.id, journal.from, journal.to, journal.amount);
              else if (step.leg === 'first') await books.post('AccountDebited', journal.from, journal.id, 'first', journal.to, step.amount);
              else await books.post('AccountCredited', journal.to, journal.id, 'second', journal.from, step.amount);
            } else if (step.kind === 'unknownAccount') {
              await books.post('AccountCredited', '1000099', String(7_000_000 + journals.length), 'first', BANK, step.amount);
            } else {
              // A fresh runtime resumes from the latest snapshot; a running one carries its fold on.
              if (step.fresh || runtime === undefined) {
                runtime = createAuditRuntime({ eventStore: fresh.store, signer: generatedSigner(), booksSnapshotEvery: step.every, clock: fresh.now });
              }
              await runtime.runOnce();
            }
          }
          fromSnapshot += await expectSnapshotsChangeNothing(fresh);
        } finally {
          await fresh.dispose();
        }
      }),
      {
        numRuns: 30,
        examples: [
          // A transfer open at a snapshot with its outcome chosen before it: contradicted after it, or chosen again.
          [[chosenOpen, { kind: 'snapshots', every: 1, fresh: false }, { kind: 'finish', journal: 0, outcome: 'reverse' }]],
          [[chosenOpen, { kind: 'snapshots', every: 1, fresh: false }, { kind: 'choose', journal: 0, outcome: 'reverse' }, { kind: 'finish', journal: 0, outcome: 'complete' }]],
        ],
      },
    );
    expect(fromSnapshot).to.be.greaterThan(0);
  });
});

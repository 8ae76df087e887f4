/**
 * The books' check of a choice of outcome replaced (`MovementOutcomeChosen` with `replaces`): a
 * choice to complete may become one to reverse once the account of the journal's later leg is
 * closed, before that leg is posted (no run can post it any more). The fold accepts it only where
 * its own knowledge justifies it, reports every other, and answers the same from a books snapshot
 * as from the whole log.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
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
  type RecordedEvent,
} from '../../src/index.js';
import { decorateEventStore } from '../../src/eventStore/decorateEventStore.js';
import { checkLedger } from '../../src/ledger/ledgerInvariants.js';
import { BANK, openAuditStore, type AuditStore } from '../audit/auditFixture.js';

const AT = '2026-01-01T00:00:00.000Z';
const SOURCE = '7300000000000000001';
const DESTINATION = '7300000000000000002';
const OTHER = '7300000000000000003';
const TRANSFER = '7300000000000000100';
const FUNDING = '7300000000000000200';
const KEY = `transfer-${TRANSFER}`;

type Outcome = 'complete' | 'reverse';
type Event = Pick<LedgerEvent, 'type' | 'data'>;

/** The books' events, each with the stream it belongs to. */
const ledger = {
  open: (accountId: string, kind: 'customer' | 'system'): [string, Event] => [
    accountStream(accountId),
    {
      type: 'AccountOpened',
      data: { accountId, ownerId: `owner-${accountId}`, currency: 'EUR', kind, overdraftLimit: 0n, ...(kind === 'system' ? { systemRole: 'bank' as const } : {}) },
    },
  ],
  close: (accountId: string): [string, Event] => [accountStream(accountId), { type: 'AccountClosed', data: { accountId } }],
  post: (
    type: 'AccountDebited' | 'AccountCredited',
    accountId: string,
    journalId: string,
    leg: 'first' | 'second' | 'reversal',
    counterpartyAccountId: string,
    amount = 100n,
  ): [string, Event] => [
    accountStream(accountId),
    { type, data: { accountId, journal: { id: journalId, kind: 'transfer', leg, counterpartyAccountId }, amount, currency: 'EUR' } },
  ],
  choose: (outcome: Outcome, replaces?: Outcome): [string, Event] => [
    transferStream(TRANSFER),
    {
      type: 'MovementOutcomeChosen',
      data: {
        kind: 'transfer',
        journalId: TRANSFER,
        outcome,
        ...(outcome === 'reverse' ? { reason: { type: 'account-closed', detail: `account ${DESTINATION} is closed: cannot credit` } } : {}),
        chosenAt: AT,
        ...(replaces === undefined ? {} : { replaces }),
      },
    },
  ],
  end: (outcome: 'TransferCompleted' | 'TransferFailed', transferId = TRANSFER, from = SOURCE, to = DESTINATION, amount = 100n): [string, Event] => {
    const movement = { transferId, fromAccountId: from, toAccountId: to, amount, currency: 'EUR' as const, requestedAt: AT };
    return [
      transferStream(transferId),
      outcome === 'TransferCompleted'
        ? { type: outcome, data: { ...movement, completedAt: AT } }
        : { type: outcome, data: { ...movement, failedAt: AT, reason: { type: 'account-closed', detail: 'closed' } } },
    ];
  },
};

/** The bank, the source funded with 500 by a completed transfer from it, the destination and another account. */
const FUNDED: [string, Event][] = [
  ledger.open(BANK, 'system'),
  ledger.open(SOURCE, 'customer'),
  ledger.open(DESTINATION, 'customer'),
  ledger.open(OTHER, 'customer'),
  ledger.post('AccountDebited', BANK, FUNDING, 'first', SOURCE, 500n),
  ledger.post('AccountCredited', SOURCE, FUNDING, 'second', BANK, 500n),
  ledger.end('TransferCompleted', FUNDING, BANK, SOURCE, 500n),
];
const DEBIT = ledger.post('AccountDebited', SOURCE, TRANSFER, 'first', DESTINATION);
const CREDIT = ledger.post('AccountCredited', DESTINATION, TRANSFER, 'second', SOURCE);
const REVERSAL = ledger.post('AccountCredited', SOURCE, TRANSFER, 'reversal', DESTINATION);

const encode = (event: Event) =>
  ledgerCatalog.encode({ ...event, id: randomUUID(), version: 1, metadata: { $correlationId: 'test', actor: 'test', occurredAt: AT } } as LedgerEvent);

/** The events as the store gives them back, one position each, after the funded accounts. */
const recorded = (events: [string, Event][]): RecordedEvent[] =>
  [...FUNDED, ...events].map(([streamName, event], index) => {
    const encoded = encode(event);
    return {
      streamName,
      id: encoded.id,
      type: encoded.type,
      revision: 0n,
      position: BigInt(index + 1),
      created: new Date(AT),
      data: encoded.data,
      metadata: encoded.metadata,
    };
  });

const violationsOf = (events: [string, Event][]): string[] =>
  checkLedger(recorded(events)).violations.map((violation) => violation.replace(/^@[0-9]+: /, ''));

describe('the books check of a choice of outcome replaced', () => {
  it('accepts a choice to complete replaced by one to reverse after the destination was closed, the debit reversed', () => {
    const report = checkLedger(recorded([DEBIT, ledger.choose('complete'), ledger.close(DESTINATION), ledger.choose('reverse', 'complete'), REVERSAL, ledger.end('TransferFailed')]));

    expect(report.violations).to.deep.equal([]);
    expect([report.openJournals, report.completedJournals, report.failedJournals]).to.deep.equal([0, 1, 1]);
    expect(report.balances.get(SOURCE)!.balance).to.equal(500n);
    expect(report.balances.get(DESTINATION)!.balance).to.equal(0n);
    expect([...report.inTransit.values()].every((amount) => amount === 0n)).to.equal(true);
  });

  it('still reports the credit posted after a justified replacement, and its completion', () => {
    expect(violationsOf([DEBIT, ledger.choose('complete'), ledger.close(DESTINATION), ledger.choose('reverse', 'complete'), CREDIT, ledger.end('TransferCompleted')])).to.deep.equal([
      `second leg of ${KEY} posted though a run chose to reverse it`,
      `${KEY} completed though a run chose to reverse it`,
    ]);
  });

  it('reports a replacement made before the destination was closed, and holds the legs to the choice it did not replace', () => {
    expect(violationsOf([DEBIT, ledger.choose('complete'), ledger.choose('reverse', 'complete'), ledger.close(DESTINATION), REVERSAL, ledger.end('TransferFailed')])).to.deep.equal([
      `outcome of ${KEY} replaced by reverse though its second account ${DESTINATION} is not closed`,
      `reversal leg of ${KEY} posted though a run chose to complete it`,
      `${KEY} failed though a run chose to complete it`,
    ]);
  });

  it('reports a replacement justified by the closure of an account that is not the destination', () => {
    expect(violationsOf([DEBIT, ledger.choose('complete'), ledger.close(OTHER), ledger.choose('reverse', 'complete')])).to.deep.equal([
      `outcome of ${KEY} replaced by reverse though its second account ${DESTINATION} is not closed`,
    ]);
  });

  it('reports a replacement after the credit was posted', () => {
    expect(violationsOf([DEBIT, ledger.choose('complete'), CREDIT, ledger.close(DESTINATION), ledger.choose('reverse', 'complete')])).to.deep.equal([
      `outcome of ${KEY} replaced by reverse though its second leg is posted on ${DESTINATION}`,
    ]);
  });

  it('reports a choice to reverse replaced by one to complete, even with the destination closed', () => {
    expect(violationsOf([DEBIT, ledger.choose('reverse'), ledger.close(DESTINATION), ledger.choose('complete', 'reverse')])).to.deep.equal([
      `outcome of ${KEY} replaced by complete though only a choice to complete may be replaced, by one to reverse`,
    ]);
  });

  it('reports a replacement of an outcome other than the one that stands, or where none was chosen', () => {
    expect(violationsOf([DEBIT, ledger.choose('reverse'), ledger.close(DESTINATION), ledger.choose('reverse', 'complete')])).to.deep.equal([
      `outcome of ${KEY} replaced by reverse though it replaces complete where reverse was chosen`,
    ]);
    expect(violationsOf([DEBIT, ledger.close(DESTINATION), ledger.choose('reverse', 'complete')])).to.deep.equal([
      `outcome of ${KEY} replaced by reverse though it replaces complete where nothing was chosen`,
    ]);
  });

  it('reports a second replacement after a justified one', () => {
    expect(
      violationsOf([DEBIT, ledger.choose('complete'), ledger.close(DESTINATION), ledger.choose('reverse', 'complete'), ledger.choose('reverse', 'complete')]),
    ).to.deep.equal([`outcome of ${KEY} replaced by reverse though it replaces complete where reverse was chosen`]);
  });

  it('reports a second choice that does not say what it replaces as chosen twice, even with the destination closed', () => {
    expect(violationsOf([DEBIT, ledger.choose('complete'), ledger.close(DESTINATION), ledger.choose('reverse')])).to.deep.equal([
      `outcome of ${KEY} chosen twice`,
    ]);
  });

  it('reports a replacement for a journal whose first leg it never saw: its second account is unknown', () => {
    expect(violationsOf([CREDIT, ledger.choose('complete'), ledger.close(DESTINATION), ledger.choose('reverse', 'complete')])).to.deep.equal([
      `second leg of ${KEY} before its first leg`,
      `outcome of ${KEY} replaced by reverse though its second account (unknown) is not closed`,
    ]);
  });

  it('reads a choice written before replacements existed (no replaces), and keeps replaces through the catalog', () => {
    const [, first] = ledger.choose('complete');
    const [, replacement] = ledger.choose('reverse', 'complete');
    const decode = (event: Event) => {
      const encoded = encode(event);
      return ledgerCatalog.decode({ ...encoded, streamName: transferStream(TRANSFER), revision: 0n, position: 1n, created: new Date(AT) } as RecordedEvent);
    };
    expect(decode(first).data).to.not.have.property('replaces');
    expect(decode(replacement).data).to.deep.include({ outcome: 'reverse', replaces: 'complete' });
  });
});

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
    expect(await trialBalanceAt(counted, point), `at ${event.position}`).to.deep.equal(await trialBalanceAt(audit.store, point, { ignoreSnapshots: true }));
  }
  return fromSnapshot;
};

describe('a choice of outcome replaced across books snapshots', () => {
  let audit: AuditStore;
  beforeEach(() => {
    audit = openAuditStore();
  });
  afterEach(() => audit.dispose());

  const append = (store: EventStore, [streamName, event]: [string, Event]) => store.appendToStream(streamName, [encode(event)], { expectedRevision: 'any' });
  /** Appends the events, a books snapshot after each one. */
  const writeSnapshotting = async (events: [string, Event][]) => {
    for (const event of [...FUNDED, ...events]) {
      await append(audit.store, event);
      await createAuditRuntime({ eventStore: audit.store, signer: generatedSigner(), booksSnapshotEvery: 1, clock: audit.now }).runOnce();
    }
  };

  it('is accepted from a snapshot that holds the close and the choice as in a full replay, the snapshot keeping both', async () => {
    await writeSnapshotting([DEBIT, ledger.choose('complete'), ledger.close(DESTINATION), ledger.choose('reverse', 'complete'), REVERSAL, ledger.end('TransferFailed')]);

    const trial = await trialBalanceAt(audit.store, {});
    expect(trial.violations).to.deep.equal([]);
    expect(trial.balanced).to.equal(true);
    expect(await expectSnapshotsChangeNothing(audit)).to.be.greaterThan(0);
    const snapshots = (await collect(audit.raw.readStream(BOOKS_SNAPSHOT_STREAM))).map((event) => event.data as Record<string, any>);
    expect(snapshots.every((snapshot) => snapshot.format === 'folio-books-snapshot/4')).to.equal(true);
    const afterClose = snapshots.find((snapshot) => snapshot.closedAccounts.includes(DESTINATION) && snapshot.openJournals.length > 0)!;
    expect(afterClose.openJournals).to.deep.equal([
      { kind: 'transfer', id: TRANSFER, currency: 'EUR', net: '-100', legs: [`first:${SOURCE}`], startedAt: afterClose.openJournals[0].startedAt, chosen: 'complete', secondAccountId: DESTINATION },
    ]);
  });

  it('is reported from a snapshot as in a full replay where nothing justifies it', async () => {
    await writeSnapshotting([DEBIT, ledger.choose('complete'), ledger.choose('reverse', 'complete')]);

    const full = await trialBalanceAt(audit.store, {}, { ignoreSnapshots: true });
    expect(full.violations.map((violation) => violation.replace(/^@[0-9]+: /, ''))).to.deep.equal([
      `outcome of ${KEY} replaced by reverse though its second account ${DESTINATION} is not closed`,
    ]);
    expect(await trialBalanceAt(audit.store, {})).to.deep.equal(full);
    await expectSnapshotsChangeNothing(audit);
  });

  it('never folds from a snapshot of format 3, which knows neither the closed accounts nor the destinations, and writes format 4 after it', async () => {
    for (const event of [...FUNDED, DEBIT, ledger.choose('complete'), ledger.close(DESTINATION)]) await append(audit.store, event);
    const [last] = await collect(audit.raw.readAll({ direction: 'backwards', maxCount: 1 }));
    const format3 = {
      format: 'folio-books-snapshot/3',
      position: last!.position.toString(),
      recordedAt: audit.now().toISOString(),
      eventsFolded: FUNDED.length + 3,
      completedJournals: 1,
      failedJournals: 0,
      accounts: [],
      openJournals: [{ kind: 'transfer', id: TRANSFER, currency: 'EUR', net: '-100', legs: [`first:${SOURCE}`], startedAt: '1', chosen: 'complete' }],
      openHolds: [],
      endedJournals: {},
      rulesBroken: false,
    };
    await audit.store.appendToStream(BOOKS_SNAPSHOT_STREAM, [{ id: randomUUID(), type: 'BooksSnapshotted', data: format3, metadata: undefined }], { expectedRevision: 'no_stream' });
    for (const event of [ledger.choose('reverse', 'complete'), REVERSAL, ledger.end('TransferFailed')]) await append(audit.store, event);

    expect((await trialBalanceAt(audit.store, {})).violations).to.deep.equal([]);
    await expectSnapshotsChangeNothing(audit);
    await createAuditRuntime({ eventStore: audit.store, signer: generatedSigner(), booksSnapshotEvery: 1, clock: audit.now }).runOnce();
    const formats = (await collect(audit.raw.readStream(BOOKS_SNAPSHOT_STREAM))).map((snapshot) => snapshot.data.format);
    expect(formats[0]).to.equal('folio-books-snapshot/3');
    expect(formats.length).to.be.greaterThan(1);
    expect(formats.slice(1).every((format) => format === 'folio-books-snapshot/4')).to.equal(true);
    await expectSnapshotsChangeNothing(audit);
    expect((await trialBalanceAt(audit.store, {})).violations).to.deep.equal([]);
  });
});

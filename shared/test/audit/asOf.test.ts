import { expect } from 'chai';
import fc from 'fast-check';
import {
  accountAsOf,
  AccountNotAtPointError,
  accountSnapshotted,
  accountStream,
  BOOKS_SNAPSHOT_STREAM,
  collect,
  createAuditRuntime,
  foldAccountEvent,
  generatedSigner,
  PositionBeyondHeadError,
  snapshotStream,
  trialBalanceAt,
  type EventStore,
  type FoldState,
  type PointInTime,
  type RecordedEvent,
} from '../../src/index.js';
import { BANK, openAuditStore, writeHistory, type AuditStore } from './auditFixture.js';

/** The figures of an account at a point, folded as plainly as possible from the whole log. */
const independentFold = (log: RecordedEvent[], accountId: string, point: PointInTime) => {
  const recorded = log.filter(
    (event) =>
      event.streamName === accountStream(accountId) &&
      (point.position === undefined || event.position <= point.position) &&
      (point.asOf === undefined || event.created.getTime() <= point.asOf),
  );
  if (recorded.length === 0) return undefined;
  let debits = 0n;
  let credits = 0n;
  for (const event of recorded) {
    if (point.effectiveAt !== undefined && Date.parse(event.metadata!.occurredAt as string) > point.effectiveAt) continue;
    if (event.type === 'AccountDebited') debits += BigInt(event.data.amount as string);
    if (event.type === 'AccountCredited') credits += BigInt(event.data.amount as string);
  }
  return { debits, credits, balance: credits - debits, revision: recorded[recorded.length - 1]!.revision };
};

describe('audit: as-of queries from the event store', () => {
  let audit: AuditStore;
  let log: RecordedEvent[];
  let accounts: string[];
  let snapshots = 0;

  before(async function () {
    this.timeout(60_000);
    audit = openAuditStore();
    accounts = [BANK, ...(await writeHistory(audit.store, { accounts: 5, movements: 120, seed: 3, backdated: 0.3 }))];
    const runtime = createAuditRuntime({ eventStore: audit.store, signer: generatedSigner(), snapshotEvery: 4, booksSnapshotEvery: 25, clock: audit.now });
    await runtime.runOnce({ force: true });
    log = await collect(audit.raw.readAll());
    for (const accountId of accounts) {
      snapshots += (await collect(audit.raw.readStream(snapshotStream(accountId)))).length;
    }
  });
  after(() => audit.dispose());

  const pointArbitrary = () => {
    const positions = log.map((event) => event.position);
    const first = log[0]!.created.getTime();
    const last = log[log.length - 1]!.created.getTime();
    const business = log.map((event) => Date.parse((event.metadata?.occurredAt as string | undefined) ?? event.created.toISOString()));
    return fc.record(
      {
        accountIndex: fc.nat({ max: accounts.length - 1 }),
        position: fc.option(fc.oneof(fc.constantFrom(...positions), fc.bigInt({ min: 0n, max: positions[positions.length - 1]! + 10n })), { nil: undefined }),
        asOf: fc.option(fc.integer({ min: first - 5000, max: last + 5000 }), { nil: undefined }),
        effectiveAt: fc.option(fc.integer({ min: Math.min(...business) - 1000, max: Math.max(...business) + 1000 }), { nil: undefined }),
      },
      { requiredKeys: ['accountIndex'] },
    );
  };

  it('wrote snapshots to fold from', () => {
    expect(snapshots).to.be.greaterThan(20);
  });

  it('equals an independent fold at random positions, recorded times and business times, with and without snapshots', async () => {
    await fc.assert(
      fc.asyncProperty(pointArbitrary(), async ({ accountIndex, ...point }) => {
        const accountId = accounts[accountIndex]!;
        const expected = independentFold(log, accountId, point);
        const beyondHead = point.position !== undefined && point.position > log[log.length - 1]!.position;
        const withSnapshots = await accountAsOf(audit.store, accountId, point, { entries: 5 }).catch((error: Error) => error);
        const withoutSnapshots = await accountAsOf(audit.store, accountId, point, { entries: 5, ignoreSnapshots: true }).catch(
          (error: Error) => error,
        );
        if (beyondHead) {
          expect(withSnapshots).to.be.instanceOf(PositionBeyondHeadError);
          expect(withoutSnapshots).to.be.instanceOf(PositionBeyondHeadError);
          return;
        }
        if (expected === undefined) {
          expect(withSnapshots).to.be.instanceOf(AccountNotAtPointError);
          expect(withoutSnapshots).to.be.instanceOf(AccountNotAtPointError);
          return;
        }
        if (withSnapshots instanceof Error) throw withSnapshots;
        if (withoutSnapshots instanceof Error) throw withoutSnapshots;
        expect({ ...withSnapshots, snapshotRevision: undefined }).to.deep.equal({ ...withoutSnapshots, snapshotRevision: undefined });
        expect(withSnapshots.figures).to.deep.include({ debits: expected.debits, credits: expected.credits, balance: expected.balance });
        expect(withSnapshots.revision).to.equal(expected.revision);
        if (withSnapshots.entries.length > 0) expect(withSnapshots.entries[0]!.balanceAfter).to.equal(expected.balance);
      }),
      { numRuns: 150 },
    );
  });

  it("writes every account snapshot equal to a fold of the account's stream, reading the stream only for postings it has not seen", async () => {
    const fresh = openAuditStore();
    try {
      // The second half of the history is a year back: the latest business time of an account's
      // postings is then among those a process that starts halfway has not seen.
      const ids = [BANK, ...(await writeHistory(fresh.store, { accounts: 4, movements: 120, seed: 5, backdated: 0.3, yearBackFrom: 200 }))];
      const reads: string[] = [];
      /** The store as a process sees it that reads the log up to `last`, counting its reads of account streams. */
      const seenBy = (last: bigint): EventStore => ({
        ...fresh.store,
        readAll: (options) =>
          (async function* () {
            for await (const event of fresh.store.readAll(options)) {
              if (event.position > last) return;
              yield event;
            }
          })(),
        readStream: (streamName, options) => {
          if (streamName.startsWith('account-')) reads.push(streamName);
          return fresh.store.readStream(streamName, options);
        },
      });
      const head = (await fresh.raw.headPosition())!;
      const halfway = (await collect(fresh.raw.readAll())).find((event) => (event.metadata?.occurredAt as string) < '2025')!.position - 1n;
      // One key, as one writer has: a checkpoint signed by another is not resumed from.
      const signer = generatedSigner();
      const runUpTo = (last: bigint) =>
        createAuditRuntime({ eventStore: seenBy(last), signer, snapshotEvery: 3, clock: fresh.now }).runOnce({ force: true });
      await runUpTo(halfway);
      expect(reads, 'a pass that saw every event from the start').to.deep.equal([]);
      // A new process goes on from the checkpoint: the postings before it, it has not seen.
      await runUpTo(head);
      expect(reads.length, 'at most one read per account').to.be.within(1, ids.length);
      expect(new Set(reads).size).to.equal(reads.length);

      let written = 0;
      for (const accountId of ids) {
        const stream = await collect(fresh.raw.readStream(accountStream(accountId)));
        for (const recorded of await collect(fresh.raw.readStream(snapshotStream(accountId)))) {
          const snapshot = accountSnapshotted.schema.parse(recorded.data);
          const state: FoldState = { figures: undefined, maxOccurredAt: undefined };
          for (const event of stream.filter(({ revision }) => revision <= snapshot.revision)) foldAccountEvent(state, event, {});
          const at = stream[Number(snapshot.revision)]!;
          expect(snapshot, `${accountId} @${snapshot.revision}`).to.deep.equal({
            revision: at.revision,
            position: at.position,
            recordedAt: at.created.toISOString(),
            ...(state.maxOccurredAt === undefined ? {} : { maxOccurredAt: new Date(state.maxOccurredAt).toISOString() }),
            figures: state.figures,
          });
          written += 1;
        }
      }
      expect(written).to.be.greaterThan(5 * ids.length);
    } finally {
      await fresh.dispose();
    }
  });

  it('uses a snapshot when one lies before the point and lists the latest entries with the balance after each', async () => {
    const accountId = accounts[1]!;
    const result = await accountAsOf(audit.store, accountId, {}, { entries: 3 });
    expect(result.snapshotRevision).to.not.equal(undefined);
    const [latest, before] = result.entries;
    expect(latest!.balanceAfter).to.equal(result.figures.balance);
    expect(before!.balanceAfter).to.equal(latest!.balanceAfter - (latest!.side === 'credit' ? latest!.amount : -latest!.amount));
  });

  it('gives a trial balance that sums to zero with the money in transit, matching every account at random positions, with and without books snapshots', async () => {
    expect(await collect(audit.raw.readStream(BOOKS_SNAPSHOT_STREAM))).to.have.length.greaterThan(10);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...log.map((event) => event.position)), fc.option(fc.integer({ min: log[0]!.created.getTime(), max: log[log.length - 1]!.created.getTime() }), { nil: undefined }), async (position, asOf) => {
        const point = asOf === undefined ? { position } : { position, asOf };
        const trial = await trialBalanceAt(audit.store, point);
        expect(trial).to.deep.equal(await trialBalanceAt(audit.store, point, { ignoreSnapshots: true }));
        if (asOf !== undefined) return;
        expect(trial.balanced).to.equal(true);
        for (const totals of trial.currencies) expect(totals.balances + totals.inTransit).to.equal(0n);
        for (const account of trial.accounts) {
          expect(account.balance).to.equal(independentFold(log, account.accountId, { position })!.balance);
        }
        const started = new Set<string>();
        const ended = new Set<string>();
        for (const event of log) {
          if (event.position > position) break;
          if (event.type === 'AccountDebited' || event.type === 'AccountCredited') {
            const journal = event.data.journal as { id: string };
            started.add(journal.id);
          }
          if (/Completed|Failed/.test(event.type)) ended.add((event.data.transferId ?? event.data.depositId) as string);
        }
        expect(trial.inFlight.map((movement) => movement.id).sort()).to.deep.equal([...started].filter((id) => !ended.has(id)).sort());
      }),
      { numRuns: 40 },
    );
  });
});

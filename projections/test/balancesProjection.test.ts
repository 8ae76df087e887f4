import { expect } from 'chai';
import {
  checkLedger,
  collect,
  formatMinorUnits,
  openSqliteDocumentStore,
  openSqliteEventStore,
  sortableBigint,
  type DocumentStore,
  type SqliteEventStore,
} from '@folio/shared';
import {
  balancePointIdPrefix,
  balancesProjection,
  type AccountBalanceDocument,
  MAX_POINTS_PER_DOCUMENT,
  type BalancePointsDocument,
} from '../src/balances/balancesProjection.js';
import { liveCollections } from '../src/runtime/projection.js';
import { readModelChecksum } from '../src/runtime/readModelChecksum.js';
import { tempPath, writeLedgerHistory } from './fixtures/ledgerFixture.js';

describe('balances projection', () => {
  let log: SqliteEventStore;
  let documents: DocumentStore;
  const collections = liveCollections(balancesProjection);

  beforeEach(async () => {
    log = openSqliteEventStore({ path: tempPath('folio-balances-', 'events.sqlite') });
    documents = openSqliteDocumentStore({ path: tempPath('folio-balances-', 'readmodels.sqlite') });
    await writeLedgerHistory(log, { accounts: 6, transfers: 80 });
  });

  afterEach(async () => {
    await documents.close();
    await log.close();
  });

  const project = async (batchSize: number, source: SqliteEventStore = log) => {
    const handler = balancesProjection.create({ collections, searchIndexes: {} });
    const events = await collect(source.readAll());
    for (let i = 0; i < events.length; i += batchSize) {
      await documents.withTransaction((session) => handler.handle(events.slice(i, i + batchSize), session));
    }
  };

  it('gives every account the balance the log adds up to', async () => {
    await project(50);
    const report = checkLedger(await collect(log.readAll()));
    for (const [accountId, { balance }] of report.balances) {
      const document = await documents.get<AccountBalanceDocument>(collections.accounts!, accountId);
      expect(document?.posted, `posted balance of ${accountId}`).to.equal(formatMinorUnits(balance));
    }
    expect(await documents.count(collections.accounts!)).to.equal(report.balances.size);
  });

  it('is idempotent: the same events applied twice leave the same read model', async () => {
    await project(37);
    const once = [await documents.checksum(collections.accounts!), await documents.checksum(collections.points!)];
    await project(37);
    await project(1000);
    const twice = [await documents.checksum(collections.accounts!), await documents.checksum(collections.points!)];
    expect(twice).to.deep.equal(once);
  });

  it('compares equal however its batches fell, and differs when a point differs', async () => {
    await project(37);
    const other = openSqliteDocumentStore({ path: tempPath('folio-balances-', 'readmodels.sqlite') });
    const checksumOf = (store: DocumentStore) => readModelChecksum(store, balancesProjection, 'points', collections.points!);
    try {
      const handler = balancesProjection.create({ collections, searchIndexes: {} });
      const events = await collect(log.readAll());
      await other.withTransaction((session) => handler.handle(events, session));
      expect(await other.checksum(collections.points!), 'grouped otherwise').to.not.equal(await documents.checksum(collections.points!));
      expect(await checksumOf(other)).to.equal(await checksumOf(documents));
      const [first] = (await other.find<BalancePointsDocument>(collections.points!, { limit: 1 })).items;
      await other.withTransaction((session) =>
        session.put(collections.points!, { ...first!, points: [{ ...first!.points[0]!, posted: '1' }, ...first!.points.slice(1)] }),
      );
      expect(await checksumOf(other)).to.not.equal(await checksumOf(documents));
    } finally {
      await other.close();
    }
  });

  it('records a balance point per posting, in log order, for charts', async () => {
    await project(100);
    const events = await collect(log.readAll());
    const report = checkLedger(events);
    const [accountId, { balance }] = [...report.balances].find(([, facts]) => facts.currency === 'EUR' && facts.balance > 0n)!;
    const documentsOfAccount = await documents.find<BalancePointsDocument>(collections.points!, {
      idPrefix: balancePointIdPrefix(accountId),
      orderBy: { field: '_id', direction: 'asc' },
      limit: 1000,
    });
    expect(documentsOfAccount.items.every((document) => document.accountId === accountId)).to.equal(true);
    const points = documentsOfAccount.items.flatMap((document) => document.points);
    const postings = events.filter(
      (event) =>
        event.streamName === `account-${accountId}` && (event.type === 'AccountDebited' || event.type === 'AccountCredited'),
    );
    expect(points.map((point) => point.position), 'one per posting, in log order').to.deep.equal(
      postings.map((event) => event.position.toString()),
    );
    expect(points.map((point) => point.revision)).to.deep.equal(postings.map((event) => event.revision.toString()));
    expect(documentsOfAccount.items.length, 'grouped per batch').to.be.lessThan(points.length);
    expect(points.at(-1)!.posted).to.equal(formatMinorUnits(balance));
  });

  it("splits a batch's points of one account into documents of at most MAX_POINTS_PER_DOCUMENT", async () => {
    const busy = openSqliteEventStore({ path: tempPath('folio-balances-', 'events.sqlite') });
    await writeLedgerHistory(busy, { accounts: 2, transfers: 700 });
    await project(100_000, busy);
    await busy.close();
    const all = await documents.find<BalancePointsDocument>(collections.points!, { limit: 1000 });
    const sizes = all.items.map((document) => document.points.length);
    expect(Math.max(...sizes)).to.equal(MAX_POINTS_PER_DOCUMENT);
    for (const document of all.items) {
      expect(document._id, 'keyed by the first point').to.equal(
        `${balancePointIdPrefix(document.accountId)}${sortableBigint(BigInt(document.points[0]!.revision))}`,
      );
    }
  });
});

import { expect } from 'chai';
import {
  checkLedger,
  collect,
  formatMinorUnits,
  openSqliteDocumentStore,
  openSqliteEventStore,
  type DocumentStore,
  type SqliteEventStore,
} from '@folio/shared';
import {
  balancePointIdPrefix,
  balancesProjection,
  type AccountBalanceDocument,
  type BalancePointDocument,
} from '../src/balances/balancesProjection.js';
import { liveCollections } from '../src/runtime/projection.js';
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

  const project = async (batchSize: number) => {
    const handler = balancesProjection.create({ collections, searchIndexes: {} });
    const events = await collect(log.readAll());
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

  it('records a balance point per posting, in log order, for charts', async () => {
    await project(100);
    const report = checkLedger(await collect(log.readAll()));
    const [accountId, { balance }] = [...report.balances].find(([, facts]) => facts.currency === 'EUR' && facts.balance > 0n)!;
    const points = await documents.find<BalancePointDocument>(collections.points!, {
      idPrefix: balancePointIdPrefix(accountId),
      orderBy: { field: '_id', direction: 'asc' },
      limit: 1000,
    });
    expect(points.items.length).to.be.greaterThan(1);
    expect(points.items.every((point) => point.accountId === accountId)).to.equal(true);
    const positions = points.items.map((point) => BigInt(point.position));
    expect(positions, 'in log order').to.deep.equal([...positions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(points.items.at(-1)!.posted).to.equal(formatMinorUnits(balance));
  });
});

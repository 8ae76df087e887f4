import { expect } from 'chai';
import {
  checkLedger,
  collect,
  openSqliteDocumentStore,
  openSqliteEventStore,
  type DocumentStore,
  type SqliteEventStore,
} from '@folio/shared';
import {
  transactionHistoryProjection,
  type TransactionDocument,
} from '../src/history/transactionHistoryProjection.js';
import { liveCollections } from '../src/runtime/projection.js';
import { tempPath, writeLedgerHistory } from './fixtures/ledgerFixture.js';

describe('transaction history projection', () => {
  let log: SqliteEventStore;
  let documents: DocumentStore;
  const { transactions } = liveCollections(transactionHistoryProjection);

  beforeEach(async () => {
    log = openSqliteEventStore({ path: tempPath('folio-history-', 'events.sqlite') });
    documents = openSqliteDocumentStore({ path: tempPath('folio-history-', 'readmodels.sqlite') });
    await writeLedgerHistory(log, { accounts: 5, transfers: 120 });
  });

  afterEach(async () => {
    await documents.close();
    await log.close();
  });

  const project = async (batchSize: number) => {
    const handler = transactionHistoryProjection.create({ transactions: transactions! });
    const events = await collect(log.readAll());
    for (let i = 0; i < events.length; i += batchSize) {
      await documents.withTransaction((session) => handler.handle(events.slice(i, i + batchSize), session));
    }
  };

  it('keeps one document per movement: completed ones with their end, open ones in transit', async () => {
    await project(40);
    const report = checkLedger(await collect(log.readAll()));
    expect(await documents.count(transactions!, { status: 'completed' })).to.equal(report.completedJournals);
    expect(await documents.count(transactions!, { status: 'in_transit' })).to.equal(report.openJournals);
    const page = await documents.find<TransactionDocument>(transactions!, { where: { status: 'completed' }, limit: 1 });
    const [first] = page.items;
    expect(first?.endedAt).to.be.a('string');
    expect(first?.amount).to.match(/^[1-9][0-9]*$/);
  });

  it('is idempotent: the same events applied twice leave the same read model', async () => {
    await project(33);
    const once = await documents.checksum(transactions!);
    await project(33);
    await project(7);
    expect(await documents.checksum(transactions!)).to.equal(once);
  });

  it('pages a large history in amount order, exactly', async () => {
    await project(100);
    const seen: bigint[] = [];
    let after: string | undefined;
    do {
      const page = await documents.find<TransactionDocument>(transactions!, {
        orderBy: { field: 'sortableAmount', direction: 'desc' },
        limit: 17,
        ...(after === undefined ? {} : { after }),
      });
      seen.push(...page.items.map((item) => BigInt(item.amount)));
      after = page.nextCursor;
    } while (after !== undefined);
    expect(seen).to.have.length(await documents.count(transactions!));
    expect(seen).to.deep.equal([...seen].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0)));
  });
});

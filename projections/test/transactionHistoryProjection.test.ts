import { expect } from 'chai';
import {
  checkLedger,
  collect,
  openSqliteDocumentStore,
  openSqliteEventStore,
  openSqliteSearchIndex,
  sortableBigint,
  type DocumentStore,
  type SqliteEventStore,
} from '@folio/shared';
import { appendPayment, paymentIdOf } from '@folio/shared/testing';
import {
  foldTransactions,
  transactionHistoryProjection,
  type ProviderReferenceDocument,
  type TransactionDocument,
} from '../src/history/transactionHistoryProjection.js';
import { liveCollections, searchAliases } from '../src/runtime/projection.js';
import { createProjector } from '../src/runtime/projector.js';
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
    const handler = transactionHistoryProjection.create({ collections: { transactions: transactions! }, searchIndexes: {} });
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

  it('names what a replayed batch touched but already reflects, so its search documents are written again', async () => {
    await project(1_000);
    const events = await collect(log.readAll());
    const stored = await documents.find<TransactionDocument>(transactions!, { limit: 1 });
    const journal = stored.items[0]!;
    await appendPayment(log, { n: 7, amount: 1_000n, at: '2025-01-01T00:00:00.000Z', until: 'submitted' });
    const submitted = (await collect(log.readAll())).filter(({ type }) => type === 'PaymentSubmitted');
    const key = `payment:${paymentIdOf(7)}`;
    // The reference already took the submission, and passed the provider reference to its journal.
    const reference: ProviderReferenceDocument = {
      _id: key,
      providerRef: 'pi_7',
      journalIds: [journal.id],
      lastPosition: submitted[0]!.position.toString(),
      sortableLastPosition: sortableBigint(submitted[0]!.position),
    };
    const loader = {
      transactions: (ids: readonly string[]) =>
        documents.withTransaction((session) => session.getMany<TransactionDocument>(transactions!, ids)),
      transaction: (id: string) => documents.get<TransactionDocument>(transactions!, id),
      reference: async (wanted: string) => (wanted === key ? reference : undefined),
    };
    const replayed = await foldTransactions(events, loader);
    expect(replayed.transactions.size, 'nothing changes').to.equal(0);
    expect(replayed.unchanged.size).to.equal(await documents.count(transactions!));
    const resubmitted = await foldTransactions(submitted, loader);
    expect(resubmitted.transactions.size).to.equal(0);
    expect([...resubmitted.unchanged.values()]).to.deep.equal([journal]);
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

describe('transaction history search', () => {
  it('indexes every movement for search: words, exact amount ranges, account filters', async () => {
    const log = openSqliteEventStore({ path: tempPath('folio-history-search-', 'events.sqlite') });
    const documents = openSqliteDocumentStore({ path: tempPath('folio-history-search-', 'readmodels.sqlite') });
    const searchIndex = openSqliteSearchIndex({ path: tempPath('folio-history-search-', 'search.sqlite') });
    const [firstAccount] = await writeLedgerHistory(log, { accounts: 4, transfers: 60 });
    const projector = createProjector({ eventStore: log, documents, searchIndex, definition: transactionHistoryProjection });
    try {
      await projector.start();
      const [alias] = Object.values(searchAliases(transactionHistoryProjection));
      await searchIndex.refresh(alias!);

      const byReference = await searchIndex.search(alias!, { text: 'ref 10000005' });
      expect(byReference.hits.map((hit) => hit.id)).to.deep.equal(['10000005']);

      const { transactions } = liveCollections(transactionHistoryProjection);
      const all = await documents.find<TransactionDocument>(transactions!, { limit: 1000 });
      const inRange = all.items.filter((item) => BigInt(item.amount) >= 100n && BigInt(item.amount) <= 300n);
      const ranged = await searchIndex.search(alias!, { ranges: { amount: { gte: 100n, lte: 300n } }, limit: 500 });
      expect(ranged.hits.map((hit) => hit.id).sort()).to.deep.equal(inRange.map((item) => item.id).sort());

      const mine = await searchIndex.search(alias!, { equals: { accounts: firstAccount! }, limit: 500 });
      const expected = all.items.filter((item) => item.fromAccountId === firstAccount || item.toAccountId === firstAccount);
      expect(mine.hits).to.have.length(expected.length);
    } finally {
      await projector.stop();
      await Promise.all([searchIndex.close(), documents.close(), log.close()]);
    }
  });
});

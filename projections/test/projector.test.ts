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
import { balancesProjection, type AccountBalanceDocument } from '../src/balances/balancesProjection.js';
import { liveCollections } from '../src/runtime/projection.js';
import { createProjector } from '../src/runtime/projector.js';
import { tempPath, writeLedgerHistory } from './fixtures/ledgerFixture.js';

describe('projector runtime', () => {
  let log: SqliteEventStore;
  let documents: DocumentStore;
  const collections = liveCollections(balancesProjection);

  beforeEach(() => {
    log = openSqliteEventStore({ path: tempPath('folio-projector-', 'events.sqlite') });
    documents = openSqliteDocumentStore({ path: tempPath('folio-projector-', 'readmodels.sqlite') });
  });

  afterEach(async () => {
    await documents.close();
    await log.close();
  });

  const expectBalancesMatchLog = async () => {
    const report = checkLedger(await collect(log.readAll()));
    for (const [accountId, { balance }] of report.balances) {
      const document = await documents.get<AccountBalanceDocument>(collections.accounts!, accountId);
      expect(document?.posted, `posted balance of ${accountId}`).to.equal(formatMinorUnits(balance));
    }
  };

  it('catches up from its checkpoint, then follows the log live, and lets a reader wait for a position', async () => {
    await writeLedgerHistory(log, { accounts: 5, transfers: 60 });
    const projector = createProjector({ eventStore: log, documents, definition: balancesProjection, batchSize: 25 });
    await projector.start();
    await expectBalancesMatchLog();

    await writeLedgerHistory(log, { accounts: 3, transfers: 20, firstAccountId: 2_000_000, seed: 11 });
    const head = (await log.headPosition())!;
    expect(await projector.waitFor(head, 5_000), 'reaches the head').to.equal(true);
    await expectBalancesMatchLog();
    expect(await projector.waitFor(head + 1_000_000n, 50), 'a position not yet written times out').to.equal(false);
    expect(projector.status().caughtUp).to.equal(true);
    await projector.stop();

    // A new projector starts from the stored checkpoint and finds nothing to redo.
    const again = createProjector({ eventStore: log, documents, definition: balancesProjection });
    const before = await documents.checksum(collections.accounts!);
    await again.start();
    expect(again.status().position).to.equal(head);
    expect(await documents.checksum(collections.accounts!)).to.equal(before);
    await again.stop();
  });

  it('resumes from its checkpoint after the store drops its subscription, losing and repeating nothing', async () => {
    await writeLedgerHistory(log, { accounts: 4, transfers: 30 });
    const projector = createProjector({ eventStore: log, documents, definition: balancesProjection, onError: () => undefined });
    await projector.start();
    log.dropSubscriptions(new Error('test drop'));
    await writeLedgerHistory(log, { accounts: 2, transfers: 10, firstAccountId: 3_000_000, seed: 3 });
    expect(await projector.waitFor((await log.headPosition())!, 5_000)).to.equal(true);
    await expectBalancesMatchLog();
    await projector.stop();
  });
});

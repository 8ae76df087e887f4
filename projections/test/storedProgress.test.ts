import { expect } from 'chai';
import {
  createLogger,
  openSqliteDocumentStore,
  openSqliteEventStore,
  openSqliteSearchIndex,
  StoreUnavailableError,
  type DocumentStore,
  type SearchIndex,
  type SqliteEventStore,
} from '@folio/shared';
import { createProjections, projectionDefinitions } from '../src/projections.js';
import { liveCheckpointId } from '../src/runtime/projection.js';
import { createStoredProgress, storedCheckpointSchema } from '../src/runtime/storedProgress.js';
import { tempPath, writeLedgerHistory } from './fixtures/ledgerFixture.js';
import { appendPayment } from '@folio/shared/testing';

const silent = createLogger({ service: 'query-side', level: 'silent' });

describe('projection progress read from stored checkpoints (a query side apart from the projectors)', () => {
  let log: SqliteEventStore;
  let documents: DocumentStore;
  let searchIndex: SearchIndex;

  beforeEach(() => {
    log = openSqliteEventStore({ path: tempPath('folio-progress-', 'events.sqlite') });
    documents = openSqliteDocumentStore({ path: tempPath('folio-progress-', 'readmodels.sqlite') });
    searchIndex = openSqliteSearchIndex({ path: tempPath('folio-progress-', 'search.sqlite') });
  });

  afterEach(async () => {
    await searchIndex.close();
    await documents.close();
    await log.close();
  });

  it('knows nothing before the projectors committed, then follows them, and lets a reader wait for a position', async () => {
    await writeLedgerHistory(log, { accounts: 4, transfers: 20 });
    await appendPayment(log, { n: 1, amount: 100n, at: new Date().toISOString(), until: 'captured' });
    const progress = createStoredProgress({ documents, eventStore: log, definitions: projectionDefinitions, pollMs: 10, logger: silent });
    await progress.start();
    expect(progress.status().map(({ position, caughtUp }) => ({ position, caughtUp }))).to.deep.equal(
      projectionDefinitions.map(() => ({ position: undefined, caughtUp: false })),
    );

    const projections = createProjections({ eventStore: log, documents, searchIndex });
    await projections.start();
    const head = (await log.headPosition())!;
    expect(await progress.waitFor(head, 5_000), 'sees the projectors reach the head').to.equal(true);
    for (const status of progress.status()) {
      expect(status.position, status.name).to.equal(head);
      expect(status.caughtUp, status.name).to.equal(true);
      // The payments read model took no event of this ledger-only log, yet reflects all of it.
      expect(status.lastEventAt, status.name).to.be.instanceOf(Date);
    }

    await writeLedgerHistory(log, { accounts: 2, transfers: 5, firstAccountId: 4_000_000, seed: 5 });
    const later = (await log.headPosition())!;
    expect(await progress.waitFor(later, 5_000), 'follows them live').to.equal(true);
    expect(await progress.waitFor(later + 1_000_000n, 50), 'a position not yet written times out').to.equal(false);

    await projections.stop();
    progress.stop();
  });

  it('tells every read model failing while the checkpoints cannot be read, and none once they can be again', async () => {
    await writeLedgerHistory(log, { accounts: 3, transfers: 10 });
    let reachable = true;
    const flaky = new Proxy(documents, {
      get(target, property) {
        const member = Reflect.get(target, property, target) as unknown;
        if (property !== 'get') return member;
        return (...args: Parameters<DocumentStore['get']>) =>
          reachable ? target.get(...args) : Promise.reject(new StoreUnavailableError('test: the document store is unreachable'));
      },
    });
    const progress = createStoredProgress({ documents: flaky, eventStore: log, definitions: projectionDefinitions, pollMs: 10, logger: silent });
    const quiet = console.error;
    console.error = () => undefined;
    try {
      await progress.start();
      expect(progress.status().map(({ failing }) => failing)).to.deep.equal(projectionDefinitions.map(() => undefined));

      reachable = false;
      const awayAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (const { name, failing } of progress.status()) {
        expect(failing?.failures, name).to.be.at.least(2);
        expect(failing?.since.getTime(), name).to.be.within(awayAt, awayAt + 50);
        expect(failing?.lastError, name).to.match(/document store is unreachable/);
      }

      reachable = true;
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(progress.status().map(({ failing }) => failing)).to.deep.equal(projectionDefinitions.map(() => undefined));
    } finally {
      console.error = quiet;
      progress.stop();
    }
  });

  it('warns once when the checkpoints cannot be read, again at most once a minute while that lasts, and tells when it ends', async () => {
    await writeLedgerHistory(log, { accounts: 3, transfers: 10 });
    let reachable = true;
    const flaky = new Proxy(documents, {
      get(target, property) {
        const member = Reflect.get(target, property, target) as unknown;
        if (property !== 'get') return member;
        return (...args: Parameters<DocumentStore['get']>) =>
          reachable ? target.get(...args) : Promise.reject(new StoreUnavailableError('test: the document store is unreachable'));
      },
    });
    let now = Date.parse('2030-01-01T00:00:00Z');
    const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
    const progress = createStoredProgress({
      documents: flaky,
      eventStore: log,
      definitions: projectionDefinitions,
      pollMs: 2,
      now: () => now,
      logger: {
        warn: (fields, message) => lines.push({ level: 'warn', fields, message }),
        info: (fields, message) => lines.push({ level: 'info', fields, message }),
      },
    });
    const failures = () => progress.status()[0]!.failing?.failures ?? 0;
    const pollsUntil = async (condition: () => boolean): Promise<void> => {
      for (const until = Date.now() + 2_000; !condition() && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 2));
      expect(condition()).to.equal(true);
    };
    try {
      await progress.start();
      reachable = false;
      await pollsUntil(() => failures() >= 10);
      expect(lines.map(({ level, message }) => [level, message])).to.deep.equal([
        ['warn', 'reading projection checkpoints failed: every read model reads as failing until they can be read again'],
      ]);
      expect((lines[0]!.fields.err as Error).message).to.match(/document store is unreachable/);

      now += 59_999;
      const before = failures();
      await pollsUntil(() => failures() >= before + 5);
      expect(lines, 'not yet a minute').to.have.length(1);

      now += 1;
      const remindedAfter = failures();
      await pollsUntil(() => failures() >= remindedAfter + 5);
      expect(lines.slice(1).map(({ level, message }) => [level, message])).to.deep.equal([['warn', 'reading projection checkpoints still fails']]);
      expect(lines[1]!.fields).to.include({ failingSeconds: 60, lastError: 'test: the document store is unreachable' });
      expect(lines[1]!.fields.failures).to.be.within(remindedAfter + 1, remindedAfter + 2);

      now += 30_000;
      reachable = true;
      await pollsUntil(() => progress.status()[0]!.failing === undefined);
      expect(lines.slice(2).map(({ level, message }) => [level, message])).to.deep.equal([['info', 'reading projection checkpoints works again']]);
      expect(lines[2]!.fields).to.include({ failedSeconds: 90 });
      expect(lines[2]!.fields.failures).to.be.at.least(remindedAfter + 5);
    } finally {
      progress.stop();
    }
  });

  it('reads whether a read model has caught up once: not from a checkpoint stored before that was recorded, and once its projector has', async () => {
    expect(storedCheckpointSchema.parse({ _id: 'balances_v1', position: '12', sortablePosition: '12', lastEventAt: null })).to.deep.equal({
      position: 12n,
      lastEventAt: null,
      caughtUpOnce: false,
    });
    await writeLedgerHistory(log, { accounts: 3, transfers: 10 });
    const projections = createProjections({ eventStore: log, documents, searchIndex });
    await projections.start();
    await projections.stop();
    for (const definition of projectionDefinitions) {
      const stored = storedCheckpointSchema.parse(await documents.get('projection_checkpoints', liveCheckpointId(definition)));
      expect(stored.caughtUpOnce, definition.name).to.equal(true);
    }
  });
});

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import {
  accountStream,
  ledgerCatalog,
  openSqliteDocumentStore,
  openSqliteEventStore,
  paymentCatalog,
  paymentStream,
  type DocumentStore,
  type SearchIndex,
  type SqliteEventStore,
} from '@folio/shared';
import { balancesProjection } from '../src/balances/balancesProjection.js';
import { transactionHistoryProjection } from '../src/history/transactionHistoryProjection.js';
import { rebuildProjection } from '../src/rebuild/rebuildProjection.js';
import { CHECKPOINTS_COLLECTION, liveCheckpointId, liveCollections, searchAliases, type ProjectionDefinition } from '../src/runtime/projection.js';
import { createProjector, createProjectorGroup } from '../src/runtime/projector.js';
import { readModelChecksum } from '../src/runtime/readModelChecksum.js';
import { leaseClaims, ReadModelBusyError } from '../src/runtime/readModelLease.js';
import { openEmbeddedStores, tempPath, writeLedgerHistory } from './fixtures/ledgerFixture.js';
import { quietHeadEventStore } from './fixtures/quietHeadEventStore.js';

const liveProjectorScript = new URL('./fixtures/liveProjectorProcess.js', import.meta.url).pathname;

describe('projection rebuild', () => {
  let stores: ReturnType<typeof openEmbeddedStores>;
  let log: SqliteEventStore;
  let documents: DocumentStore;
  let searchIndex: SearchIndex;

  beforeEach(async () => {
    stores = openEmbeddedStores('folio-rebuild-');
    ({ log, documents, search: searchIndex } = stores);
    await writeLedgerHistory(log, { accounts: 6, transfers: 150 });
  });

  afterEach(() => stores.close());

  /** `store` whose `step` throws as if the process died just before or just after it did its work. */
  const dyingAt = <T extends object>(store: T, step: keyof T & string, when: 'before' | 'after'): T => ({
    ...store,
    [step]: async (...args: unknown[]) => {
      if (when === 'after') await (store[step] as (...args: unknown[]) => Promise<unknown>)(...args);
      throw new Error(`the process died ${when} ${step}`);
    },
  });

  /** Builds the live read model from the log, as its projector does, and stops it. */
  const projectLive = async (definition: ProjectionDefinition): Promise<void> => {
    const live = createProjector({ eventStore: log, documents, searchIndex, definition });
    await live.start();
    await live.stop();
  };

  /** What `promise` failed with, or undefined. */
  const failureOf = (promise: Promise<unknown>): Promise<unknown> =>
    promise.then(
      () => undefined,
      (error: unknown) => error,
    );

  /** Expects the live read model and its search aliases to equal those a projector builds from the log alone. */
  const expectEqualToLog = async (definition: ProjectionDefinition): Promise<void> => {
    const clean = openEmbeddedStores('folio-rebuild-clean-');
    try {
      const projector = createProjector({ eventStore: log, documents: clean.documents, searchIndex: clean.search, definition });
      await projector.start();
      await projector.stop();
      for (const [role, collection] of Object.entries(liveCollections(definition))) {
        expect(await readModelChecksum(documents, definition, role, collection), collection).to.equal(
          await readModelChecksum(clean.documents, definition, role, collection),
        );
      }
      for (const alias of Object.values(searchAliases(definition))) {
        expect(await searchIndex.checksum(alias), `${alias} finds every transaction`).to.equal(await clean.search.checksum(alias));
      }
    } finally {
      await clean.close();
    }
  };

  /** Resolves once `rebuilding` holds the read model; throws if it ended before it was seen to. */
  const rebuildClaiming = async (definition: ProjectionDefinition, rebuilding: Promise<unknown>): Promise<void> => {
    let ended = false;
    void rebuilding.then(
      () => (ended = true),
      () => (ended = true),
    );
    while (!(await leaseClaims(documents, liveCheckpointId(definition))).some(({ kind }) => kind === 'rebuild')) {
      if (ended) throw new Error('the rebuild ended before it was seen holding the read model');
      await sleep(1);
    }
  };

  /** A rebuild whose process dies `when` the swap's `step`; what it died of. */
  const rebuildDying = async (
    definition: ProjectionDefinition,
    when: 'before' | 'after',
    step: 'renameCollection' | 'setAlias' | 'dropIndex',
  ): Promise<unknown> => {
    const dying =
      step === 'renameCollection'
        ? { documents: dyingAt(documents, step, when), searchIndex }
        : { documents, searchIndex: dyingAt(searchIndex, step, when) };
    return rebuildProjection({ eventStore: log, ...dying, definition, rebuildId: 'r1' }).then(
      () => undefined,
      (error: unknown) => error,
    );
  };

  for (const definition of [balancesProjection, transactionHistoryProjection]) {
    it(`rebuilds ${definition.name} from the log equal to the live read model, then swaps it in`, async () => {
      await projectLive(definition);

      const report = await rebuildProjection({ eventStore: log, documents, searchIndex, definition, rebuildId: 'r1' });

      expect(report.identical, JSON.stringify(report.checksums)).to.equal(true);
      expect(report.position).to.equal(await log.headPosition());
      const collections = await documents.listCollections();
      expect(collections.filter((name) => name.includes('__rebuild'))).to.deep.equal([]);
      for (const [role, name] of Object.entries(liveCollections(definition))) {
        expect(await readModelChecksum(documents, definition, role, name)).to.equal(report.checksums[role]!.rebuilt);
      }
      const checkpoint = await documents.get<{ _id: string; position: string }>(
        CHECKPOINTS_COLLECTION,
        `${definition.name}_v${definition.version}`,
      );
      expect(checkpoint?.position).to.equal(report.position!.toString());
      for (const [role, alias] of Object.entries(searchAliases(definition))) {
        const target = await searchIndex.resolveAlias(alias);
        expect(target, `the ${alias} alias moved to the rebuilt index`).to.match(/-rebuild-r1$/);
        expect(await searchIndex.checksum(target!)).to.equal(report.checksums[`search:${role}`]!.rebuilt);
      }

      // A projector started afterwards goes on from the rebuilt checkpoint, into the rebuilt index.
      const after = createProjector({ eventStore: log, documents, searchIndex, definition });
      await after.start();
      expect(after.status().position).to.equal(report.position);
      await after.stop();
    });
  }

  it('rebuilds a read model whose live checkpoint passed its last event, on a log that reports no events skipped at its head (EventStoreDB)', async () => {
    const quiet = quietHeadEventStore(log);
    // The live read model is fed beside another one, which takes the last event of the log: its
    // checkpoint moves past its own last event with it. A rebuild alone stays at that event.
    await log.appendToStream(paymentStream('7300000000000000001'), [
      paymentCatalog.encode({
        type: 'PaymentSubmitted',
        data: { paymentId: '7300000000000000001', provider: 'sandbox', providerRef: 'pi_42', submittedAt: new Date(Date.UTC(2026, 1, 1)).toISOString() },
        id: randomUUID(),
        version: 1,
        metadata: { $correlationId: 'test', actor: 'test', occurredAt: new Date(Date.UTC(2026, 1, 1)).toISOString() },
      }),
    ]);
    const head = (await log.headPosition())!;
    const live = createProjectorGroup({
      eventStore: quiet,
      documents,
      searchIndex,
      readModels: [{ definition: balancesProjection }, { definition: transactionHistoryProjection }],
    });
    await live.start();
    await live.stop();
    expect(live.status()[0]!.position, 'the live balances moved with the history').to.equal(head);

    // Subscriptions the rebuild makes beyond these mean it goes on catching up without end: it
    // is told so, and the log refuses it more (the projector then waits between its tries).
    let subscriptions = 0;
    const endless = new Promise<never>((_, reject) => {
      quiet.subscribeToAll = ((subscribe) => (options) => {
        if (++subscriptions < 50) return subscribe(options);
        const error = new Error(`the rebuild subscribed ${subscriptions} times to a log that did not grow`);
        reject(error);
        throw error;
      })(quiet.subscribeToAll.bind(quiet));
    });
    const report = await Promise.race([
      rebuildProjection({ eventStore: quiet, documents, searchIndex, definition: balancesProjection, rebuildId: 'r1' }),
      endless,
    ]);

    expect(report.identical, JSON.stringify(report.checksums)).to.equal(true);
    await expectEqualToLog(balancesProjection);
    const after = createProjector({ eventStore: quiet, documents, definition: balancesProjection });
    await after.start();
    await after.stop();
    await expectEqualToLog(balancesProjection);
  });

  /**
   * Opens `count` more accounts. More of `writeLedgerHistory` would open its bank account again,
   * which the balances read model takes as a new account however its batches fall.
   */
  const openAccounts = async (first: number, count: number): Promise<void> => {
    for (let n = 0; n < count; n++) {
      const accountId = String(first + n);
      const event = ledgerCatalog.encode({
        type: 'AccountOpened',
        data: { accountId, ownerId: `owner-${accountId}`, currency: 'EUR', kind: 'customer', overdraftLimit: 0n },
        id: randomUUID(),
        version: 1,
        metadata: { $correlationId: 'test', actor: 'test', occurredAt: new Date(Date.UTC(2026, 1, 1)).toISOString() },
      });
      await log.appendToStream(accountStream(accountId), [event]);
    }
  };

  for (const [definition, grow] of [
    [balancesProjection, (first: number) => openAccounts(first, 30)],
    [transactionHistoryProjection, (first: number) => writeLedgerHistory(log, { accounts: 3, transfers: 40, firstAccountId: first, seed: first })],
  ] as const) {
    it(`refuses to rebuild ${definition.name} while its live projector runs, which goes on keeping it equal to the log`, async () => {
      const errors: unknown[] = [];
      const live = createProjector({ eventStore: log, documents, searchIndex, definition, onError: (error) => errors.push(error) });
      await live.start();
      try {
        const writing = grow(2_000_000);
        const refused = await failureOf(rebuildProjection({ eventStore: log, documents, searchIndex, definition, rebuildId: 'r1' }));
        await writing;
        expect(refused).to.be.instanceOf(ReadModelBusyError);
        expect((refused as Error).message).to.match(
          new RegExp(`^cannot rebuild ${liveCheckpointId(definition)}: a live projector is running on it \\(pid ${process.pid} on .+, claimed until .+\\); stop it first`),
        );
        await grow(3_000_000);
        expect(await live.waitFor((await log.headPosition())!, 10_000), 'the live projector kept up with the log').to.equal(true);
      } finally {
        await live.stop();
      }
      expect(errors).to.deep.equal([]);
      expect((await documents.listCollections()).filter((name) => name.includes('__rebuild'))).to.deep.equal([]);
      await expectEqualToLog(definition);
    });
  }

  it('keeps a projector started during a rebuild waiting until the rebuild has swapped, then it goes on from the rebuilt read model', async () => {
    const definition = transactionHistoryProjection;
    await projectLive(definition);
    const rebuilding = rebuildProjection({ eventStore: log, documents, searchIndex, definition, rebuildId: 'r1' });
    await rebuildClaiming(definition, rebuilding);
    const errors: unknown[] = [];
    const live = createProjector({ eventStore: log, documents, searchIndex, definition, onError: (error) => errors.push(error) });
    const started = live.start();
    await writeLedgerHistory(log, { accounts: 3, transfers: 40, firstAccountId: 2_000_000, seed: 5 });
    const report = await rebuilding;
    try {
      await started;
      await writeLedgerHistory(log, { accounts: 2, transfers: 20, firstAccountId: 3_000_000, seed: 3 });
      expect(await live.waitFor((await log.headPosition())!, 10_000)).to.equal(true);
    } finally {
      await live.stop();
    }
    expect(report.identical, JSON.stringify(report.checksums)).to.equal(true);
    expect(errors.map(String)).to.have.length(1);
    expect(String(errors[0])).to.match(new RegExp(`^ReadModelBusyError: cannot project ${liveCheckpointId(definition)}: a rebuild is in progress on it`));
    for (const alias of Object.values(searchAliases(definition))) {
      expect(await searchIndex.resolveAlias(alias)).to.match(/-rebuild-r1$/);
    }
    await expectEqualToLog(definition);
    expect(await leaseClaims(documents, liveCheckpointId(definition)), 'every claim released').to.deep.equal([]);
  });

  it('refuses a second rebuild of a read model while one runs', async () => {
    const definition = transactionHistoryProjection;
    await projectLive(definition);
    const first = rebuildProjection({ eventStore: log, documents, searchIndex, definition, rebuildId: 'r1' });
    await rebuildClaiming(definition, first);
    const second = await failureOf(rebuildProjection({ eventStore: log, documents, searchIndex, definition, rebuildId: 'r2' }));
    expect(second).to.be.instanceOf(ReadModelBusyError);
    expect((second as Error).message).to.match(new RegExp(`^cannot rebuild ${liveCheckpointId(definition)}: a rebuild is in progress on it`));
    expect((await first).identical).to.equal(true);
    await expectEqualToLog(definition);
  });

  it('refuses a rebuild beside a projector killed with SIGKILL until its claim has expired, then rebuilds', async function () {
    this.timeout(30_000);
    const logPath = tempPath('folio-rebuild-killed-', 'events.sqlite');
    const documentsPath = tempPath('folio-rebuild-killed-', 'readmodels.sqlite');
    const killedLog = openSqliteEventStore({ path: logPath });
    const killedDocuments = openSqliteDocumentStore({ path: documentsPath });
    try {
      await writeLedgerHistory(killedLog, { accounts: 4, transfers: 40 });
      const child = spawn(process.execPath, [liveProjectorScript, logPath, documentsPath, '2000'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = once(child, 'exit');
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      expect(line).to.equal(`caught-up ${child.pid}`);
      child.kill('SIGKILL');
      await exited;

      const rebuild = () =>
        rebuildProjection({ eventStore: killedLog, documents: killedDocuments, definition: balancesProjection, rebuildId: 'r1' });
      const refused = await failureOf(rebuild());
      expect(refused).to.be.instanceOf(ReadModelBusyError);
      const { claim } = refused as ReadModelBusyError;
      expect(claim).to.include({ kind: 'projector', pid: child.pid });
      expect((refused as Error).message).to.contain('a projector that was killed without stopping holds it until then');
      await sleep(Date.parse(claim.expiresAt) - Date.now() + 10);
      const report = await rebuild();
      expect(report.identical, JSON.stringify(report.checksums)).to.equal(true);
      expect(await leaseClaims(killedDocuments, liveCheckpointId(balancesProjection))).to.deep.equal([]);
    } finally {
      await killedDocuments.close();
      await killedLog.close();
    }
  });

  for (const [when, step] of [
    ['after', 'renameCollection'],
    ['before', 'setAlias'],
    ['after', 'setAlias'],
    ['after', 'dropIndex'],
  ] as const) {
    it(`loses nothing when the process dies ${when} ${step} while swapping the rebuilt read model in`, async () => {
      const definition = transactionHistoryProjection;
      await projectLive(definition);
      expect(String(await rebuildDying(definition, when, step))).to.equal(`Error: the process died ${when} ${step}`);

      // The next start goes on from whatever the swap left, and readers end up searching everything.
      await writeLedgerHistory(log, { accounts: 2, transfers: 10, firstAccountId: 3_000_000, seed: 3 });
      const restarted = createProjector({ eventStore: log, documents, searchIndex, definition });
      await restarted.start();
      await restarted.stop();
      const clean = openEmbeddedStores('folio-rebuild-clean-');
      try {
        const projector = createProjector({ eventStore: log, documents: clean.documents, searchIndex: clean.search, definition });
        await projector.start();
        await projector.stop();
        for (const alias of Object.values(searchAliases(definition))) {
          expect(await searchIndex.checksum(alias), `${alias} finds every transaction`).to.equal(await clean.search.checksum(alias));
        }
        for (const collection of Object.values(liveCollections(definition))) {
          expect(await documents.checksum(collection), collection).to.equal(await clean.documents.checksum(collection));
        }
      } finally {
        await clean.close();
      }
    });
  }

  for (const [when, step] of [
    ['after', 'renameCollection'],
    ['before', 'setAlias'],
    ['after', 'setAlias'],
    ['before', 'dropIndex'],
  ] as const) {
    it(`drops what a rebuild that died ${when} ${step} left in the search index on the next rebuild, and keeps the live index`, async () => {
      const definition = transactionHistoryProjection;
      await projectLive(definition);
      expect(String(await rebuildDying(definition, when, step))).to.equal(`Error: the process died ${when} ${step}`);

      const report = await rebuildProjection({ eventStore: log, documents, searchIndex, definition, rebuildId: 'r2' });

      expect(report.identical, JSON.stringify(report.checksums)).to.equal(true);
      for (const alias of Object.values(searchAliases(definition))) {
        expect(await searchIndex.listIndexes(`${alias}-`)).to.deep.equal([`${alias}-v${definition.version}-rebuild-r2`]);
        expect(await searchIndex.resolveAlias(alias)).to.equal(`${alias}-v${definition.version}-rebuild-r2`);
      }
    });
  }

  it('drops the search index an interrupted rebuild built before building its own, never the live one', async () => {
    const definition = transactionHistoryProjection;
    await projectLive(definition);
    // Each dies while comparing, before anything is swapped in.
    const dying = dyingAt(searchIndex, 'checksum', 'before');
    const calls: string[] = [];
    const watching: SearchIndex = {
      ...dying,
      ensureIndex: async (index, schema, options) => {
        calls.push(`ensure ${index}`);
        await searchIndex.ensureIndex(index, schema, options);
      },
      dropIndex: async (index) => {
        calls.push(`drop ${index}`);
        await searchIndex.dropIndex(index);
      },
    };
    for (const rebuildId of ['r1', 'r2']) {
      await rebuildProjection({ eventStore: log, documents, searchIndex: watching, definition, rebuildId }).catch(() => undefined);
    }

    for (const alias of Object.values(searchAliases(definition))) {
      const liveIndex = `${alias}-v${definition.version}`;
      expect(await searchIndex.resolveAlias(alias)).to.equal(liveIndex);
      expect(calls.filter((call) => call.startsWith('drop '))).to.deep.equal([`drop ${liveIndex}-rebuild-r1`]);
      expect(calls.indexOf(`drop ${liveIndex}-rebuild-r1`), 'dropped before the next one is built').to.be.below(calls.indexOf(`ensure ${liveIndex}-rebuild-r2`));
      expect(await searchIndex.listIndexes(`${alias}-`)).to.deep.equal([liveIndex, `${liveIndex}-rebuild-r2`]);
    }
  });

  it('finds drift in the search index: a live full-text row that lost a document is reported by id, and the rebuilt index swapped in', async () => {
    const definition = transactionHistoryProjection;
    await projectLive(definition);
    const [role, alias] = Object.entries(searchAliases(definition))[0]!;
    const liveIndex = (await searchIndex.resolveAlias(alias))!;
    const healthy = await searchIndex.checksum(liveIndex);

    // The documents stay as they are: only what searches read drifts from them.
    const raw = new Database(stores.searchPath);
    const { tag } = raw.prepare('SELECT tag FROM search_indexes WHERE name = ?').get(liveIndex) as { tag: string };
    const { doc, id } = raw.prepare(`SELECT doc, id FROM search_${tag}_docs ORDER BY doc LIMIT 1 OFFSET 7`).get() as { doc: bigint; id: string };
    raw.prepare(`DELETE FROM search_${tag}_text WHERE rowid = ?`).run(doc);
    raw.close();

    const report = await rebuildProjection({ eventStore: log, documents, searchIndex, definition, rebuildId: 'drift' });
    expect(report.identical).to.equal(false);
    expect(report.checksums[`search:${role}`]!.live).to.contain(`search index ${liveIndex} disagrees with its documents at document "${id}": the full-text index lacks`);
    expect(report.checksums[`search:${role}`]!.rebuilt).to.equal(healthy);
    expect(await searchIndex.resolveAlias(alias)).to.not.equal(liveIndex);
    expect(await searchIndex.checksum(alias)).to.equal(healthy);
  });

  it('finds drift: a live read model that lost a change differs from the rebuilt one', async () => {
    await projectLive(balancesProjection);
    const { accounts } = liveCollections(balancesProjection);
    const [victim] = (await documents.find<{ _id: string; posted: string }>(accounts!, { limit: 1 })).items;
    await documents.withTransaction((session) => session.put(accounts!, { ...victim!, posted: '1' }));

    const report = await rebuildProjection({
      eventStore: log,
      documents,
      searchIndex,
      definition: balancesProjection,
      rebuildId: 'r2',
    });

    expect(report.identical).to.equal(false);
    expect(report.checksums.accounts!.live).to.not.equal(report.checksums.accounts!.rebuilt);
    const repaired = await documents.get<{ _id: string; posted: string }>(accounts!, victim!._id);
    expect(repaired?.posted).to.equal(victim!.posted);
  });
});

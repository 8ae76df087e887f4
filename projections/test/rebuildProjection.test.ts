import Database from 'better-sqlite3';
import { expect } from 'chai';
import type { DocumentStore, SearchIndex, SqliteEventStore } from '@folio/shared';
import { balancesProjection } from '../src/balances/balancesProjection.js';
import { transactionHistoryProjection } from '../src/history/transactionHistoryProjection.js';
import { rebuildProjection } from '../src/rebuild/rebuildProjection.js';
import { CHECKPOINTS_COLLECTION, liveCollections, searchAliases, type ProjectionDefinition } from '../src/runtime/projection.js';
import { createProjector } from '../src/runtime/projector.js';
import { readModelChecksum } from '../src/runtime/readModelChecksum.js';
import { openEmbeddedStores, writeLedgerHistory } from './fixtures/ledgerFixture.js';

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

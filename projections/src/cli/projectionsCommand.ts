import { randomUUID } from 'node:crypto';
import { IllegalStateError, loadConfig, openDocumentStore, openEventStore, openSearchIndex, requireExistingStores } from '@folio/shared';
import { projectionDefinitions } from '../projections.js';
import { pruneProjection } from '../prune/pruneProjection.js';
import { rebuildProjection } from '../rebuild/rebuildProjection.js';

const names = projectionDefinitions.map((definition) => definition.name).join('|');
export const projectionsUsage = `usage: folio projections rebuild <${names}>\n       folio projections prune <${names}>`;

/**
 * `folio projections rebuild <name>`: rebuilds a read model from the log beside the live one,
 * compares them, and swaps the rebuilt one in. Run it while no projector of that read model runs
 * (stop `npm start` or `npm run start:projections` first); readers are served throughout.
 * `folio projections prune <name>`: drops what older versions of the read model left (see
 * `pruneProjection`); refused while the current version has not caught up.
 * Resolves to the exit code: 0 identical (rebuild) or pruned, 1 the rebuilt read model differed
 * or pruning was refused, 2 wrong usage.
 */
export const runProjectionsCommand = async (args: readonly string[]): Promise<number> => {
  const [command, name, ...extra] = args;
  const definition = projectionDefinitions.find((candidate) => candidate.name === name);
  if ((command !== 'rebuild' && command !== 'prune') || definition === undefined || extra.length > 0) {
    console.error(projectionsUsage);
    return 2;
  }
  const config = loadConfig();
  requireExistingStores(config, true);
  if (command === 'prune') {
    const documents = openDocumentStore(config);
    const searchIndex = openSearchIndex(config);
    try {
      console.log(JSON.stringify(await pruneProjection({ documents, searchIndex, definition }), null, 2));
      return 0;
    } catch (error) {
      if (!(error instanceof IllegalStateError)) throw error;
      console.error(error.message);
      return 1;
    } finally {
      await searchIndex.close();
      await documents.close();
    }
  }
  const eventStore = openEventStore(config);
  const documents = openDocumentStore(config);
  const searchIndex = openSearchIndex(config);
  try {
    const report = await rebuildProjection({
      eventStore,
      documents,
      searchIndex,
      definition,
      rebuildId: randomUUID().slice(0, 8),
    });
    console.log(JSON.stringify({ ...report, position: report.position?.toString() ?? null }, null, 2));
    if (report.identical) return 0;
    console.error(`the rebuilt ${report.projection} read model differed from the live one; the rebuilt one is now live`);
    return 1;
  } finally {
    await searchIndex.close();
    await documents.close();
    await eventStore.close();
  }
};

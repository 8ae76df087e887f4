import { randomUUID } from 'node:crypto';
import { IllegalStateError, loadConfig, openDocumentStore, openEventStore, openSearchIndex, requireExistingStores } from '@folio/shared';
import { projectionDefinitions } from '../projections.js';
import { pruneProjection } from '../prune/pruneProjection.js';
import { rebuildProjection } from '../rebuild/rebuildProjection.js';
import { DEFAULT_LEASE_TTL_MS } from '../runtime/readModelLease.js';

const names = projectionDefinitions.map((definition) => definition.name).join('|');
export const projectionsUsage = `usage: folio projections rebuild <${names}>
       folio projections prune <${names}>
  rebuild: builds the read model again from the log beside the live one, compares the two and
    swaps the rebuilt one in (exit 1 when they differed). Refused while a live projector of it
    runs (npm start, npm run start:projections: stop it first), or another rebuild or a prune;
    a projector killed outright holds it up to ${DEFAULT_LEASE_TTL_MS / 1000} s more. Projectors
    started meanwhile wait for it to end.
  prune: drops what older versions of the read model left. Refused until the current version has
    caught up, and while a projector of an older version still runs.`;

/** Why the arguments are not a projections command, or undefined when they are one. */
const usageProblem = (command: string | undefined, name: string | undefined, extra: readonly string[]): string | undefined => {
  // No read model or command is named with a dash: an option here is a mistyped one.
  const option = [command, name, ...extra].find((arg) => arg?.startsWith('-'));
  if (option !== undefined) return `unknown option ${JSON.stringify(option)}`;
  if (command === undefined) return 'no projections command given';
  if (command !== 'rebuild' && command !== 'prune') return `unknown projections command ${JSON.stringify(command)}`;
  if (name === undefined) return `${command} needs a read model`;
  if (!projectionDefinitions.some((definition) => definition.name === name)) return `unknown read model ${JSON.stringify(name)}`;
  if (extra.length > 0) return `unexpected argument ${JSON.stringify(extra[0])}`;
  return undefined;
};

/**
 * `folio projections rebuild <name>`: rebuilds a read model from the log beside the live one,
 * compares them, and swaps the rebuilt one in; readers are served throughout.
 * `folio projections prune <name>`: drops what older versions of the read model left (see
 * `pruneProjection`).
 * Both are refused (`IllegalStateError`) while whatever they would swap or drop is in use.
 * Resolves to the exit code: 0 identical (rebuild) or pruned, 1 the rebuilt read model differed
 * or the command was refused, 2 wrong usage.
 */
export const runProjectionsCommand = async (args: readonly string[]): Promise<number> => {
  const [command, name, ...extra] = args;
  const problem = usageProblem(command, name, extra);
  const definition = projectionDefinitions.find((candidate) => candidate.name === name);
  if (problem !== undefined || definition === undefined) {
    console.error(`${problem}\n${projectionsUsage}`);
    return 2;
  }
  const config = loadConfig();
  requireExistingStores(config, true);
  const documents = openDocumentStore(config);
  const searchIndex = openSearchIndex(config);
  const eventStore = command === 'rebuild' ? openEventStore(config) : undefined;
  try {
    if (eventStore === undefined) {
      console.log(JSON.stringify(await pruneProjection({ documents, searchIndex, definition }), null, 2));
      return 0;
    }
    const report = await rebuildProjection({ eventStore, documents, searchIndex, definition, rebuildId: randomUUID().slice(0, 8) });
    console.log(JSON.stringify({ ...report, position: report.position?.toString() ?? null }, null, 2));
    if (report.identical) return 0;
    console.error(`the rebuilt ${report.projection} read model differed from the live one; the rebuilt one is now live`);
    return 1;
  } catch (error) {
    if (!(error instanceof IllegalStateError)) throw error;
    console.error(error.message);
    return 1;
  } finally {
    await searchIndex.close();
    await documents.close();
    await eventStore?.close();
  }
};

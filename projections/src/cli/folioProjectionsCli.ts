#!/usr/bin/env node
import { randomUUID } from 'node:crypto';
import { loadConfig, openDocumentStore, openEventStore, openSearchIndex, runKeysCommand } from '@folio/shared';
import { projectionDefinitions } from '../projections.js';
import { rebuildProjection } from '../rebuild/rebuildProjection.js';

/**
 * `folio projections rebuild <name>`: rebuilds a read model from the log beside the live one,
 * compares them, and swaps the rebuilt one in. Run it while no projector of that read model runs
 * (stop `npm start` or `npm run start:projections` first); readers are served throughout.
 */
const usage = `usage: folio projections rebuild <${projectionDefinitions.map((definition) => definition.name).join('|')}>`;

const [group, command, name] = process.argv.slice(2);
if (group === 'keys') process.exit(await runKeysCommand(process.argv.slice(3)));
const definition = projectionDefinitions.find((candidate) => candidate.name === name);
if (group !== 'projections' || command !== 'rebuild' || definition === undefined) {
  console.error(usage);
  process.exit(2);
}

const config = loadConfig();
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
  if (!report.identical) {
    console.error(`the rebuilt ${report.projection} read model differed from the live one; the rebuilt one is now live`);
    process.exitCode = 1;
  }
} finally {
  await searchIndex.close();
  await documents.close();
  await eventStore.close();
}

import { loadConfig, openDocumentStore, openEventStore, openSearchIndex } from '@folio/shared';
import { createProjections } from './projections.js';

/** The projections as their own process (`npm run start:projections`), for the split topology. */
const config = loadConfig();
const eventStore = openEventStore(config);
const documents = openDocumentStore(config);
const searchIndex = openSearchIndex(config);
const projections = createProjections({ eventStore, documents, searchIndex });
await projections.start();
console.log(
  JSON.stringify({
    msg: 'projections caught up',
    projections: projections.status().map(({ name, position }) => ({ name, position: position?.toString() ?? null })),
  }),
);

const shutdown = async (signal: string) => {
  console.log(JSON.stringify({ msg: 'projections stopping', signal }));
  await projections.stop();
  await documents.close();
  await searchIndex.close();
  await eventStore.close();
  process.exit(0);
};
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

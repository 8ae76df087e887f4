import { loadConfig } from '@folio/shared';
import { readWaitMsFromEnvironment } from '@folio/query-side';
import { openFolioSystem } from './folioSystem.js';

/**
 * The whole system in one process on the embedded stores (or on the servers named by the
 * environment): `npm start`.
 */
const config = loadConfig();
const readWaitMs = readWaitMsFromEnvironment();
const system = await openFolioSystem(config, {
  readWaitMs,
  onCaughtUp: () => console.log(JSON.stringify({ msg: 'projections caught up' })),
});
const empty = (await system.eventStore.headPosition()) === undefined;

const server = system.app.listen(config.port, config.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const url = `http://localhost:${port}`;
  console.log(
    JSON.stringify({
      msg: 'folio listening',
      url,
      port,
      eventStore: system.eventStore.kind,
      dataDir: config.dataDir,
    }),
  );
  if (empty) {
    console.log(
      JSON.stringify({
        msg: 'the ledger is empty: run `npm run demo` in another terminal to fill it with demo data, then open the UI',
        ui: url,
        demo: port === 3000 ? 'npm run demo' : `FOLIO_URL=${url} npm run demo`,
      }),
    );
  }
});

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(JSON.stringify({ msg: 'folio stopping', signal }));
  // In-flight requests finish; then the log is closed after the last append committed.
  server.close(() => {
    void system.stop().then(() => process.exit(0));
  });
  server.closeIdleConnections();
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));

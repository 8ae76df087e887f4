import { createLogger, loadConfig, serveUntilSignalled } from '@folio/shared';
import { readWaitMsFromEnvironment } from '@folio/query-side';
import { openFolio } from './folio.js';

/**
 * The whole system in one process on the embedded stores (or on the servers named by the
 * environment): `npm start`.
 */
const config = loadConfig();
const logger = createLogger({ service: 'folio', level: config.logLevel });
const folio = await openFolio(config, { logger, readWaitMs: readWaitMsFromEnvironment() });
// No account yet: the log may hold API keys, but no ledger.
let empty = true;
for await (const _ of folio.eventStore.readAll({ maxCount: 1, filter: { streamNamePrefixes: ['account-'] } })) empty = false;
serveUntilSignalled({
  app: folio.app,
  port: config.port,
  host: config.host,
  service: 'folio',
  logger,
  shutdownDelayMs: config.shutdownDelayMs,
  describe: { eventStore: folio.eventStore.kind, dataDir: config.dataDir },
  onListening: (url, port) => {
    if (!empty) return;
    logger.info(
      { ui: url, demo: port === 3000 ? 'npm run demo' : `FOLIO_URL=${url} npm run demo` },
      'the ledger is empty: run `npm run demo` in another terminal to fill it with demo data, then open the UI',
    );
  },
  stop: folio.stop,
});

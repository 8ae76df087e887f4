import { existsSync } from 'node:fs';
import type { FolioConfig } from '../config/config.js';
import { FolioError } from '../errors/folioError.js';

/** The embedded stores the configuration names are not there: the command opened nothing. */
export class LedgerNotFoundError extends FolioError {
  readonly type = 'ledger-not-found';
  readonly status = 503;
}

/**
 * Refuses, before anything is opened, a data directory that does not exist when an embedded store
 * would live in it: opening the store would create it, so a mistyped `FOLIO_DATA_DIR` would get an
 * empty ledger (an import nobody reads, a key list that says there are none) instead of an error.
 * `readModels` when the command also opens the read models.
 */
export const requireExistingStores = (
  config: Pick<FolioConfig, 'dataDir' | 'eventStoreUrl' | 'mongoUrl' | 'elasticUrl'>,
  readModels = false,
): void => {
  const embedded = config.eventStoreUrl === undefined || (readModels && (config.mongoUrl === undefined || config.elasticUrl === undefined));
  if (embedded && !existsSync(config.dataDir)) {
    throw new LedgerNotFoundError(
      `no ledger in ${config.dataDir}: the directory does not exist; set FOLIO_DATA_DIR to the server's data directory (or EVENTSTORE_URL to its event store)`,
    );
  }
};

import { join } from 'node:path';
import type { FolioConfig } from '../config/config.js';
import { createElasticsearchSearchIndex } from './elasticsearchSearchIndex.js';
import type { SearchIndex } from './searchIndex.js';
import { openSqliteSearchIndex } from './sqliteSearchIndex.js';

/** The file of the embedded search index inside the data directory. */
export const embeddedSearchIndexPath = (dataDir: string): string => join(dataDir, 'search.sqlite');

/**
 * Elasticsearch when `ELASTIC_URL` is configured (with its API key and CA, if any), otherwise the
 * embedded SQLite FTS5 index, its writes on a thread of their own (the projections index while
 * they fold the next read model).
 */
export const openSearchIndex = (
  config: Pick<FolioConfig, 'dataDir' | 'elasticUrl' | 'elasticRequestTimeoutMs' | 'elasticAuth' | 'elasticCa'>,
): SearchIndex =>
  config.elasticUrl !== undefined
    ? createElasticsearchSearchIndex({
        node: config.elasticUrl,
        requestTimeoutMs: config.elasticRequestTimeoutMs,
        apiKey: config.elasticAuth?.apiKey,
        ca: config.elasticCa,
      })
    : openSqliteSearchIndex({ path: embeddedSearchIndexPath(config.dataDir), writeThread: true });

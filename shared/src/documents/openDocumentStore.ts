import { join } from 'node:path';
import type { FolioConfig } from '../config/config.js';
import type { DocumentStore } from './documentStore.js';
import { createMongoDocumentStore } from './mongoDocumentStore.js';
import { openSqliteDocumentStore } from './sqliteDocumentStore.js';

/** The file of the embedded read models inside the data directory. */
export const embeddedDocumentStorePath = (dataDir: string): string => join(dataDir, 'readmodels.sqlite');

/** MongoDB when `MONGO_URL` is configured, otherwise the embedded SQLite file. */
export const openDocumentStore = (config: Pick<FolioConfig, 'dataDir' | 'mongoUrl' | 'mongoDatabase'>): DocumentStore =>
  config.mongoUrl !== undefined
    ? createMongoDocumentStore({ url: config.mongoUrl, database: config.mongoDatabase })
    : openSqliteDocumentStore({ path: embeddedDocumentStorePath(config.dataDir) });

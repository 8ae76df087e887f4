import { join } from 'node:path';
import type { FolioConfig } from '../config/config.js';
import type { EventStore } from './eventStore.js';
import { createEventStoreDBEventStore } from './eventStoreDB/eventStoreDBEventStore.js';
import { openSqliteEventStore } from './sqlite/sqliteEventStore.js';

/** The file of the embedded event log inside the data directory. */
export const embeddedEventStorePath = (dataDir: string): string => join(dataDir, 'events.sqlite');

/** EventStoreDB when `EVENTSTORE_URL` is configured, otherwise the embedded SQLite log. */
export const openEventStore = (config: Pick<FolioConfig, 'dataDir' | 'eventStoreUrl' | 'eventStoreTimeouts'>): EventStore =>
  config.eventStoreUrl !== undefined
    ? createEventStoreDBEventStore({ connectionString: config.eventStoreUrl, timeouts: config.eventStoreTimeouts })
    : openSqliteEventStore({ path: embeddedEventStorePath(config.dataDir) });

import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteEventStore, type EventStore } from '../../src/index.js';
import type { AuditStore } from './auditFixture.js';

/** A row of the embedded store's events table, integers as bigints. */
export interface StoredEventRow {
  position: bigint;
  stream_name: string;
  revision: bigint;
  event_id: string;
  type: string;
  data: string;
  metadata: string;
  created: bigint;
}

/**
 * Copies of an audit store's file to tamper with directly, as someone with access to the database
 * could: the history is written once and kept, and each test of the suite that calls this gets a
 * fresh copy of it.
 */
export const useTamperedCopies = (prefix: string) => {
  let pristine: string | undefined;
  let work: string;
  let copy: string;

  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), `${prefix}-tampered-`));
    copy = join(work, 'events.sqlite');
    copyFileSync(pristine!, copy);
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));
  after(() => {
    if (pristine !== undefined) rmSync(join(pristine, '..'), { recursive: true, force: true });
  });

  return {
    /** Keeps the store's history as every copy starts (its writer reopened after the copy is taken). */
    async keep(audit: AuditStore): Promise<void> {
      await audit.raw.close();
      pristine = join(mkdtempSync(join(tmpdir(), `${prefix}-`)), 'events.sqlite');
      copyFileSync(audit.path, pristine);
      audit.raw = openSqliteEventStore({ path: audit.path });
    },
    /** The copy of the running test. */
    get path(): string {
      return copy;
    },
    /** Changes the copy in one transaction, integers read as bigints. */
    tamper<T>(change: (db: Database.Database) => T): T {
      const db = new Database(copy);
      db.defaultSafeIntegers(true);
      try {
        return db.transaction(() => change(db))();
      } finally {
        db.close();
      }
    },
    /** Reads the copy as an event store. */
    async withCopy<T>(use: (store: EventStore) => Promise<T>): Promise<T> {
      const store = openSqliteEventStore({ path: copy, readonly: true });
      try {
        return await use(store);
      } finally {
        await store.close();
      }
    },
  };
};

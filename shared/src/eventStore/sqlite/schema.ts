import type Database from 'better-sqlite3';

/**
 * The embedded event log. `position` is the global position; a stream's head is the top of the
 * `events_by_stream` index, so an append writes its events and nothing else. Only deleted
 * streams have a row in `stream_deletions`.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  position    INTEGER PRIMARY KEY,
  stream_name TEXT    NOT NULL,
  revision    INTEGER NOT NULL,
  event_id    TEXT    NOT NULL,
  type        TEXT    NOT NULL,
  data        TEXT    NOT NULL,
  metadata    TEXT,
  created     INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_stream ON events (stream_name, revision);
CREATE TABLE IF NOT EXISTS stream_deletions (
  name           TEXT    PRIMARY KEY,
  -- soft delete: the stream reads as missing until it is appended to again
  deleted        INTEGER NOT NULL,
  -- revisions below this were soft-deleted and stay hidden after the stream is recreated
  deleted_before INTEGER NOT NULL,
  tombstoned     INTEGER NOT NULL
) WITHOUT ROWID;
`;

export const prepareDatabase = (db: Database.Database, readonly: boolean): void => {
  if (!readonly) {
    db.pragma('journal_mode = WAL');
  }
  // FULL makes every commit durable across power loss, not just process crashes.
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 10000');
  if (!readonly) {
    db.exec(SCHEMA);
  }
  db.defaultSafeIntegers(true);
};

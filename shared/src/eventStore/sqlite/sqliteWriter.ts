/**
 * The writing half of the embedded event store: expected-revision checks, inserts and commits on
 * the one connection that writes. It runs on the store's writer thread (`sqliteWriterThread.ts`),
 * so transactions and their fsyncs never block the event loop that serves requests.
 */
import type Database from 'better-sqlite3';
import type { SerializedEvent } from '../argumentChecks.js';
import { StreamDeletedError, StreamNotFoundError, WrongExpectedRevisionError } from '../errors.js';
import type { AppendResult, ExpectedRevision } from '../eventStore.js';
import type { BatchOutcome } from './groupCommit.js';
import { createStreamLookup, type EventRow, type StreamRow } from './schema.js';

export interface AppendRequest {
  streamName: string;
  events: readonly SerializedEvent[];
  expectedRevision: ExpectedRevision;
  /** Tombstone marks the stream deleted forever after writing its `$streamDeleted` event. */
  tombstone?: boolean;
}

/** Bound on the stream heads the writer keeps between transactions (oldest forgotten first). */
const MAX_KNOWN_STREAMS = 10_000;
/**
 * The events of one append go to SQLite in statements of up to this many rows, which costs far
 * less than a statement per event. Appends are not mixed in one statement: a multi-row statement
 * journals each page it touches so it can roll back alone, and each stream has its own index page.
 */
const ROWS_PER_INSERT = 32;
/** Positions advance by the stored size (plus a header) so they have gaps, like a log offset. */
const POSITION_HEADER_BYTES = 64;

export const createSqliteWriter = (db: Database.Database) => {
  const selectStream = createStreamLookup(db);
  const selectHead = db.prepare<[], { position: bigint | null; created: bigint | null }>(
    'SELECT position, created FROM events ORDER BY position DESC LIMIT 1',
  );
  const selectByRevision = db.prepare<[string, bigint], EventRow>(
    'SELECT * FROM events WHERE stream_name = ? AND revision = ?',
  );
  /** Inserts of 1 to `ROWS_PER_INSERT` rows, prepared on first use. */
  const insertStatements = new Map<number, Database.Statement<unknown[]>>();
  const insertEvents = (rowCount: number): Database.Statement<unknown[]> => {
    let statement = insertStatements.get(rowCount);
    if (statement === undefined) {
      const values = Array.from({ length: rowCount }, () => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
      statement = db.prepare(
        `INSERT INTO events (position, stream_name, revision, event_id, type, data, metadata, created) VALUES ${values}`,
      );
      insertStatements.set(rowCount, statement);
    }
    return statement;
  };
  const upsertDeletion = db.prepare(
    `INSERT INTO stream_deletions (name, deleted, deleted_before, tombstoned) VALUES (?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET deleted = excluded.deleted, deleted_before = excluded.deleted_before,
       tombstoned = excluded.tombstoned`,
  );

  /** Latest commit time handed out, so `created` never decreases along the log. */
  let lastCreatedMs = 0;

  /**
   * What the writer knows of the log from its own transactions: the heads of streams it read or
   * wrote, and the last position. Only valid while no other connection (another process, another
   * store on the same file) has committed, which `PRAGMA data_version` tells: it is compared
   * inside every write transaction, after the write lock is held, so a stale head can never
   * decide an expected-revision check.
   */
  const knownHeads = new Map<string, StreamRow>();
  let knownPosition = 0n;
  let knownDataVersion: bigint | undefined;
  const selectDataVersion = db.prepare<[], bigint>('PRAGMA data_version').pluck();

  const revalidateKnownLog = (): void => {
    const dataVersion = selectDataVersion.get()!;
    if (dataVersion === knownDataVersion) {
      // Trimmed between batches only: a stream written in this batch must stay known until commit.
      for (const name of knownHeads.keys()) {
        if (knownHeads.size <= MAX_KNOWN_STREAMS) break;
        knownHeads.delete(name);
      }
      return;
    }
    knownHeads.clear();
    const head = selectHead.get();
    knownPosition = head?.position ?? 0n;
    lastCreatedMs = Math.max(lastCreatedMs, Number(head?.created ?? 0n));
    knownDataVersion = dataVersion;
  };

  /** The stream's head inside the write transaction, from memory when still valid. */
  const streamHead = (streamName: string): StreamRow | undefined => {
    const known = knownHeads.get(streamName);
    if (known !== undefined) return known;
    const row = selectStream(streamName);
    if (row !== undefined) knownHeads.set(streamName, row);
    return row;
  };

  const actualRevisionOf = (row: StreamRow | undefined) =>
    row !== undefined && row.deleted === 0n ? row.last_revision : ('no_stream' as const);

  /**
   * When the expectation fails, the same batch may already be in the stream (a retry of an
   * append whose answer was lost). Returns the original result if every id matches, in order,
   * the events right after `after`.
   */
  const findIdempotentResult = (request: AppendRequest, after: bigint, row: StreamRow): AppendResult | undefined => {
    if (row.last_revision - after < BigInt(request.events.length)) return undefined;
    let last: EventRow | undefined;
    for (let i = 0; i < request.events.length; i++) {
      last = selectByRevision.get(request.streamName, after + 1n + BigInt(i));
      if (last === undefined || last.event_id !== request.events[i]!.id) return undefined;
    }
    return { nextExpectedRevision: last!.revision, position: last!.position };
  };

  /**
   * Checks a request against its stream's head, writing nothing: returns the original result of
   * an idempotent retry, `undefined` when the events are to be written, or throws the request's
   * own error.
   */
  const checkAppend = (request: AppendRequest, row: StreamRow | undefined): AppendResult | undefined => {
    const { streamName, expectedRevision } = request;
    if (row?.tombstoned === 1n) throw new StreamDeletedError(streamName);
    const actual = actualRevisionOf(row);

    let conflict = false;
    if (expectedRevision === 'no_stream') conflict = actual !== 'no_stream';
    else if (expectedRevision === 'stream_exists') conflict = actual === 'no_stream';
    else if (typeof expectedRevision === 'bigint') conflict = actual !== expectedRevision;

    if (conflict || expectedRevision === 'any' || expectedRevision === 'stream_exists') {
      if (row !== undefined && !request.tombstone) {
        const after =
          expectedRevision === 'no_stream'
            ? row.deleted_before - 1n
            : typeof expectedRevision === 'bigint'
              ? expectedRevision
              : row.last_revision - BigInt(request.events.length);
        const replayed = after >= row.deleted_before - 1n ? findIdempotentResult(request, after, row) : undefined;
        if (replayed !== undefined) return replayed;
      }
      if (conflict) throw new WrongExpectedRevisionError(streamName, expectedRevision, actual);
    }
    return undefined;
  };

  /** Writes a checked request at the end of the log and moves the known heads past it. */
  const writeAppend = (request: AppendRequest, row: StreamRow | undefined, createdMs: number): AppendResult => {
    const { streamName, events } = request;
    let revision = row === undefined ? 0n : row.last_revision + 1n;
    let position = knownPosition;
    for (let first = 0; first < events.length; first += ROWS_PER_INSERT) {
      const count = Math.min(ROWS_PER_INSERT, events.length - first);
      const values: unknown[] = [];
      for (let index = first; index < first + count; index++) {
        const event = events[index]!;
        position += BigInt(POSITION_HEADER_BYTES + event.data.length + (event.metadata?.length ?? 0));
        values.push(position, streamName, revision, event.id, event.type, event.data, event.metadata, createdMs);
        revision += 1n;
      }
      insertEvents(count).run(values);
    }
    knownPosition = position;
    const lastRevision = revision - 1n;
    let head = row;
    if (head === undefined) {
      head = { last_revision: lastRevision, deleted: 0n, deleted_before: 0n, tombstoned: 0n };
      knownHeads.set(streamName, head);
    }
    head.last_revision = lastRevision;
    if (request.tombstone) {
      upsertDeletion.run(streamName, 0, head.deleted_before, 1);
      head.deleted = 0n;
      head.tombstoned = 1n;
    } else if (head.deleted === 1n) {
      // Appending to a soft-deleted stream recreates it; its earlier events stay hidden.
      upsertDeletion.run(streamName, 0, head.deleted_before, 0);
      head.deleted = 0n;
    }
    return { nextExpectedRevision: lastRevision, position };
  };

  const commitBatch = db.transaction(
    (requests: readonly AppendRequest[], nowMs: number): BatchOutcome<AppendResult>[] => {
      revalidateKnownLog();
      lastCreatedMs = Math.max(lastCreatedMs, nowMs);
      return requests.map((request): BatchOutcome<AppendResult> => {
        let row: StreamRow | undefined;
        try {
          row = streamHead(request.streamName);
          const replayed = checkAppend(request, row);
          if (replayed !== undefined) return { ok: true, value: replayed };
        } catch (error) {
          return { ok: false, error };
        }
        // Every check is done before the first insert, so requests need no savepoint of their own;
        // an insert that still fails throws out of the batch, which then rolls back whole.
        return { ok: true, value: writeAppend(request, row, lastCreatedMs) };
      });
    },
  );

  const markDeleted = db.transaction((streamName: string, expected: ExpectedRevision): void => {
    const row = selectStream(streamName);
    if (row?.tombstoned === 1n) throw new StreamDeletedError(streamName);
    const actual = actualRevisionOf(row);
    const conflict =
      (typeof expected === 'bigint' && actual !== expected) || (expected === 'stream_exists' && actual === 'no_stream');
    if (conflict) throw new WrongExpectedRevisionError(streamName, expected, actual);
    if (actual === 'no_stream') throw new StreamNotFoundError(streamName);
    upsertDeletion.run(streamName, 1, row!.last_revision + 1n, 0);
    knownHeads.delete(streamName);
  });

  return {
    /**
     * Runs the requests in one transaction (one fsync), each with its own outcome; throws, with
     * nothing written, when the transaction as a whole fails. `nowMs` is the commit time to stamp.
     */
    commit(requests: readonly AppendRequest[], nowMs: number): BatchOutcome<AppendResult>[] {
      try {
        return commitBatch.immediate(requests, nowMs);
      } catch (error) {
        // Rolled back: what the batch taught the writer about the log is void.
        knownDataVersion = undefined;
        throw error;
      }
    },
    /** Soft-deletes a stream, in a write transaction of its own so the check and the mark cannot interleave. */
    deleteStream(streamName: string, expected: ExpectedRevision): void {
      markDeleted.immediate(streamName, expected);
    },
  };
};

export type SqliteWriter = ReturnType<typeof createSqliteWriter>;

import { makeDirectories } from '../../files/makeDirectories.js';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import {
  filterAdmits,
  metadataStreamOf,
  type AppendOptions,
  type AppendResult,
  type Direction,
  type EventStore,
  type ExpectedRevision,
  type GlobalPosition,
  type JsonObject,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamMetadata,
  type StreamMetadataResult,
  type SubscribeToAllOptions,
  type Subscription,
} from '../eventStore.js';
import {
  InvalidArgumentError,
  StreamDeletedError,
  StreamNotFoundError,
  WrongExpectedRevisionError,
} from '../errors.js';
import {
  requireExpectedRevision,
  requireInRange,
  requireRevision,
  requireMaxCount,
  requireStreamName,
  serializeEvents,
  type SerializedEvent,
} from '../argumentChecks.js';
import {
  EVENT_COLUMNS,
  positionOfRow,
  recordedEventOfRow,
  streamNameOfRow,
  typeOfRow,
  type EventRowValues,
} from './eventRows.js';
import { filterConditionOf, type FilterCondition } from './eventFilterSql.js';
import { createGroupCommitter, type BatchOutcome } from './groupCommit.js';
import { prepareDatabase } from './schema.js';
import { createSqliteSubscription, type SubscriptionHub } from './sqliteSubscription.js';
import { fromStoredMetadata, toStoredMetadata } from '../storedStreamMetadata.js';

export interface SqliteEventStoreOptions {
  /** The database file; its directory is created when missing. */
  path: string;
  /** Commit time source. Readings are clamped so `created` never decreases in `$all` order. */
  clock?: () => Date;
  /** Open without writing (a second process reading the log). */
  readonly?: boolean;
  /** How often a live subscription polls for events written by another process. */
  livePollIntervalMs?: number;
}

export interface SqliteEventStore extends EventStore {
  /** Test hook: ends every open subscription with `SubscriptionDroppedError`. */
  dropSubscriptions(reason?: Error): void;
}

interface EventRow {
  position: bigint;
  stream_name: string;
  revision: bigint;
  event_id: string;
  type: string;
  data: string;
  metadata: string | null;
  created: bigint;
}

interface StreamRow {
  last_revision: bigint;
  deleted: bigint;
  deleted_before: bigint;
  tombstoned: bigint;
}

interface AppendRequest {
  streamName: string;
  events: readonly SerializedEvent[];
  expectedRevision: ExpectedRevision;
  /** Tombstone marks the stream deleted forever after writing its `$streamDeleted` event. */
  tombstone?: boolean;
}

const READ_PAGE_SIZE = 500;
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

const toRecordedEvent = (row: EventRow): RecordedEvent => ({
  streamName: row.stream_name,
  id: row.event_id,
  type: row.type,
  revision: row.revision,
  position: row.position,
  created: new Date(Number(row.created)),
  data: JSON.parse(row.data) as JsonObject,
  metadata: row.metadata === null ? undefined : (JSON.parse(row.metadata) as JsonObject),
});

const validateRevision = (revision: bigint): bigint => requireRevision(revision);

export const openSqliteEventStore = (options: SqliteEventStoreOptions): SqliteEventStore => {
  const readonly = options.readonly ?? false;
  if (!readonly) makeDirectories(dirname(options.path));
  const db = new Database(options.path, { readonly, fileMustExist: readonly });
  prepareDatabase(db, readonly);
  const clock = options.clock ?? (() => new Date());

  const selectLastRevision = db.prepare<[string], { revision: bigint }>(
    'SELECT revision FROM events WHERE stream_name = ? ORDER BY revision DESC LIMIT 1',
  );
  const selectDeletion = db.prepare<[string], Omit<StreamRow, 'last_revision'>>(
    'SELECT deleted, deleted_before, tombstoned FROM stream_deletions WHERE name = ?',
  );
  const selectStream = (streamName: string): StreamRow | undefined => {
    const last = selectLastRevision.get(streamName);
    if (last === undefined) return undefined;
    const deletion = selectDeletion.get(streamName);
    return deletion === undefined
      ? { last_revision: last.revision, deleted: 0n, deleted_before: 0n, tombstoned: 0n }
      : { last_revision: last.revision, ...deletion };
  };
  const selectHead = db.prepare<[], { position: bigint | null; created: bigint | null }>(
    'SELECT position, created FROM events ORDER BY position DESC LIMIT 1',
  );
  const selectByRevision = db.prepare<[string, bigint], EventRow>(
    'SELECT * FROM events WHERE stream_name = ? AND revision = ?',
  );
  const selectStreamForwards = db.prepare<[string, bigint, bigint, number], EventRow>(
    'SELECT * FROM events WHERE stream_name = ? AND revision >= ? AND revision <= ? ORDER BY revision ASC LIMIT ?',
  );
  const selectStreamBackwards = db.prepare<[string, bigint, bigint, number], EventRow>(
    'SELECT * FROM events WHERE stream_name = ? AND revision >= ? AND revision <= ? ORDER BY revision DESC LIMIT ?',
  );
  const selectAllForwards = db
    .prepare<[bigint, number], EventRowValues>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE position >= ? ORDER BY position ASC LIMIT ?`,
    )
    .raw();
  const selectAllBackwards = db
    .prepare<[bigint, number], EventRowValues>(
      `SELECT ${EVENT_COLUMNS} FROM events WHERE position <= ? ORDER BY position DESC LIMIT ?`,
    )
    .raw();
  /** Reads of `$all` through a filter, prepared once per direction and shape of condition. */
  const filteredScans = new Map<string, Database.Statement<unknown[], EventRowValues>>();
  const filteredScan = (direction: Direction, condition: FilterCondition): Database.Statement<unknown[], EventRowValues> => {
    const key = `${direction} ${condition.sql}`;
    let statement = filteredScans.get(key);
    if (statement === undefined) {
      const [bound, order] = direction === 'forwards' ? ['>=', 'ASC'] : ['<=', 'DESC'];
      statement = db
        .prepare<unknown[], EventRowValues>(
          `SELECT ${EVENT_COLUMNS} FROM events WHERE position ${bound} ? AND ${condition.sql} ORDER BY position ${order} LIMIT ?`,
        )
        .raw();
      filteredScans.set(key, statement);
    }
    return statement;
  };
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
  const upsertDeletion = readonly
    ? undefined
    : db.prepare(
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

  const liveStream = (row: StreamRow | undefined): row is StreamRow =>
    row !== undefined && row.deleted === 0n && row.tombstoned === 0n;

  const actualRevisionOf = (row: StreamRow | undefined) =>
    row !== undefined && row.deleted === 0n ? row.last_revision : ('no_stream' as const);

  /**
   * When the expectation fails, the same batch may already be in the stream (a retry of an
   * append whose answer was lost). Returns the original result if every id matches, in order,
   * the events right after `after`.
   */
  const findIdempotentResult = (
    request: AppendRequest,
    after: bigint,
    row: StreamRow,
  ): AppendResult | undefined => {
    if (row.last_revision - after < BigInt(request.events.length)) return undefined;
    let last: EventRow | undefined;
    for (let i = 0; i < request.events.length; i++) {
      last = selectByRevision.get(request.streamName, after + 1n + BigInt(i));
      if (last === undefined || last.event_id !== request.events[i]!.id) return undefined;
    }
    return { nextExpectedRevision: last!.revision, position: last!.position, written: false };
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
      for (const event of events.slice(first, first + count)) {
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
      upsertDeletion!.run(streamName, 0, head.deleted_before, 1);
      head.deleted = 0n;
      head.tombstoned = 1n;
    } else if (head.deleted === 1n) {
      // Appending to a soft-deleted stream recreates it; its earlier events stay hidden.
      upsertDeletion!.run(streamName, 0, head.deleted_before, 0);
      head.deleted = 0n;
    }
    return { nextExpectedRevision: lastRevision, position, written: true };
  };

  const commitBatch = db.transaction((requests: readonly AppendRequest[]): BatchOutcome<AppendResult>[] => {
    revalidateKnownLog();
    lastCreatedMs = Math.max(lastCreatedMs, clock().getTime());
    return requests.map((request): BatchOutcome<AppendResult> => {
      let row: StreamRow | undefined;
      try {
        row = streamHead(request.streamName);
        const replayed = checkAppend(request, row);
        if (replayed !== undefined) return { ok: true, value: replayed };
      } catch (error) {
        // A failure SQLite answered by rolling the transaction back fails the whole batch: the
        // requests after it must not commit one statement at a time.
        if (!db.inTransaction) throw error;
        return { ok: false, error };
      }
      // Every check is done before the first insert, so requests need no savepoint of their own;
      // an insert that still fails throws out of the batch, which then rolls back whole.
      return { ok: true, value: writeAppend(request, row, lastCreatedMs) };
    });
  });

  const subscriptions = new Set<SubscriptionHub>();
  const notifySubscribers = (): void => {
    for (const hub of subscriptions) hub.notify();
  };
  const committer = createGroupCommitter<AppendRequest, AppendResult>(
    (requests) => {
      try {
        return commitBatch.immediate(requests);
      } catch (error) {
        // Rolled back: what the batch taught the writer about the log is void.
        knownDataVersion = undefined;
        throw error;
      }
    },
    notifySubscribers,
  );

  const ensureWritable = (): void => {
    if (readonly) throw new InvalidArgumentError('this event store was opened read-only');
  };

  const append = (request: AppendRequest): Promise<AppendResult> => {
    ensureWritable();
    return committer.submit(request);
  };

  const currentMetadata = (streamName: string): StreamMetadataResult => {
    const metastream = metadataStreamOf(streamName);
    const row = selectStream(metastream);
    if (row === undefined) return { streamName, metadata: {}, metastreamRevision: 'no_stream' };
    const last = selectByRevision.get(metastream, row.last_revision)!;
    return {
      streamName,
      metadata: fromStoredMetadata(JSON.parse(last.data) as JsonObject),
      metastreamRevision: row.last_revision,
    };
  };

  /** The lowest revision still visible after soft deletes and truncation metadata. */
  const visibleFrom = (streamName: string, row: StreamRow): { from: bigint; minCreatedMs: number } => {
    const { metadata } = currentMetadata(streamName);
    let from = row.deleted_before;
    if (metadata.truncateBefore !== undefined && metadata.truncateBefore > from) from = metadata.truncateBefore;
    if (metadata.maxCount !== undefined) {
      const byCount = row.last_revision + 1n - BigInt(metadata.maxCount);
      if (byCount > from) from = byCount;
    }
    const minCreatedMs = metadata.maxAge === undefined ? 0 : clock().getTime() - metadata.maxAge * 1000;
    return { from, minCreatedMs };
  };

  async function* readStream(streamName: string, readOptions: ReadStreamOptions = {}): AsyncGenerator<RecordedEvent> {
    requireStreamName(streamName);
    const direction = readOptions.direction ?? 'forwards';
    let remaining = requireMaxCount(readOptions.maxCount);
    const requested = readOptions.fromRevision ?? (direction === 'forwards' ? 'start' : 'end');
    if (typeof requested === 'bigint') validateRevision(requested);

    const row = selectStream(streamName);
    if (row?.tombstoned === 1n) throw new StreamDeletedError(streamName);
    if (!liveStream(row)) throw new StreamNotFoundError(streamName);
    const { from: visible, minCreatedMs } = visibleFrom(streamName, row);

    // Forwards from the end there is nothing yet, as on EventStoreDB; backwards it is the last event.
    const end = direction === 'forwards' ? row.last_revision + 1n : row.last_revision;
    const start = requested === 'start' ? 0n : requested === 'end' ? end : requested;
    let low = direction === 'forwards' ? (start > visible ? start : visible) : visible;
    let high = direction === 'forwards' || start > row.last_revision ? row.last_revision : start;
    const statement = direction === 'forwards' ? selectStreamForwards : selectStreamBackwards;
    while (remaining > 0 && low <= high) {
      const page = statement.all(streamName, low, high, Math.min(remaining, READ_PAGE_SIZE));
      if (page.length === 0) return;
      for (const eventRow of page) {
        if (Number(eventRow.created) < minCreatedMs) continue;
        remaining -= 1;
        yield toRecordedEvent(eventRow);
      }
      const lastRevision = page[page.length - 1]!.revision;
      if (direction === 'forwards') low = lastRevision + 1n;
      else high = lastRevision - 1n;
    }
  }

  async function* readAll(readOptions: ReadAllOptions = {}): AsyncGenerator<RecordedEvent> {
    const direction = readOptions.direction ?? 'forwards';
    let remaining = requireMaxCount(readOptions.maxCount);
    const requested = readOptions.fromPosition ?? (direction === 'forwards' ? 'start' : 'end');
    if (typeof requested === 'bigint') requireInRange(requested, 'position');
    let cursor =
      requested === 'start' ? 0n : requested === 'end' ? (selectHead.get()?.position ?? 0n) : requested;
    if (direction === 'forwards' && requested === 'end') return;
    const { filter } = readOptions;
    // Rows the filter leaves out stay in SQLite, whose test of a row costs a fraction of reading
    // it out; only a filter SQL cannot express exactly is applied here.
    const condition = filterConditionOf(filter);
    const filteredHere = filter !== undefined && condition === undefined;
    const read = (from: GlobalPosition, limit: number): EventRowValues[] =>
      condition === undefined
        ? (direction === 'forwards' ? selectAllForwards : selectAllBackwards).all(from, limit)
        : filteredScan(direction, condition).all(from, ...condition.params, limit);
    // A read of a few events (the head, the next one a filter admits) reads no more rows than it
    // needs; through a filter applied here that skips most rows, the pages double up to the full size.
    let filteredLimit = remaining;
    while (remaining > 0) {
      const page = read(cursor, Math.min(READ_PAGE_SIZE, filteredHere ? filteredLimit : remaining));
      if (page.length === 0) return;
      filteredLimit = Math.min(READ_PAGE_SIZE, filteredLimit * 2);
      for (const eventRow of page) {
        if (filteredHere && !filterAdmits(filter, streamNameOfRow(eventRow), typeOfRow(eventRow))) continue;
        remaining -= 1;
        yield recordedEventOfRow(eventRow);
        if (remaining === 0) return;
      }
      const lastPosition = positionOfRow(page[page.length - 1]!);
      cursor = direction === 'forwards' ? lastPosition + 1n : lastPosition - 1n;
      if (cursor < 0n) return;
    }
  }

  const readAfter = (after: GlobalPosition, limit: number): EventRowValues[] => selectAllForwards.all(after + 1n, limit);

  const headPositionNow = (): GlobalPosition | undefined => selectHead.get()?.position ?? undefined;

  const store: SqliteEventStore = {
    kind: 'sqlite',

    async appendToStream(streamName, events, appendOptions: AppendOptions = {}) {
      requireStreamName(streamName);
      return append({
        streamName,
        events: serializeEvents(events),
        expectedRevision: requireExpectedRevision(appendOptions.expectedRevision),
      });
    },

    readStream,
    readAll,

    subscribeToAll(subscribeOptions: SubscribeToAllOptions = {}): Subscription {
      return createSqliteSubscription({
        options: subscribeOptions,
        readAfter,
        headPosition: headPositionNow,
        register: (hub) => subscriptions.add(hub),
        unregister: (hub) => subscriptions.delete(hub),
        pollIntervalMs: options.livePollIntervalMs ?? 200,
      });
    },

    async setStreamMetadata(streamName, metadata: StreamMetadata, appendOptions: AppendOptions = {}) {
      requireStreamName(streamName);
      return append({
        streamName: metadataStreamOf(streamName),
        events: serializeEvents([{ id: randomUUID(), type: '$metadata', data: toStoredMetadata(metadata) }]),
        expectedRevision: requireExpectedRevision(appendOptions.expectedRevision),
      });
    },

    async getStreamMetadata(streamName) {
      requireStreamName(streamName);
      return currentMetadata(streamName);
    },

    async deleteStream(streamName, appendOptions: AppendOptions = {}) {
      requireStreamName(streamName);
      ensureWritable();
      const expected = requireExpectedRevision(appendOptions.expectedRevision);
      // Runs in a write transaction of its own so the check and the mark cannot interleave.
      db.transaction(() => {
        const row = selectStream(streamName);
        if (row?.tombstoned === 1n) throw new StreamDeletedError(streamName);
        const actual = actualRevisionOf(row);
        const conflict =
          (typeof expected === 'bigint' && actual !== expected) ||
          (expected === 'stream_exists' && actual === 'no_stream') ||
          (expected === 'no_stream' && actual !== 'no_stream');
        if (conflict) throw new WrongExpectedRevisionError(streamName, expected, actual);
        if (actual === 'no_stream') throw new StreamNotFoundError(streamName);
        upsertDeletion!.run(streamName, 1, row!.last_revision + 1n, 0);
        knownHeads.delete(streamName);
      }).immediate();
    },

    async tombstoneStream(streamName, appendOptions: AppendOptions = {}) {
      requireStreamName(streamName);
      await append({
        streamName,
        events: [{ id: randomUUID(), type: '$streamDeleted', data: '{}', metadata: null }],
        expectedRevision: requireExpectedRevision(appendOptions.expectedRevision),
        tombstone: true,
      });
    },

    async headPosition() {
      return headPositionNow();
    },

    dropSubscriptions(reason?: Error) {
      for (const hub of [...subscriptions]) hub.drop(reason);
    },

    async close() {
      for (const hub of [...subscriptions]) hub.close();
      // Let appends already queued for this turn commit before the handle goes away.
      await new Promise<void>((resolve) => setImmediate(resolve));
      db.close();
    },
  };
  return store;
};


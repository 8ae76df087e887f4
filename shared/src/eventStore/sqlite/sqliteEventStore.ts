import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import {
  matchesFilter,
  metadataStreamOf,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type EventToAppend,
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
import { InvalidArgumentError, StreamDeletedError, StreamNotFoundError } from '../errors.js';
import {
  requireExpectedRevision,
  requireInRange,
  requireMaxCount,
  requireStreamName,
  serializeEvents,
} from '../argumentChecks.js';
import { createGroupCommitter } from './groupCommit.js';
import { createStreamLookup, prepareDatabase, type EventRow, type StreamRow } from './schema.js';
import type { AppendRequest } from './sqliteWriter.js';
import { startWriterThread } from './writerClient.js';
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

const READ_PAGE_SIZE = 500;

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

const validateRevision = (revision: bigint): bigint => requireInRange(revision, 'revision');

/**
 * The embedded event store. Reads run on this thread's connection; appends and deletions go to a
 * writer thread with its own connection (WAL lets both work at once), in batches: what queues
 * while one batch commits goes together in the next transaction, one fsync. An append is answered
 * once its transaction has committed.
 */
export const openSqliteEventStore = (options: SqliteEventStoreOptions): SqliteEventStore => {
  const readonly = options.readonly ?? false;
  if (!readonly) mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path, { readonly, fileMustExist: readonly });
  prepareDatabase(db, readonly);
  const clock = options.clock ?? (() => new Date());

  const selectStream = createStreamLookup(db);
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
  const selectAllForwards = db.prepare<[bigint, number], EventRow>(
    'SELECT * FROM events WHERE position >= ? ORDER BY position ASC LIMIT ?',
  );
  const selectAllBackwards = db.prepare<[bigint, number], EventRow>(
    'SELECT * FROM events WHERE position <= ? ORDER BY position DESC LIMIT ?',
  );

  const liveStream = (row: StreamRow | undefined): row is StreamRow =>
    row !== undefined && row.deleted === 0n && row.tombstoned === 0n;

  const subscriptions = new Set<SubscriptionHub>();
  const notifySubscribers = (): void => {
    for (const hub of subscriptions) hub.notify();
  };
  const writer = readonly ? undefined : startWriterThread(options.path);
  const committer = createGroupCommitter<AppendRequest, AppendResult>(
    (requests) => writer!.commit(requests, clock().getTime()),
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

    const start = requested === 'start' ? 0n : requested === 'end' ? row.last_revision : requested;
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
    const statement = direction === 'forwards' ? selectAllForwards : selectAllBackwards;
    while (remaining > 0) {
      const page = statement.all(cursor, READ_PAGE_SIZE);
      if (page.length === 0) return;
      for (const eventRow of page) {
        const event = toRecordedEvent(eventRow);
        if (!matchesFilter(readOptions.filter, event)) continue;
        remaining -= 1;
        yield event;
        if (remaining === 0) return;
      }
      const lastPosition = page[page.length - 1]!.position;
      cursor = direction === 'forwards' ? lastPosition + 1n : lastPosition - 1n;
      if (cursor < 0n) return;
    }
  }

  const readAfter = (after: GlobalPosition, limit: number): RecordedEvent[] =>
    selectAllForwards.all(after + 1n, limit).map(toRecordedEvent);

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
      // A write transaction of its own on the writer thread, so the check and the mark cannot interleave.
      await writer!.deleteStream(streamName, requireExpectedRevision(appendOptions.expectedRevision));
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
      // Appends already submitted commit before the writer goes away.
      await committer.idle();
      await writer?.close();
      db.close();
    },
  };
  return store;
};


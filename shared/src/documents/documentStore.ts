/**
 * The document store port: where read models and projection checkpoints live. Two adapters
 * implement it (embedded SQLite, MongoDB) and both must pass the same contract suite
 * (`describeDocumentStoreContract` in `@folio/shared/testing`).
 *
 * Documents are JSON objects with a string `_id`; every value survives a round trip exactly as
 * JSON does. Money and positions are decimal strings inside documents (never numbers), so no
 * adapter can round them; a field compared or sorted as a number is stored as a zero-padded
 * string (see `sortableBigint`). Every adapter refuses, as MongoDB must, a document over 16 MiB
 * less 1 KiB as BSON (its `_id` counted twice) or nested deeper than 100 levels
 * (`MAX_DOCUMENT_BYTES`, `MAX_DOCUMENT_DEPTH`), and field names starting with `$` or named
 * `_bsontype`. An id, id prefix or cursor value (an `orderBy` value a cursor carries) over 1 MiB
 * of UTF-8 (`MAX_KEY_BYTES`) is refused wherever it is passed, and so is paging past a document
 * whose `orderBy` value is longer.
 */
import type { JsonObject, JsonValue } from '../eventStore/eventStore.js';

export type Document = JsonObject & { _id: string };

/**
 * Equality on top-level fields, combined with AND. A value matches only a field of the same JSON
 * type (never an array element); `null` also matches a missing field.
 */
export type Where = Readonly<Record<string, string | number | boolean | null>>;

export interface FindOptions {
  where?: Where;
  /**
   * Only documents whose `_id` starts with this (non-empty) string: a range of the `_id` order,
   * which every adapter keeps indexed, so ids built as `<owner>:<sortable key>` serve an owner's
   * documents in key order without an index of their own.
   */
  idPrefix?: string;
  /**
   * One top-level field to order by; `_id` breaks ties, in the same direction. Missing or null
   * values come first, then numbers, then strings (by UTF-8 bytes).
   */
  orderBy?: { field: string; direction: 'asc' | 'desc' };
  /** At most this many documents (default 100; outside 1–1000 is refused). */
  limit?: number;
  /** Keyset pagination: the `cursor` of the previous page's last document. */
  after?: string;
}

export interface FoundPage<D extends Document> {
  items: D[];
  /** Present when more documents follow: pass it as `after` for the next page. */
  nextCursor?: string;
}

/** Reads and writes inside one transaction: reads see the transaction's own writes. */
export interface DocumentSession {
  get<D extends Document>(collection: string, id: string): Promise<D | undefined>;
  /**
   * The documents of `ids` that exist, by id (a missing one has no entry): one read however many
   * ids, where a `get` each would cost a round trip each on a server.
   */
  getMany<D extends Document>(collection: string, ids: readonly string[]): Promise<Map<string, D>>;
  /** Inserts or replaces the whole document. */
  put(collection: string, document: Document): Promise<void>;
  /**
   * `put` of each document in order (of two with one id, the later wins), in one write however
   * many. Every document is checked first: one refused writes none of them.
   */
  putMany(collection: string, documents: readonly Document[]): Promise<void>;
  delete(collection: string, id: string): Promise<void>;
}

export interface DocumentStore {
  /** Which adapter this is (`'sqlite'`, `'mongodb'`). */
  readonly kind: string;

  /**
   * Runs `work` in one transaction: all its writes commit together or none does (SQLite
   * transaction; MongoDB multi-document transaction on a replica set). `work` must not keep the
   * session after it returns. A failure inside rolls everything back and is rethrown. On MongoDB
   * `work` may run more than once (a retried write conflict), so it must have no effect outside
   * the session. Inside it, schema operations (indexes, renames, drops, nested transactions) are
   * refused. A `StoreUnavailableError` from the commit itself (no majority acknowledged it in
   * time, or its answer was lost) leaves it unknown whether the transaction committed: what is
   * retried after one must be idempotent.
   */
  withTransaction<T>(work: (session: DocumentSession) => Promise<T>): Promise<T>;

  get<D extends Document>(collection: string, id: string): Promise<D | undefined>;

  find<D extends Document>(collection: string, options?: FindOptions): Promise<FoundPage<D>>;

  count(collection: string, where?: Where): Promise<number>;

  /** Makes `where`/`orderBy` on these fields fast. Idempotent. */
  ensureIndex(collection: string, fields: readonly string[]): Promise<void>;

  /** Collections whose name starts with `prefix`. */
  listCollections(prefix?: string): Promise<string[]>;

  dropCollection(collection: string): Promise<void>;

  /**
   * Atomically replaces `to` with `from` (which disappears): how a rebuilt read model takes the
   * live one's place with no moment where readers see neither.
   */
  renameCollection(from: string, to: string): Promise<void>;

  /**
   * SHA-256 over the canonical JSON (keys sorted) of every document in `_id` order: equal
   * checksums mean equal collections, whichever adapter computed them.
   *
   * Of a collection that nothing writes meanwhile (a rebuild compares read models it holds alone,
   * `readModelLease`): an adapter may read a large collection in many short reads, as MongoDB's
   * must (it keeps a snapshot for minutes only), and a checksum taken while the collection changes
   * may then describe a state it never had.
   */
  checksum(collection: string): Promise<string>;

  close(): Promise<void>;
}

/** Width of the zero-padded form of a bigint: 19 digits hold every 64-bit magnitude. */
const SORTABLE_DIGITS = 19;
const OFFSET = 10n ** BigInt(SORTABLE_DIGITS);

/**
 * A bigint as a fixed-width string that sorts like the number, negatives included: stored
 * beside an exact value so a string index can order and range over it.
 */
export const sortableBigint = (value: bigint): string => {
  if (value <= -OFFSET || value >= OFFSET) throw new RangeError(`${value} has more than ${SORTABLE_DIGITS} digits`);
  return value < 0n
    ? `-${(OFFSET + value).toString().padStart(SORTABLE_DIGITS, '0')}`
    : `0${value.toString().padStart(SORTABLE_DIGITS, '0')}`;
};

export const isDocument = (value: JsonValue): value is Document =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && typeof value._id === 'string';

/**
 * The search index port: full text plus exact filters over the transaction history. Two
 * adapters implement it (SQLite FTS5, Elasticsearch) and both must pass the same contract suite
 * (`describeSearchIndexContract` in `@folio/shared/testing`).
 *
 * Amounts are `bigint` minor units and stay exact: filters and ranges on them compare integers,
 * never floats, whatever the adapter stores underneath.
 */

/**
 * - `keyword`: exact values (ids, currency, status), filterable and sortable; a field may hold
 *   several (an array), and then matches if any does;
 * - `text`: analysed for full-text search, neither filterable nor sortable;
 * - `amount`: a `bigint` in minor units, filterable by range and sortable, exactly;
 * - `date`: an ISO-8601 UTC timestamp, filterable by range and sortable.
 */
export type SearchFieldType = 'keyword' | 'text' | 'amount' | 'date';

export interface SearchSchema {
  fields: Readonly<Record<string, SearchFieldType>>;
}

export type SearchFieldValue = string | readonly string[] | bigint | null;

export interface SearchDocument {
  id: string;
  /**
   * Increases with every change of the document (the log position of the event that produced
   * it): a write whose version is not above the stored one is ignored, so a replay is a no-op.
   */
  version: bigint;
  fields: Readonly<Record<string, SearchFieldValue>>;
}

export interface SearchQuery {
  /** Words to find in the `text` fields (all of them must match, in any text field). */
  text?: string;
  /** Exact matches on `keyword` fields; an array matches any of its values. AND across fields. */
  equals?: Readonly<Record<string, string | readonly string[]>>;
  /** Inclusive bounds on `amount` (bigint) or `date` (ISO string) fields. */
  ranges?: Readonly<Record<string, { gte?: bigint | string; lte?: bigint | string }>>;
  /** Default: by `id` ascending. Ties are broken by `id`, in the same direction. */
  sort?: { field: string; direction: 'asc' | 'desc' };
  /** At most this many hits (default 50, at most 500). */
  limit?: number;
  /**
   * The `nextCursor` of the previous page. Pages are keyset-based, so documents added while a
   * reader pages through do not shift or repeat the ones it has not seen yet.
   */
  after?: string;
}

export interface SearchHit {
  id: string;
  version: bigint;
  fields: Record<string, SearchFieldValue>;
}

export interface SearchResult {
  hits: SearchHit[];
  nextCursor?: string;
}

export interface EnsureIndexOptions {
  /**
   * The new index is about to take a bulk load (a projector catching up from position 0), until
   * `finishLoading`: the adapter may leave for then what only makes searches fast. Searches
   * answer the same meanwhile, filtered and sorted ones more slowly. The embedded adapter builds
   * its filter and sort indexes at the end, one sort each, instead of inserting every document
   * into each of them; Elasticsearch has nothing to defer. Ignored for an index that exists.
   */
  loading?: boolean;
}

export interface SearchIndex {
  /** Which adapter this is (`'sqlite'`, `'elasticsearch'`). */
  readonly kind: string;

  /** Creates the index with this schema if it does not exist. Idempotent. */
  ensureIndex(index: string, schema: SearchSchema, options?: EnsureIndexOptions): Promise<void>;

  /**
   * Builds what an index created `loading` left for later, and returns once searches on it are
   * as fast as on any other. Idempotent: on an index that is complete, it does nothing.
   */
  finishLoading(index: string): Promise<void>;

  /** Writes documents; each is skipped if its version is not above the stored one. */
  upsert(index: string, documents: readonly SearchDocument[]): Promise<void>;

  get(index: string, id: string): Promise<SearchHit | undefined>;

  /** Throws `ValidationError` for a field the schema does not have, or of the wrong type. */
  search(index: string, query: SearchQuery): Promise<SearchResult>;

  /** Makes every write so far visible to `search` (Elasticsearch refresh). */
  refresh(index: string): Promise<void>;

  /** Points `alias` at `index`, atomically replacing what it pointed at (zero-downtime rebuild). */
  setAlias(alias: string, index: string): Promise<void>;

  /** The index an alias points at, if any. */
  resolveAlias(alias: string): Promise<string | undefined>;

  dropIndex(index: string): Promise<void>;

  /** The indexes (never aliases) whose names start with `prefix`, in name order. */
  listIndexes(prefix: string): Promise<string[]>;

  /**
   * SHA-256 over the documents (id, version, canonical fields) in id order. An adapter that
   * derives what searches read itself (the embedded one) first checks it against the documents
   * and throws `SearchIndexDisagreementError` where it differs: equal checksums must mean equal answers.
   */
  checksum(index: string): Promise<string>;

  close(): Promise<void>;
}

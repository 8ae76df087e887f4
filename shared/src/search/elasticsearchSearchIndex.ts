/**
 * The production search index on Elasticsearch 8.
 *
 * Each index has an explicit, strict mapping built from its schema, which it also keeps in the
 * mapping's `_meta` so any process can read it back. A document is stored as
 * `{ id, version, fields, sortable }`: `fields` holds the wire values (an amount is a decimal
 * string, mapped as `long`, because a JSON number loses precision past 2^53), `sortable` holds
 * each amount's zero-padded twin (`sortableBigint`), a keyword that sorts exactly and whose
 * `search_after` value is a string. `all_text` holds the words of every text field, split and
 * composed as a query's words are (`searchWordsOf`); every query word must match one as a prefix.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, errors } from '@elastic/elasticsearch';
import type { estypes } from '@elastic/elasticsearch';
import { redactCredentials } from '../config/redactCredentials.js';
import { sortableBigint } from '../documents/documentStore.js';
import { NotFoundError } from '../errors/commonErrors.js';
import { StoreUnavailableError } from '../eventStore/errors.js';
import {
  DocumentChecksum,
  canonicalFieldsJson,
  invalid,
  prepareDocuments,
  requireId,
  requireIndexName,
  requireLoading,
  requireSameSchema,
  requireSchema,
  toHit,
  type PreparedDocument,
  type WireFields,
} from './searchDocuments.js';
import { FOLDED_CODE_POINTS } from './elasticsearchFolding.js';
import { encodeCursor, planQuery, type PlannedQuery } from './searchQueries.js';
import { searchWordsOf } from './searchWords.js';
import type {
  EnsureIndexOptions,
  SearchDocument,
  SearchFieldType,
  SearchHit,
  SearchIndex,
  SearchQuery,
  SearchResult,
  SearchSchema,
} from './searchIndex.js';

export type ElasticsearchSearchIndexOptions =
  | {
      node: string;
      /** How long a request may go unanswered before it fails (default 30 s). */
      requestTimeoutMs?: number;
      /** The encoded API key every request carries (the client prefers it to a user in `node`). */
      apiKey?: string;
      /** PEM certificates of the CAs the node's certificate is verified against, besides Node's own. */
      ca?: string;
    }
  /** A client the caller owns: `close()` leaves it open. */
  | { client: Client };

/**
 * The client's own default is ten minutes, for which a search would hold its reader's request
 * and a bulk its projector whenever a node stops answering without closing its connections. A
 * request that times out is not sent again (the client retries timeouts only when asked to);
 * every write here is idempotent, so the projector's replay of its batch is the retry.
 */
const REQUEST_TIMEOUT_MS = 30_000;

/** Documents per bulk request, so one huge upsert does not become one huge HTTP body. */
const BULK_CHUNK = 500;
/**
 * Elasticsearch answers 429 to writes while its write queue or memory is full (and to an index
 * blocked at the disk's flood stage), and the client does not retry those: a bulk (or the items
 * of one) it refused is sent again this often, after pauses doubling from `BULK_PAUSE_MS`, before
 * the upsert fails and the projector replays its batch.
 */
const BULK_ATTEMPTS = 4;
const BULK_PAUSE_MS = 250;
const CHECKSUM_PAGE = 1000;
const PIT_KEEP_ALIVE = '1m';
/** A concurrent alias move makes the remove of the old target fail; the swap is retried this often. */
const ALIAS_ATTEMPTS = 3;
const TEXT_ANALYZER = 'folio_text';
const ALL_TEXT = 'all_text';
const SOURCE_FIELDS = ['id', 'version', 'fields'];
/**
 * Tokens are cut to this many UTF-16 units (at most 3 UTF-8 bytes each), below Lucene's
 * 32766-byte term limit, past which a document is refused. A query word has at most 1000 units,
 * and folding never lengthens one, so a prefix match is decided before the cut.
 */
const MAX_TOKEN_CHARS = 8000;

/** A code point as a `mapping` rule spells it: each UTF-16 unit escaped, so none is taken for syntax; -1 is nothing. */
const mappingRuleText = (codePoint: number): string =>
  codePoint < 0
    ? ''
    : String.fromCodePoint(codePoint)
        .split('')
        .map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`)
        .join('');

const FOLD_RULES = Array.from(
  { length: FOLDED_CODE_POINTS.length / 2 },
  (_, pair) => `${mappingRuleText(FOLDED_CODE_POINTS[2 * pair]!)} => ${mappingRuleText(FOLDED_CODE_POINTS[2 * pair + 1]!)}`,
);

/**
 * Case and diacritics fold ("Café" and "cafe" are one word) exactly as the embedded index folds
 * them, character by character (`elasticsearchFolding.ts`); Lucene's `lowercase` and
 * `asciifolding` would fold a thousand characters otherwise, so that a query would find
 * documents on one adapter and not on the other. Marks other than the diacritics (Indic and Thai
 * vowel signs) stay inside their word, as in `searchWordsOf`: dropped, "कम" would find "काम".
 * Words split where anything but a letter, digit or mark stands.
 */
const SETTINGS: estypes.IndicesIndexSettings = {
  analysis: {
    char_filter: { folio_fold: { type: 'mapping', mappings: FOLD_RULES } },
    tokenizer: { folio_words: { type: 'pattern', pattern: '[^\\p{L}\\p{N}\\p{M}]+' } },
    filter: { folio_cut: { type: 'truncate', length: MAX_TOKEN_CHARS } },
    analyzer: {
      [TEXT_ANALYZER]: {
        type: 'custom',
        char_filter: ['folio_fold'],
        tokenizer: 'folio_words',
        filter: ['folio_cut'],
      },
    },
  },
};

interface FolioMeta {
  folio?: { schema?: Record<string, SearchFieldType> };
}

interface StoredSource {
  id: string;
  version: string;
  fields: WireFields;
}

const FIELD_MAPPINGS: Record<SearchFieldType, estypes.MappingProperty> = {
  keyword: { type: 'keyword' },
  text: { type: 'text', analyzer: TEXT_ANALYZER },
  // `coerce` (on by default) is what parses the decimal strings amounts are sent as.
  amount: { type: 'long' },
  date: { type: 'date', format: 'strict_date_optional_time' },
};

const mappingsFor = (schema: SearchSchema): estypes.MappingTypeMapping => {
  const entries = Object.entries(schema.fields);
  return {
    dynamic: 'strict',
    _meta: { folio: { schema: schema.fields } },
    properties: {
      id: { type: 'keyword' },
      // Kept as a string: `_version` comes back as a JSON number.
      version: { type: 'keyword', index: false, doc_values: false },
      fields: { type: 'object', properties: Object.fromEntries(entries.map(([name, type]) => [name, FIELD_MAPPINGS[type]])) },
      sortable: {
        type: 'object',
        properties: Object.fromEntries(
          entries.filter(([, type]) => type === 'amount').map(([name]) => [name, { type: 'keyword' }]),
        ),
      },
      [ALL_TEXT]: { type: 'text', analyzer: TEXT_ANALYZER, index_prefixes: { min_chars: 1, max_chars: 10 } },
    },
  };
};

/**
 * The words a query can find, as the query side splits them: a `copy_to` of the raw text would
 * keep text stored decomposed (metadata is stored as sent) in a form no NFC query word matches.
 */
const allTextOf = (schema: SearchSchema, fields: WireFields): string | undefined => {
  const words = Object.entries(fields)
    .filter(([name, value]) => schema.fields[name] === 'text' && value !== null)
    .flatMap(([, value]) => (Array.isArray(value) ? value : [value as string]).flatMap(searchWordsOf));
  return words.length === 0 ? undefined : words.join(' ');
};

const sourceOf = (
  schema: SearchSchema,
  document: PreparedDocument,
): StoredSource & { sortable: Record<string, string>; [ALL_TEXT]?: string } => {
  const allText = allTextOf(schema, document.fields);
  return {
    id: document.id,
    version: document.version.toString(),
    fields: document.fields,
    sortable: Object.fromEntries(
      Object.entries(document.fields)
        .filter(([name, value]) => schema.fields[name] === 'amount' && value !== null)
        .map(([name, value]) => [name, sortableBigint(BigInt(value as string))]),
    ),
    ...(allText === undefined ? {} : { [ALL_TEXT]: allText }),
  };
};

const errorTypeOf = (error: unknown): string | undefined =>
  error instanceof errors.ResponseError ? (error.body as { error?: { type?: string } } | undefined)?.error?.type : undefined;

const isNotFound = (error: unknown): boolean => error instanceof errors.ResponseError && error.statusCode === 404;

/** Statuses of a cluster that cannot answer now (overloaded, no shard available, a proxy's timeout), not of a bad request. */
const UNAVAILABLE_STATUSES = new Set([429, 502, 503, 504]);

/**
 * A failure to get an answer (unreachable, timed out, overloaded) as the other adapters report
 * it: `StoreUnavailableError`, which callers retry and the HTTP side answers 503. Anything else as it came.
 */
const unavailableOf = (error: unknown): unknown => {
  const unanswered =
    error instanceof errors.ConnectionError ||
    error instanceof errors.TimeoutError ||
    error instanceof errors.NoLivingConnectionsError ||
    (error instanceof errors.ResponseError && UNAVAILABLE_STATUSES.has(error.statusCode ?? 0));
  // The message is answered to callers: a node URL the client quoted loses its password.
  return unanswered
    ? new StoreUnavailableError(`Elasticsearch is unavailable: ${redactCredentials((error as Error).message)}`, { cause: error })
    : error;
};

/** The index with every method's transport failures reported as `unavailableOf` says. */
const reportingUnavailability = (index: SearchIndex): SearchIndex =>
  Object.fromEntries(
    Object.entries(index).map(([name, member]) => [
      name,
      typeof member === 'function'
        ? async (...args: unknown[]) => {
            try {
              return await (member as (...given: unknown[]) => Promise<unknown>)(...args);
            } catch (error) {
              throw unavailableOf(error);
            }
          }
        : member,
    ]),
  ) as unknown as SearchIndex;

/**
 * Elasticsearch answers 200 with what the shards it reached hold when others fail or time out:
 * such a page would carry a cursor past the missing shards' documents, such a checksum would
 * hash part of the index, and such a refresh would leave writes unseen. All are errors here.
 */
const requireEveryShard = (what: string, response: { timed_out?: boolean; _shards?: estypes.ShardStatistics }): void => {
  if (response.timed_out === true) throw new Error(`${what} timed out before every shard answered`);
  const shards = response._shards;
  if (shards === undefined || shards.failed === 0) return;
  const reasons = (shards.failures ?? []).slice(0, 3).map(({ reason }) => `${reason.type}: ${reason.reason ?? ''}`);
  throw new Error(`${what}: ${shards.failed} of ${shards.total} shards failed (${reasons.join('; ')})`);
};

/** The path a field sorts by, and how a cursor's key becomes its `search_after` value. */
const sortPathOf = (field: string, type: SearchFieldType): string =>
  type === 'amount' ? `sortable.${field}` : `fields.${field}`;

const searchAfterValue = (type: SearchFieldType, key: string): string | number =>
  type === 'amount' ? sortableBigint(BigInt(key)) : type === 'date' ? Number(key) : key;

/** The search request for a plan: text in `must`, exact conditions in `filter`, keyset by `search_after`. */
const searchRequestFor = (index: string, plan: PlannedQuery): estypes.SearchRequest => {
  const must: estypes.QueryDslQueryContainer[] = plan.words.map((word) => ({
    match_bool_prefix: { [ALL_TEXT]: { query: word } },
  }));
  const filter: estypes.QueryDslQueryContainer[] = [
    ...plan.equals.map(({ field, values }) => ({ terms: { [`fields.${field}`]: values } })),
    ...plan.amountRanges.map(({ field, gte, lte }) => ({
      range: {
        [`fields.${field}`]: {
          ...(gte === undefined ? {} : { gte: gte.toString() }),
          ...(lte === undefined ? {} : { lte: lte.toString() }),
        },
      },
    })),
    ...plan.dateRanges.map(({ field, gte, lte }) => ({
      range: {
        [`fields.${field}`]: {
          ...(gte === undefined ? {} : { gte: new Date(gte).toISOString() }),
          ...(lte === undefined ? {} : { lte: new Date(lte).toISOString() }),
        },
      },
    })),
  ];

  let sort: estypes.SortCombinations[] = [{ id: { order: 'asc' } }];
  let searchAfter: estypes.FieldValue[] | undefined;
  const { after } = plan;
  if (plan.sort === undefined) {
    if (after !== undefined) searchAfter = [after.id];
  } else {
    const { field, type, direction } = plan.sort;
    const path = sortPathOf(field, type);
    // Missing values count as lowest, as in SQLite: first ascending, last descending. A
    // multi-valued keyword sorts by its smallest value in both directions.
    sort = [
      {
        [path]: {
          order: direction,
          missing: direction === 'asc' ? '_first' : '_last',
          ...(type === 'keyword' ? { mode: 'min' } : {}),
        },
      },
      { id: { order: direction } },
    ];
    if (after !== undefined && after.key !== null) {
      searchAfter = [searchAfterValue(type, after.key), after.id];
    } else if (after !== undefined) {
      // `search_after` cannot carry a missing value, so the page after one is spelled out.
      const missingAfter: estypes.QueryDslQueryContainer = {
        bool: {
          must_not: [{ exists: { field: path } }],
          filter: [{ range: { id: direction === 'asc' ? { gt: after.id } : { lt: after.id } } }],
        },
      };
      filter.push(
        direction === 'asc'
          ? { bool: { should: [missingAfter, { exists: { field: path } }], minimum_should_match: 1 } }
          : missingAfter,
      );
    }
  }

  return {
    index,
    allow_partial_search_results: false,
    size: plan.limit + 1,
    track_total_hits: false,
    _source: SOURCE_FIELDS,
    query: { bool: { ...(must.length > 0 ? { must } : {}), ...(filter.length > 0 ? { filter } : {}) } },
    sort,
    ...(searchAfter === undefined ? {} : { search_after: searchAfter }),
  };
};

export const createElasticsearchSearchIndex = (options: ElasticsearchSearchIndexOptions): SearchIndex => {
  const ownsClient = !('client' in options);
  const client =
    'client' in options
      ? options.client
      : new Client({
          node: options.node,
          requestTimeout: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
          ...(options.apiKey === undefined ? {} : { auth: { apiKey: options.apiKey } }),
          ...(options.ca === undefined ? {} : { tls: { ca: options.ca } }),
        });

  /** A request on an index read a moment before: a 404 means it was dropped in between. */
  const onIndex = async <T>(index: string, request: Promise<T>): Promise<T> => {
    try {
      return await request;
    } catch (error) {
      if (isNotFound(error)) throw new NotFoundError('search index', index);
      throw error;
    }
  };

  /** The concrete index a name or alias denotes; `undefined` when neither exists. */
  const concreteOf = async (name: string): Promise<{ concrete: string; meta: FolioMeta } | undefined> => {
    let response: estypes.IndicesGetMappingResponse;
    try {
      response = await client.indices.getMapping({ index: requireIndexName(name) });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    const entries = Object.entries(response);
    if (entries.length !== 1) throw new Error(`${name} denotes ${entries.length} indexes; a search index is one`);
    const [concrete, { mappings }] = entries[0]!;
    return { concrete, meta: (mappings._meta ?? {}) as FolioMeta };
  };

  const describeIndex = async (name: string): Promise<{ concrete: string; schema: SearchSchema }> => {
    const found = await concreteOf(name);
    if (found === undefined) throw new NotFoundError('search index', name);
    const fields = found.meta.folio?.schema;
    if (fields === undefined) {
      // A write to a dropped index makes one with dynamic mappings where `action.auto_create_index` allows it.
      throw new Error(
        `index ${found.concrete} was not created by Folio (it has no Folio schema in its mapping _meta): ` +
          'drop it and rebuild the read model that writes it',
      );
    }
    return { concrete: found.concrete, schema: { fields } };
  };

  const aliasTargets = async (alias: string): Promise<string[]> => {
    try {
      return Object.keys(await client.indices.getAlias({ name: alias }));
    } catch (error) {
      if (isNotFound(error)) return [];
      throw error;
    }
  };

  /** Sends one bulk; returns the documents refused as overloaded, to be sent again, with why. */
  const bulkOnce = async (
    schema: SearchSchema,
    concrete: string,
    documents: readonly PreparedDocument[],
  ): Promise<{ document: PreparedDocument; reason: string }[]> => {
    const operations = documents.flatMap((document) => [
      // External versions: Elasticsearch keeps a write only if its version is above the stored one.
      { index: { _index: concrete, _id: document.id, version: document.version.toString(), version_type: 'external' } },
      sourceOf(schema, document),
    ]);
    let response: estypes.BulkResponse;
    try {
      response = await client.bulk({ operations: operations as unknown as estypes.BulkRequest['operations'] });
    } catch (error) {
      if (error instanceof errors.ResponseError && error.statusCode === 429) {
        return documents.map((document) => ({ document, reason: errorTypeOf(error) ?? 'too many requests' }));
      }
      throw error;
    }
    if (!response.errors) return [];
    const rejected: { document: PreparedDocument; reason: string }[] = [];
    const failures: estypes.BulkResponseItem[] = [];
    response.items.forEach((item, position) => {
      const result = item.index;
      if (result?.error === undefined) return;
      // A conflict means the stored version is as new or newer: the write was already applied.
      if (result.status === 409 && result.error.type === 'version_conflict_engine_exception') return;
      // The index was dropped after its schema was read (and was not created again with dynamic mappings).
      if (result.error.type === 'index_not_found_exception') throw new NotFoundError('search index', concrete);
      if (result.status === 429) rejected.push({ document: documents[position]!, reason: result.error.type });
      else failures.push(result);
    });
    if (failures.length > 0) {
      const shown = failures.slice(0, 3).map((item) => `${item._id}: ${item.error?.type}: ${item.error?.reason}`);
      throw new Error(`search index ${concrete}: ${failures.length} document(s) not written (${shown.join('; ')})`);
    }
    return rejected;
  };

  const bulkWrite = async (schema: SearchSchema, concrete: string, documents: readonly PreparedDocument[]): Promise<void> => {
    let pending = documents;
    for (let attempt = 1; ; attempt++) {
      const rejected = await bulkOnce(schema, concrete, pending);
      if (rejected.length === 0) return;
      if (attempt >= BULK_ATTEMPTS) {
        const shown = rejected.slice(0, 3).map(({ document, reason }) => `${document.id}: ${reason}`);
        throw new Error(
          `search index ${concrete}: ${rejected.length} document(s) not written, ` +
            `refused with 429 (too many requests) ${attempt} times (${shown.join('; ')})`,
        );
      }
      await sleep(BULK_PAUSE_MS * 2 ** (attempt - 1));
      pending = rejected.map(({ document }) => document);
    }
  };

  const hitOf = (schema: SearchSchema, source: StoredSource): SearchHit =>
    toHit(schema, source.id, BigInt(source.version), source.fields);

  return reportingUnavailability({
    kind: 'elasticsearch',

    // `loading` changes nothing here: Elasticsearch builds what a search needs segment by segment
    // as it indexes, so there is nothing to leave for the end.
    async ensureIndex(index: string, schema: SearchSchema, options?: EnsureIndexOptions): Promise<void> {
      requireLoading(options);
      const wanted = requireSchema(schema);
      // Already there, as an index or as an alias: then only its schema has to match.
      if ((await concreteOf(index)) === undefined) {
        try {
          await client.indices.create({ index, settings: SETTINGS, mappings: mappingsFor(wanted) });
          return;
        } catch (error) {
          // Another process created it in the meantime.
          if (errorTypeOf(error) !== 'resource_already_exists_exception') throw error;
        }
      }
      requireSameSchema(index, (await describeIndex(index)).schema, wanted);
    },

    async finishLoading(index: string): Promise<void> {
      await describeIndex(index);
    },

    async upsert(index: string, documents: readonly SearchDocument[]): Promise<void> {
      const { concrete, schema } = await describeIndex(index);
      const prepared = prepareDocuments(schema, documents);
      for (let start = 0; start < prepared.length; start += BULK_CHUNK) {
        await bulkWrite(schema, concrete, prepared.slice(start, start + BULK_CHUNK));
      }
    },

    // Reads go to the name given: an alias is resolved by the server as it answers, so a reader
    // never asks an index that a swap and a drop took away after it read the schema.
    async get(index: string, id: string): Promise<SearchHit | undefined> {
      const { schema } = await describeIndex(index);
      const response = await client.get<StoredSource>(
        { index, id: requireId(id), _source_includes: SOURCE_FIELDS },
        { ignore: [404] },
      );
      // A missing document is `found: false`; a missing index is an error body.
      if ((response as { error?: unknown }).error !== undefined) throw new NotFoundError('search index', index);
      return response.found && response._source !== undefined ? hitOf(schema, response._source) : undefined;
    },

    async search(index: string, query: SearchQuery): Promise<SearchResult> {
      const { schema } = await describeIndex(index);
      const plan = planQuery(schema, query ?? {});
      const response = await onIndex(index, client.search<StoredSource>(searchRequestFor(index, plan)));
      requireEveryShard(`search of ${index}`, response);
      const sources = response.hits.hits.map((hit) => hit._source!);
      const page = sources.slice(0, plan.limit);
      const hits = page.map((source) => hitOf(schema, source));
      const last = page.at(-1);
      return sources.length > plan.limit && last !== undefined
        ? { hits, nextCursor: encodeCursor(plan, last.id, last.fields) }
        : { hits };
    },

    async refresh(index: string): Promise<void> {
      requireEveryShard(`refresh of ${index}`, await onIndex(index, client.indices.refresh({ index: requireIndexName(index) })));
    },

    async setAlias(alias: string, index: string): Promise<void> {
      requireIndexName(alias, 'alias');
      for (let attempt = 1; ; attempt++) {
        const { concrete } = await describeIndex(index);
        const current = await aliasTargets(alias);
        if (current.length === 0 && (await client.indices.exists({ index: alias }))) {
          throw invalid('alias', `${alias} is an index, so it cannot be an alias`);
        }
        // One request: readers see the old target or the new one, never neither. The remove
        // must find the alias where it was read, so a concurrent move fails instead of merging.
        const actions: estypes.IndicesUpdateAliasesAction[] = [
          ...current
            .filter((target) => target !== concrete)
            .map((target) => ({ remove: { index: target, alias, must_exist: true } })),
          { add: { index: concrete, alias } },
        ];
        try {
          await client.indices.updateAliases({ actions });
          return;
        } catch (error) {
          if (!isNotFound(error) || attempt >= ALIAS_ATTEMPTS) throw error;
        }
      }
    },

    async resolveAlias(alias: string): Promise<string | undefined> {
      const targets = await aliasTargets(requireIndexName(alias, 'alias'));
      if (targets.length > 1) throw new Error(`alias ${alias} points at ${targets.length} indexes: ${targets.join(', ')}`);
      return targets[0];
    },

    async dropIndex(index: string): Promise<void> {
      // Elasticsearch refuses to delete through an alias, so the alias is resolved first.
      const found = await concreteOf(index);
      if (found !== undefined) await client.indices.delete({ index: found.concrete }, { ignore: [404] });
    },

    async listIndexes(prefix: string): Promise<string[]> {
      // A pattern that names an alias yields the alias's index, under its own name. A wildcard
      // matches only open indexes unless told otherwise, and an index an operator closed is still
      // one to prune and still holds its name; `all` would add hidden (system) indexes.
      const response = await client.indices.getMapping({
        index: `${requireIndexName(prefix, 'prefix')}*`,
        allow_no_indices: true,
        expand_wildcards: ['open', 'closed'],
      });
      return Object.keys(response)
        .filter((name) => name.startsWith(prefix))
        .sort();
    },

    async checksum(index: string): Promise<string> {
      const { concrete } = await describeIndex(index);
      requireEveryShard(`refresh of ${concrete}`, await onIndex(index, client.indices.refresh({ index: concrete })));
      const checksum = new DocumentChecksum();
      // A point in time reads one consistent snapshot even while writes go on.
      let pitId = (await onIndex(index, client.openPointInTime({ index: concrete, keep_alive: PIT_KEEP_ALIVE }))).id;
      try {
        let searchAfter: estypes.SortResults | undefined;
        for (;;) {
          const response = await client.search<StoredSource>({
            pit: { id: pitId, keep_alive: PIT_KEEP_ALIVE },
            allow_partial_search_results: false,
            size: CHECKSUM_PAGE,
            track_total_hits: false,
            _source: SOURCE_FIELDS,
            sort: [{ id: { order: 'asc' } }],
            ...(searchAfter === undefined ? {} : { search_after: searchAfter }),
          });
          pitId = response.pit_id ?? pitId;
          requireEveryShard(`checksum of ${concrete}`, response);
          const hits = response.hits.hits;
          for (const { _source } of hits) {
            checksum.add(_source!.id, BigInt(_source!.version), canonicalFieldsJson(_source!.fields));
          }
          if (hits.length < CHECKSUM_PAGE) break;
          searchAfter = hits.at(-1)!.sort;
        }
      } finally {
        // Best effort: an unclosed point in time expires by itself after its keep-alive.
        await client.closePointInTime({ id: pitId }).catch(() => undefined);
      }
      return checksum.digest();
    },

    async close(): Promise<void> {
      if (ownsClient) await client.close();
    },
  });
};

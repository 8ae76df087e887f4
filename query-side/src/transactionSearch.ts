/**
 * Transaction search: the search index finds and orders, the history collection answers. Hits
 * carry only what the index keeps (metadata as words, no outcome times), so each page's
 * documents are read by id; their amounts are the exact minor-unit strings the projection stored.
 */
import { createHash } from 'node:crypto';
import {
  NotFoundError,
  searchCursorPosition,
  searchTextWords,
  ValidationError,
  type DocumentStore,
  type SearchHit,
  type SearchIndex,
  type SearchQuery,
  type SearchResult,
} from '@folio/shared';
import {
  searchAliases,
  transactionHistoryProjection,
  transactionSearchSchema,
  type ServedReadModels,
  type ServedVersion,
  type TransactionDocument,
} from '@folio/projections';
import { waitForPosition } from './readYourWrites.js';

const SEARCH_ALIAS = searchAliases(transactionHistoryProjection).transactions!;

export const transactionView = (document: TransactionDocument) => ({
  id: document.id,
  type: document.type,
  status: document.status,
  fromAccountId: document.fromAccountId,
  toAccountId: document.toAccountId,
  amount: document.amount,
  currency: document.currency,
  reference: document.reference,
  description: document.description,
  metadata: document.metadata,
  requestedAt: document.requestedAt,
  endedAt: document.endedAt,
  failureReason: document.failureReason,
  paymentId: document.paymentId,
  payoutId: document.payoutId,
  provider: document.provider,
  providerRef: document.providerRef,
});

export type TransactionView = ReturnType<typeof transactionView>;

export const TRANSACTION_SORTS = ['requestedAt', '-requestedAt', 'amount', '-amount'] as const;
export type TransactionSort = (typeof TRANSACTION_SORTS)[number];

export interface TransactionFilters {
  text?: string;
  /** Either side of the movement; several: any of them. */
  account?: string | readonly string[];
  type?: string;
  status?: string;
  currency?: string;
  /** The journals of this payment or payout. */
  payment?: string;
  minAmount?: bigint;
  maxAmount?: bigint;
  /** UTC timestamps in the search port's form, inclusive. */
  from?: string;
  to?: string;
}

/** The accounts a holder's key may see, and whose they are. */
export interface VisibleAccounts {
  /** The holder (its role and owner id): a cursor stays theirs while their list of accounts grows. */
  owner: string;
  accounts: readonly string[];
}

export interface TransactionPageRequest {
  filters: TransactionFilters;
  /** Narrows the search to these accounts; absent for a caller who sees every account. */
  visible?: VisibleAccounts;
  sort: TransactionSort;
  limit: number;
  cursor?: string;
  /**
   * Make every indexed write visible first (an Elasticsearch refresh): for a reader who waited
   * for its own write's position.
   */
  refresh?: boolean;
}

export interface TransactionPage {
  items: TransactionView[];
  /** Pass as `cursor` for the next page; `null` on the last one. */
  nextCursor: string | null;
}

export interface TransactionFinderOptions {
  documents: DocumentStore;
  searchIndex: SearchIndex;
  /** The history is read in the version the search alias names. */
  readModels: Pick<ServedReadModels, 'serving' | 'waitFor' | 'status'>;
  readWaitMs: number;
}

const toSearchQuery = (filters: TransactionFilters, sort: TransactionSort): SearchQuery => {
  const equals: Record<string, string | readonly string[]> = {};
  if (filters.account !== undefined) equals.accounts = filters.account;
  if (filters.type !== undefined) equals.type = filters.type;
  if (filters.status !== undefined) equals.status = filters.status;
  if (filters.currency !== undefined) equals.currency = filters.currency;
  if (filters.payment !== undefined) equals.payment = filters.payment;
  return {
    ...(filters.text === undefined ? {} : { text: filters.text }),
    equals,
    ranges: {
      amount: {
        ...(filters.minAmount === undefined ? {} : { gte: filters.minAmount }),
        ...(filters.maxAmount === undefined ? {} : { lte: filters.maxAmount }),
      },
      requestedAt: {
        ...(filters.from === undefined ? {} : { gte: filters.from }),
        ...(filters.to === undefined ? {} : { lte: filters.to }),
      },
    },
    sort: { field: sort.startsWith('-') ? sort.slice(1) : sort, direction: sort.startsWith('-') ? 'desc' : 'asc' },
  };
};

/**
 * Our cursor wraps the index's with a digest of the query it pages, so a cursor replayed with
 * other filters or another sort is refused rather than silently continuing a different list.
 */
const fingerprint = (query: SearchQuery, owner: string | undefined): string =>
  createHash('sha256')
    .update(JSON.stringify({ query, owner }, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)))
    .digest('base64url')
    .slice(0, 16);

const badCursor = (message: string): ValidationError =>
  new ValidationError(`invalid request query: query.cursor: ${message}`, [{ path: 'query.cursor', message }]);

const encodeCursor = (query: string, after: string): string =>
  Buffer.from(JSON.stringify({ q: query, a: after }), 'utf8').toString('base64url');

const decodeCursor = (cursor: string, query: string): string => {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor('not a cursor this API issued: pass the nextCursor of the previous page as it was');
  }
  const { q, a } = (typeof body === 'object' && body !== null ? body : {}) as { q?: unknown; a?: unknown };
  if (typeof q !== 'string' || typeof a !== 'string') {
    throw badCursor('not a cursor this API issued: pass the nextCursor of the previous page as it was');
  }
  if (q !== query) throw badCursor('this cursor belongs to a query with other filters or another sort: repeat that query to page on');
  return a;
};

/** The index's complaints about our query, as the query parameters the caller sent. */
const PARAMETER_OF_SEARCH_PATH = new Map([
  ['text', 'query.q'],
  ['after', 'query.cursor'],
]);

const asParameterError = (error: ValidationError): ValidationError => {
  const issues = error.issues.map(({ path, message }) => ({ path: PARAMETER_OF_SEARCH_PATH.get(path) ?? path, message }));
  return new ValidationError(`invalid request query: ${issues.map(({ path, message }) => `${path}: ${message}`).join('; ')}`, issues);
};

export const createTransactionFinder = ({ documents, searchIndex, readModels, readWaitMs }: TransactionFinderOptions) => {
  // Asked each time: the alias may have moved to a new version while a page waited.
  const load = async (hits: readonly SearchHit[]) => {
    const history = (await readModels.serving(transactionHistoryProjection)).collections.transactions!;
    return Promise.all(hits.map((hit) => documents.get<TransactionDocument>(history, hit.id)));
  };

  /**
   * The projector indexes a batch before it commits the documents, so a hit may be ahead of its
   * document for a moment: then the page waits (bounded) for the history to reach the hit.
   */
  const documentsOf = async (hits: readonly SearchHit[]): Promise<TransactionDocument[]> => {
    let found = await load(hits);
    const behind = hits.filter((hit, i) => {
      const document = found[i];
      return document === undefined || BigInt(document.lastPosition) < hit.version;
    });
    if (behind.length > 0) {
      await waitForPosition(readModels, behind.reduce((max, hit) => (hit.version > max ? hit.version : max), 0n), readWaitMs, {
        names: [transactionHistoryProjection.name],
      });
      found = await load(hits);
    }
    // Only a rebuild swapping index and collection one after the other leaves a hit without its document.
    return found.filter((document): document is TransactionDocument => document !== undefined);
  };

  return async ({ filters, visible, sort, limit, cursor, refresh }: TransactionPageRequest): Promise<TransactionPage> => {
    // The cursor pages what the caller asked for, so it is bound to the holder, not to the list of
    // accounts it has today: one opened while it pages must not void its cursor.
    const queryId = fingerprint(toSearchQuery(filters, sort), visible?.owner);
    const after = cursor === undefined ? undefined : decodeCursor(cursor, queryId);
    const asked = filters.account === undefined ? undefined : typeof filters.account === 'string' ? [filters.account] : filters.account;
    const account = visible === undefined ? filters.account : visible.accounts.filter((id) => asked === undefined || asked.includes(id));
    // Another holder's account finds nothing, as an unknown one does; the index still checks the
    // query, so a bad parameter is refused whatever accounts the holder has.
    const query = toSearchQuery({ ...filters, ...(account === undefined ? {} : { account }) }, sort);
    let result: SearchResult;
    try {
      if (refresh === true) await searchIndex.refresh(SEARCH_ALIAS);
      result = await searchIndex.search(SEARCH_ALIAS, { ...query, limit, ...(after === undefined ? {} : { after }) });
    } catch (error) {
      if (error instanceof ValidationError) throw asParameterError(error);
      if (!(error instanceof NotFoundError && error.resource === 'search index')) throw error;
      // Until the history projector first starts, its index does not exist: nothing to find yet,
      // once the text and position are checked as the index would, so a bad one is refused as ever.
      try {
        if (query.text !== undefined) searchTextWords(query.text);
        if (after !== undefined) searchCursorPosition(transactionSearchSchema, query.sort, after);
      } catch (refused) {
        throw refused instanceof ValidationError ? asParameterError(refused) : refused;
      }
      return { items: [], nextCursor: null };
    }
    const items = (await documentsOf(result.hits)).map(transactionView);
    return { items, nextCursor: result.nextCursor === undefined ? null : encodeCursor(queryId, result.nextCursor) };
  };
};

export type TransactionFinder = ReturnType<typeof createTransactionFinder>;

/** `collections`: the history read model's, of the version read. */
export const getTransaction = async (
  documents: DocumentStore,
  collections: ServedVersion['collections'],
  id: string,
): Promise<TransactionView> => {
  const document = await documents.get<TransactionDocument>(collections.transactions!, id);
  if (document === undefined) throw new NotFoundError('transaction', id, { type: 'transaction-not-found' });
  return transactionView(document);
};

/** Reads of the balances read model: an account's balance, and its balance over time. */
import { NotFoundError, type DocumentStore, type GlobalPosition } from '@folio/shared';
import { balancePointIdPrefix, type AccountBalanceDocument, type BalancePointsDocument, type ServedVersion } from '@folio/projections';

/** Point documents read per round trip while scanning an account's history. */
const SCAN_PAGE = 100;

export const balanceView = (account: AccountBalanceDocument, position: GlobalPosition) => ({
  accountId: account.accountId,
  ownerId: account.ownerId,
  currency: account.currency,
  kind: account.kind,
  status: account.status,
  overdraftLimit: account.overdraftLimit,
  posted: account.posted,
  pending: account.pending,
  available: account.available,
  debits: account.debits,
  credits: account.credits,
  heldDebits: account.heldDebits,
  pendingCredits: account.pendingCredits,
  /** Stream revision of the last event applied. */
  version: account.version,
  updatedAt: account.updatedAt,
  position: position.toString(),
});

/** `collections`: the balances read model's, of the version read. */
export const loadAccount = async (
  documents: DocumentStore,
  collections: ServedVersion['collections'],
  accountId: string,
): Promise<AccountBalanceDocument> => {
  const account = await documents.get<AccountBalanceDocument>(collections.accounts!, accountId);
  if (account === undefined) throw new NotFoundError('account', accountId, { type: 'account-not-found' });
  return account;
};

/**
 * The balance and the log position it reflects: the position of the balances version read, taken
 * before the document (every event up to it is applied), or the document's own last event if that
 * is later (it was committed with every event before it).
 */
export const getBalance = async (documents: DocumentStore, balances: ServedVersion, accountId: string) => {
  const account = await loadAccount(documents, balances.collections, accountId);
  const own = BigInt(account.lastPosition);
  const { position } = balances.status;
  return balanceView(account, position !== undefined && position > own ? position : own);
};

export interface BalancePointsRequest {
  accountId: string;
  /** UTC timestamps in the stores' form, inclusive. */
  from?: string;
  to?: string;
  limit: number;
}

/**
 * The posted balance after each posting in [from, to], oldest first: the latest `limit` of them
 * when there are more (`truncated`). Read newest first along the account's range of point ids,
 * so a chart of recent activity costs about `limit` reads however long the history is.
 */
export const getBalancePoints = async (
  documents: DocumentStore,
  collections: ServedVersion['collections'],
  { accountId, from, to, limit }: BalancePointsRequest,
) => {
  const account = await loadAccount(documents, collections, accountId);
  const fromMs = from === undefined ? -Infinity : Date.parse(from);
  const toMs = to === undefined ? Infinity : Date.parse(to);
  const items: { at: string; posted: string }[] = [];
  let truncated = false;
  let after: string | undefined;
  scan: do {
    const page = await documents.find<BalancePointsDocument>(collections.points!, {
      idPrefix: balancePointIdPrefix(accountId),
      orderBy: { field: '_id', direction: 'desc' },
      limit: SCAN_PAGE,
      ...(after === undefined ? {} : { after }),
    });
    for (const point of page.items.flatMap((document) => document.points.toReversed())) {
      const at = Date.parse(point.at);
      if (at > toMs) continue;
      if (at < fromMs) break scan;
      if (items.length === limit) {
        truncated = true;
        break scan;
      }
      items.push({ at: point.at, posted: point.posted });
    }
    after = page.nextCursor;
  } while (after !== undefined);
  return { accountId, currency: account.currency, items: items.reverse(), truncated };
};

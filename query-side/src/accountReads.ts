/** Reads of the balances read model: an account's balance, and its balance over time. */
import { NotFoundError, type DocumentStore, type GlobalPosition } from '@folio/shared';
import {
  balancePointIdPrefix,
  balancesProjection,
  liveCollections,
  type AccountBalanceDocument,
  type BalancePointsDocument,
} from '@folio/projections';

const { accounts: ACCOUNTS, points: POINTS } = liveCollections(balancesProjection) as { accounts: string; points: string };

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

export const loadAccount = async (documents: DocumentStore, accountId: string): Promise<AccountBalanceDocument> => {
  const account = await documents.get<AccountBalanceDocument>(ACCOUNTS, accountId);
  if (account === undefined) throw new NotFoundError('account', accountId, { type: 'account-not-found' });
  return account;
};

/**
 * The balance and the log position it reflects: the balances projector's position read before
 * the document (every event up to it is applied), or the document's own last event if that is
 * later (it was committed with every event before it).
 */
export const getBalance = async (
  documents: DocumentStore,
  accountId: string,
  projectorPosition: GlobalPosition | undefined,
) => {
  const account = await loadAccount(documents, accountId);
  const own = BigInt(account.lastPosition);
  return balanceView(account, projectorPosition !== undefined && projectorPosition > own ? projectorPosition : own);
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
export const getBalancePoints = async (documents: DocumentStore, { accountId, from, to, limit }: BalancePointsRequest) => {
  const account = await loadAccount(documents, accountId);
  const fromMs = from === undefined ? -Infinity : Date.parse(from);
  const toMs = to === undefined ? Infinity : Date.parse(to);
  const items: { at: string; posted: string }[] = [];
  let truncated = false;
  let after: string | undefined;
  scan: do {
    const page = await documents.find<BalancePointsDocument>(POINTS, {
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

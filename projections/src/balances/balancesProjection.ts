import {
  formatMinorUnits,
  parseMinorUnits,
  sortableBigint,
  type DocumentSession,
  type LedgerEvent,
  type RecordedEvent,
} from '@folio/shared';
import { ledgerEventOf } from '../ledgerEvents.js';
import type { ProjectionDefinition } from '../runtime/projection.js';

/**
 * Account balances: one document per account with its posted, pending and available balance,
 * and a point per posting for balance-over-time charts. Amounts are minor-unit strings.
 */
export interface AccountBalanceDocument {
  _id: string;
  accountId: string;
  ownerId: string;
  currency: string;
  kind: string;
  status: string;
  overdraftLimit: string;
  debits: string;
  credits: string;
  heldDebits: string;
  pendingCredits: string;
  posted: string;
  pending: string;
  available: string;
  /** Stream revision of the last event applied. */
  version: string;
  /** Log position of the last event applied, and its sortable form for the replay guard. */
  lastPosition: string;
  sortableLastPosition: string;
  updatedAt: string;
  [key: string]: string;
}

export interface BalancePointDocument {
  _id: string;
  accountId: string;
  /** Business time of the posting. */
  at: string;
  posted: string;
  position: string;
  sortablePosition: string;
  [key: string]: string;
}

const ACCOUNT_EVENTS = new Set([
  'AccountOpened',
  'AccountFrozen',
  'AccountUnfrozen',
  'AccountClosed',
  'AccountDebited',
  'AccountCredited',
  'AccountFundsHeld',
  'AccountHoldReleased',
]);

const withBalances = (account: AccountBalanceDocument): AccountBalanceDocument => {
  const credits = parseMinorUnits(account.credits);
  const debits = parseMinorUnits(account.debits);
  const held = parseMinorUnits(account.heldDebits);
  const pendingCredits = parseMinorUnits(account.pendingCredits);
  return {
    ...account,
    posted: formatMinorUnits(credits - debits),
    pending: formatMinorUnits(pendingCredits - held),
    available: formatMinorUnits(credits - debits - held + parseMinorUnits(account.overdraftLimit)),
  };
};

const apply = (
  account: AccountBalanceDocument | undefined,
  event: LedgerEvent,
  recorded: RecordedEvent,
): AccountBalanceDocument | undefined => {
  const stamp = {
    version: recorded.revision.toString(),
    lastPosition: recorded.position.toString(),
    sortableLastPosition: sortableBigint(recorded.position),
    updatedAt: event.metadata.occurredAt,
  };
  if (event.type === 'AccountOpened') {
    const { accountId, ownerId, currency, kind, overdraftLimit } = event.data;
    return withBalances({
      _id: accountId,
      accountId,
      ownerId,
      currency,
      kind,
      status: 'active',
      overdraftLimit: formatMinorUnits(overdraftLimit),
      debits: '0',
      credits: '0',
      heldDebits: '0',
      pendingCredits: '0',
      posted: '0',
      pending: '0',
      available: '0',
      ...stamp,
    });
  }
  if (account === undefined) return undefined;
  switch (event.type) {
    case 'AccountFrozen':
      return { ...account, status: 'frozen', ...stamp };
    case 'AccountUnfrozen':
      return { ...account, status: 'active', ...stamp };
    case 'AccountClosed':
      return { ...account, status: 'closed', ...stamp };
    case 'AccountDebited':
      return withBalances({
        ...account,
        debits: formatMinorUnits(parseMinorUnits(account.debits) + event.data.amount),
        ...stamp,
      });
    case 'AccountCredited':
      return withBalances({
        ...account,
        credits: formatMinorUnits(parseMinorUnits(account.credits) + event.data.amount),
        ...stamp,
      });
    // A hold (a payout waiting for its provider) is pending until it is posted or released; a
    // posted one is followed by its debit in the same append.
    case 'AccountFundsHeld':
      return withBalances({
        ...account,
        heldDebits: formatMinorUnits(parseMinorUnits(account.heldDebits) + event.data.amount),
        ...stamp,
      });
    case 'AccountHoldReleased':
      return withBalances({
        ...account,
        heldDebits: formatMinorUnits(parseMinorUnits(account.heldDebits) - event.data.amount),
        ...stamp,
      });
    default:
      return account;
  }
};

export const balancesProjection: ProjectionDefinition = {
  name: 'balances',
  // 2: holds count in pending and available.
  version: 2,
  // Movement outcomes are read too (and ignored), so the projector's position passes the
  // position a write answered with, and read-your-writes waits end.
  filter: { streamNamePrefixes: ['account-', 'transfer-', 'deposit-'] },
  roles: ['accounts', 'points'],
  indexes: { accounts: [['ownerId']], points: [['accountId', 'sortablePosition']] },
  create: ({ collections }) => ({
    async handle(events: readonly RecordedEvent[], session: DocumentSession): Promise<void> {
      // Within a batch an account is read once and written once.
      const touched = new Map<string, AccountBalanceDocument | undefined>();
      for (const recorded of events) {
        if (!ACCOUNT_EVENTS.has(recorded.type)) continue;
        const event = ledgerEventOf(recorded);
        const accountId = (event.data as { accountId: string }).accountId;
        const current = touched.has(accountId)
          ? touched.get(accountId)
          : await session.get<AccountBalanceDocument>(collections.accounts!, accountId);
        // Idempotent: an event at or before what the document reflects was applied already.
        if (current !== undefined && current.sortableLastPosition >= sortableBigint(recorded.position)) {
          touched.set(accountId, current);
          continue;
        }
        const next = apply(current, event, recorded);
        touched.set(accountId, next);
        if (next !== undefined && (event.type === 'AccountDebited' || event.type === 'AccountCredited')) {
          await session.put(collections.points!, {
            _id: `${accountId}:${next.version}`,
            accountId,
            at: event.metadata.occurredAt,
            posted: next.posted,
            position: next.lastPosition,
            sortablePosition: next.sortableLastPosition,
          });
        }
      }
      for (const account of touched.values()) {
        if (account !== undefined) await session.put(collections.accounts!, account);
      }
    },
  }),
};

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
 * and a point per posting (the posted balance after it) for balance-over-time charts, an
 * account's points of one batch sharing a document. Amounts are minor-unit strings.
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

/**
 * The start of the ids of an account's balance point documents: `<account id>:<revision,
 * sortable>`, so the account's points are one range of the id order, oldest first.
 */
export const balancePointIdPrefix = (accountId: string): string => `${accountId}:`;

/** The posted balance right after one posting. */
export interface BalancePoint {
  /** Business time of the posting. */
  at: string;
  posted: string;
  /** The posting's stream revision and log position: the event the point comes from. */
  revision: string;
  position: string;
  [key: string]: string;
}

/**
 * An account's consecutive points from one batch, oldest first, at most `MAX_POINTS_PER_DOCUMENT`:
 * catching up, a batch posts to an account many times, and one document for those postings costs
 * far less to write than one per posting.
 */
export interface BalancePointsDocument {
  /** `balancePointIdPrefix(accountId)` and the first point's revision as `sortableBigint`. */
  _id: string;
  accountId: string;
  points: BalancePoint[];
  [key: string]: string | BalancePoint[];
}

export const MAX_POINTS_PER_DOCUMENT = 256;

/** An account's new points in documents, oldest first. */
const pointDocuments = (accountId: string, points: readonly BalancePoint[]): BalancePointsDocument[] => {
  const documents: BalancePointsDocument[] = [];
  for (let start = 0; start < points.length; start += MAX_POINTS_PER_DOCUMENT) {
    const slice = points.slice(start, start + MAX_POINTS_PER_DOCUMENT);
    documents.push({
      _id: `${balancePointIdPrefix(accountId)}${sortableBigint(BigInt(slice[0]!.revision))}`,
      accountId,
      points: slice,
    });
  }
  return documents;
};

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

/**
 * An account as a batch folds it: amounts as bigints, so each event adds and compares integers,
 * and the document is built once, when the batch is written.
 */
interface FoldedAccount {
  stored: AccountBalanceDocument;
  status: string;
  overdraftLimit: bigint;
  debits: bigint;
  credits: bigint;
  heldDebits: bigint;
  pendingCredits: bigint;
  version: bigint;
  lastPosition: bigint;
  updatedAt: string;
  /** Points of the postings this batch applied, oldest first. */
  points: BalancePoint[];
}

const folded = (stored: AccountBalanceDocument): FoldedAccount => ({
  stored,
  status: stored.status,
  overdraftLimit: parseMinorUnits(stored.overdraftLimit),
  debits: parseMinorUnits(stored.debits),
  credits: parseMinorUnits(stored.credits),
  heldDebits: parseMinorUnits(stored.heldDebits),
  pendingCredits: parseMinorUnits(stored.pendingCredits),
  version: BigInt(stored.version),
  lastPosition: BigInt(stored.lastPosition),
  updatedAt: stored.updatedAt,
  points: [],
});

const postedOf = (account: FoldedAccount): bigint => account.credits - account.debits;

const documentOf = (account: FoldedAccount): AccountBalanceDocument => ({
  ...account.stored,
  status: account.status,
  overdraftLimit: formatMinorUnits(account.overdraftLimit),
  debits: formatMinorUnits(account.debits),
  credits: formatMinorUnits(account.credits),
  heldDebits: formatMinorUnits(account.heldDebits),
  pendingCredits: formatMinorUnits(account.pendingCredits),
  posted: formatMinorUnits(postedOf(account)),
  pending: formatMinorUnits(account.pendingCredits - account.heldDebits),
  available: formatMinorUnits(postedOf(account) - account.heldDebits + account.overdraftLimit),
  version: account.version.toString(),
  lastPosition: account.lastPosition.toString(),
  sortableLastPosition: sortableBigint(account.lastPosition),
  updatedAt: account.updatedAt,
});

/** Applies an event the account has not seen yet to its folded state. */
const apply = (account: FoldedAccount, event: LedgerEvent): void => {
  switch (event.type) {
    case 'AccountFrozen':
      account.status = 'frozen';
      break;
    case 'AccountUnfrozen':
      account.status = 'active';
      break;
    case 'AccountClosed':
      account.status = 'closed';
      break;
    case 'AccountDebited':
      account.debits += event.data.amount;
      break;
    case 'AccountCredited':
      account.credits += event.data.amount;
      break;
    // A hold (a payout waiting for its provider) is pending until it is posted or released; a
    // posted one is followed by its debit in the same append.
    case 'AccountFundsHeld':
      account.heldDebits += event.data.amount;
      break;
    case 'AccountHoldReleased':
      account.heldDebits -= event.data.amount;
      break;
    default:
      break;
  }
};

const opened = (event: Extract<LedgerEvent, { type: 'AccountOpened' }>): FoldedAccount => {
  const { accountId, ownerId, currency, kind, overdraftLimit } = event.data;
  const stored: AccountBalanceDocument = {
    _id: accountId,
    accountId,
    ownerId,
    currency,
    kind,
    status: 'active',
    overdraftLimit: '0',
    debits: '0',
    credits: '0',
    heldDebits: '0',
    pendingCredits: '0',
    posted: '0',
    pending: '0',
    available: '0',
    version: '0',
    lastPosition: '0',
    sortableLastPosition: sortableBigint(0n),
    updatedAt: event.metadata.occurredAt,
  };
  return { ...folded(stored), overdraftLimit };
};

const laterOf = (a: string, b: string): string => (Date.parse(b) > Date.parse(a) ? b : a);

export const balancesProjection: ProjectionDefinition = {
  name: 'balances',
  // 2: holds count in pending and available. 3: points keyed by account and sortable revision,
  // read as a range of ids instead of through an index of their own (an index insert per posting).
  // 4: an account's points of one batch in one document. 5: times never decrease along an account.
  version: 5,
  // Movement outcomes are read too (and ignored), so the projector's position passes the
  // position a write answered with, and read-your-writes waits end.
  filter: { streamNamePrefixes: ['account-', 'transfer-', 'deposit-'] },
  roles: ['accounts', 'points'],
  indexes: { accounts: [['ownerId']] },
  recordsOf: {
    points: (document) => (document as BalancePointsDocument).points.map((point) => ({ accountId: document.accountId as string, ...point })),
  },
  prepare: (recorded) => {
    if (ACCOUNT_EVENTS.has(recorded.type)) ledgerEventOf(recorded);
  },
  create: ({ collections }) => ({
    async handle(events: readonly RecordedEvent[], session: DocumentSession): Promise<void> {
      // Within a batch the accounts are read in one go and each written once, with the points of
      // its postings.
      const decoded = events
        .filter((recorded) => ACCOUNT_EVENTS.has(recorded.type))
        .map((recorded) => ({ recorded, event: ledgerEventOf(recorded) }));
      const accountIdOf = (event: LedgerEvent): string => (event.data as { accountId: string }).accountId;
      const stored = await session.getMany<AccountBalanceDocument>(collections.accounts!, [
        ...new Set(decoded.map(({ event }) => accountIdOf(event))),
      ]);
      const touched = new Map<string, FoldedAccount | undefined>();
      for (const { recorded, event } of decoded) {
        const accountId = accountIdOf(event);
        let account = touched.get(accountId);
        if (account === undefined && !touched.has(accountId)) {
          const document = stored.get(accountId);
          account = document === undefined ? undefined : folded(document);
          touched.set(accountId, account);
        }
        // Idempotent: an event at or before what the document reflects was applied already.
        if (account !== undefined && account.lastPosition >= recorded.position) continue;
        if (event.type === 'AccountOpened') {
          account = opened(event);
          touched.set(accountId, account);
        } else if (account === undefined) {
          continue;
        } else {
          apply(account, event);
        }
        account.version = recorded.revision;
        account.lastPosition = recorded.position;
        // Business times come from the writers' clocks, which may step back or disagree: an
        // account's times never decrease, so a window over its points ends at the first before it.
        account.updatedAt = laterOf(account.updatedAt, event.metadata.occurredAt);
        if (event.type === 'AccountDebited' || event.type === 'AccountCredited') {
          account.points.push({
            at: account.updatedAt,
            posted: formatMinorUnits(postedOf(account)),
            revision: recorded.revision.toString(),
            position: recorded.position.toString(),
          });
        }
      }
      const accounts = [...touched.values()].filter((account) => account !== undefined);
      await session.putMany(
        collections.points!,
        accounts.flatMap((account) => pointDocuments(account.stored.accountId, account.points)),
      );
      await session.putMany(collections.accounts!, accounts.map(documentOf));
    },
  }),
};

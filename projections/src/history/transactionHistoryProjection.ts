import {
  formatMinorUnits,
  sortableBigint,
  type DocumentSession,
  type LedgerEvent,
  type Movement,
  type RecordedEvent,
  type SearchDocument,
  type SearchSchema,
} from '@folio/shared';
import { ledgerEventOf } from '../ledgerEvents.js';
import type { ProjectionDefinition } from '../runtime/projection.js';

/**
 * Transaction history: one document per money movement (transfer, deposit) with its parties,
 * amount, status and timestamps, as support and finance look it up. It opens when the
 * movement's first leg is posted (in transit) and closes with its outcome.
 */
export type TransactionDocument = {
  _id: string;
  id: string;
  type: string;
  status: 'in_transit' | 'completed' | 'failed';
  fromAccountId: string;
  toAccountId: string;
  amount: string;
  /** Zero-padded form of the amount, so the store orders and pages by it exactly. */
  sortableAmount: string;
  currency: string;
  reference: string | null;
  description: string | null;
  metadata: Record<string, string> | null;
  requestedAt: string;
  endedAt: string | null;
  failureReason: { type: string; detail: string } | null;
  lastPosition: string;
  sortableLastPosition: string;
};

const TRACKED = new Set(['AccountDebited', 'AccountCredited', 'TransferCompleted', 'TransferFailed', 'DepositCompleted', 'DepositFailed']);

const opened = (type: string, id: string, movement: Movement, recorded: RecordedEvent): TransactionDocument => ({
  _id: id,
  id,
  type,
  status: 'in_transit',
  fromAccountId: movement.fromAccountId,
  toAccountId: movement.toAccountId,
  amount: formatMinorUnits(movement.amount),
  sortableAmount: sortableBigint(movement.amount),
  currency: movement.currency,
  reference: movement.reference ?? null,
  description: movement.description ?? null,
  metadata: movement.metadata ?? null,
  requestedAt: movement.requestedAt,
  endedAt: null,
  failureReason: null,
  lastPosition: recorded.position.toString(),
  sortableLastPosition: sortableBigint(recorded.position),
});

/** The movement a history event belongs to, and what it does to its document. */
const changeOf = (
  event: LedgerEvent,
  recorded: RecordedEvent,
): { id: string; apply: (current: TransactionDocument | undefined) => TransactionDocument | undefined } | undefined => {
  const stamp = { lastPosition: recorded.position.toString(), sortableLastPosition: sortableBigint(recorded.position) };
  switch (event.type) {
    case 'AccountDebited':
    case 'AccountCredited': {
      const { journal, movement } = event.data;
      if (journal.leg !== 'first' || movement === undefined) return undefined;
      return { id: journal.id, apply: (current) => current ?? opened(journal.kind, journal.id, movement, recorded) };
    }
    case 'TransferCompleted':
    case 'DepositCompleted': {
      const id = event.type === 'TransferCompleted' ? event.data.transferId : event.data.depositId;
      const { completedAt } = event.data;
      const type = event.type === 'TransferCompleted' ? 'transfer' : 'deposit';
      return {
        id,
        apply: (current) => ({ ...(current ?? opened(type, id, event.data, recorded)), status: 'completed', endedAt: completedAt, ...stamp }),
      };
    }
    case 'TransferFailed':
    case 'DepositFailed': {
      const id = event.type === 'TransferFailed' ? event.data.transferId : event.data.depositId;
      const { failedAt, reason } = event.data;
      const type = event.type === 'TransferFailed' ? 'transfer' : 'deposit';
      return {
        id,
        apply: (current) => ({
          ...(current ?? opened(type, id, event.data, recorded)),
          status: 'failed',
          endedAt: failedAt,
          failureReason: reason,
          ...stamp,
        }),
      };
    }
    default:
      return undefined;
  }
};

/**
 * Folds a batch into the transactions it touches; each document ignores events at or before the
 * position it reflects, which makes a replayed batch a no-op.
 */
export const foldTransactions = async (
  events: readonly RecordedEvent[],
  load: (id: string) => Promise<TransactionDocument | undefined>,
): Promise<Map<string, TransactionDocument>> => {
  const changed = new Map<string, TransactionDocument>();
  for (const recorded of events) {
    if (!TRACKED.has(recorded.type)) continue;
    const change = changeOf(ledgerEventOf(recorded), recorded);
    if (change === undefined) continue;
    const current = changed.get(change.id) ?? (await load(change.id));
    if (current !== undefined && current.sortableLastPosition >= sortableBigint(recorded.position)) continue;
    const next = change.apply(current);
    if (next !== undefined) changed.set(change.id, next);
  }
  return changed;
};

/** What support searches: words in references, descriptions and metadata; exact filters; amounts. */
export const transactionSearchSchema: SearchSchema = {
  fields: {
    type: 'keyword',
    status: 'keyword',
    currency: 'keyword',
    accounts: 'keyword',
    amount: 'amount',
    requestedAt: 'date',
    reference: 'text',
    description: 'text',
    metadata: 'text',
    counterparties: 'text',
  },
};

export const toSearchDocument = (transaction: TransactionDocument): SearchDocument => ({
  id: transaction.id,
  version: BigInt(transaction.lastPosition),
  fields: {
    type: transaction.type,
    status: transaction.status,
    currency: transaction.currency,
    accounts: [transaction.fromAccountId, transaction.toAccountId],
    amount: BigInt(transaction.amount),
    requestedAt: transaction.requestedAt,
    reference: transaction.reference,
    description: transaction.description,
    metadata: transaction.metadata === null ? null : Object.values(transaction.metadata).join(' '),
    counterparties: `${transaction.fromAccountId} ${transaction.toAccountId}`,
  },
});

export const transactionHistoryProjection: ProjectionDefinition = {
  name: 'history',
  version: 1,
  filter: { streamNamePrefixes: ['account-', 'transfer-', 'deposit-'] },
  roles: ['transactions'],
  indexes: { transactions: [['fromAccountId'], ['toAccountId'], ['status'], ['requestedAt']] },
  searchRoles: { transactions: transactionSearchSchema },
  create: ({ collections, searchIndexes, search }) => ({
    async handle(events: readonly RecordedEvent[], session: DocumentSession): Promise<void> {
      const changed = await foldTransactions(events, (id) => session.get<TransactionDocument>(collections.transactions!, id));
      if (changed.size === 0) return;
      // Indexed before the documents commit: if the commit fails the batch is replayed, and the
      // index ignores versions it already has.
      await search?.upsert(searchIndexes.transactions!, [...changed.values()].map(toSearchDocument));
      for (const document of changed.values()) await session.put(collections.transactions!, document);
    },
  }),
};

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
import { paymentEventOf } from '../paymentEvents.js';
import type { HandledBatch, ProjectionDefinition } from '../runtime/projection.js';

/**
 * Transaction history: one document per money movement (transfer, deposit, and the journals of
 * payments and payouts: capture, settlement, fee, refund, payout) with its parties, amount,
 * status and timestamps, as support and finance look it up. It opens when the movement's first
 * leg is posted (in transit) and closes with its outcome. A journal of a payment or payout names
 * it and the provider's reference, so searching a provider reference finds its transactions.
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
  /** The payment or payout a provider journal belongs to. */
  paymentId: string | null;
  payoutId: string | null;
  provider: string | null;
  providerRef: string | null;
  lastPosition: string;
  sortableLastPosition: string;
};

/**
 * What the history knows of a payment or payout: the provider's reference (once submitted) and
 * the journals opened for it, so whichever comes second fills in the other.
 */
export type ProviderReferenceDocument = {
  _id: string;
  providerRef: string | null;
  journalIds: string[];
  lastPosition: string;
  sortableLastPosition: string;
};

const TRACKED = new Set([
  'AccountDebited',
  'AccountCredited',
  'TransferCompleted',
  'TransferFailed',
  'DepositCompleted',
  'DepositFailed',
  'JournalCompleted',
  'JournalFailed',
]);
/** The events that tell the provider's reference of a payment or payout. */
const SUBMITTED = new Set(['PaymentSubmitted', 'PayoutSubmitted']);

/** The key of a payment's or payout's reference document, from a movement's metadata. */
const resourceKeyOf = (metadata: Readonly<Record<string, string>> | null): string | undefined => {
  const { paymentId, payoutId } = metadata ?? {};
  if (paymentId !== undefined) return `payment:${paymentId}`;
  if (payoutId !== undefined) return `payout:${payoutId}`;
  return undefined;
};

/** The position a document reflects once the event is applied: built only for a document that changes. */
const stampOf = (recorded: RecordedEvent) => ({
  lastPosition: recorded.position.toString(),
  sortableLastPosition: sortableBigint(recorded.position),
});

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
  paymentId: movement.metadata?.paymentId ?? null,
  payoutId: movement.metadata?.payoutId ?? null,
  provider: movement.metadata?.provider ?? null,
  providerRef: null,
  ...stampOf(recorded),
});

/** The movement a history event belongs to, and what it does to its document. */
const changeOf = (
  event: LedgerEvent,
  recorded: RecordedEvent,
): { id: string; apply: (current: TransactionDocument | undefined) => TransactionDocument | undefined } | undefined => {
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
        apply: (current) => ({ ...(current ?? opened(type, id, event.data, recorded)), status: 'completed', endedAt: completedAt, ...stampOf(recorded) }),
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
          ...stampOf(recorded),
        }),
      };
    }
    case 'JournalCompleted':
      return {
        id: event.data.journalId,
        apply: (current) => ({
          ...(current ?? opened(event.data.kind, event.data.journalId, event.data, recorded)),
          status: 'completed',
          endedAt: event.data.completedAt,
          ...stampOf(recorded),
        }),
      };
    case 'JournalFailed':
      return {
        id: event.data.journalId,
        apply: (current) => ({
          ...(current ?? opened(event.data.kind, event.data.journalId, event.data, recorded)),
          status: 'failed',
          endedAt: event.data.failedAt,
          failureReason: event.data.reason,
          ...stampOf(recorded),
        }),
      };
    default:
      return undefined;
  }
};

/** Where the fold reads the documents it has not changed in the batch yet. */
export interface HistoryLoader {
  /** Those of `ids` that exist, read in one go. */
  transactions(ids: readonly string[]): Promise<Map<string, TransactionDocument>>;
  transaction(id: string): Promise<TransactionDocument | undefined>;
  reference(key: string): Promise<ProviderReferenceDocument | undefined>;
}

export interface HistoryChanges {
  transactions: Map<string, TransactionDocument>;
  references: Map<string, ProviderReferenceDocument>;
  /**
   * Transactions the batch touched that already reflect it: a replayed batch, whose search index
   * writes may not have landed before the crash that replays it. They are indexed again.
   */
  unchanged: Map<string, TransactionDocument>;
}

/**
 * Folds a batch into the transactions it touches; each document ignores events at or before the
 * position it reflects, which makes a replayed batch a no-op.
 */
export const foldTransactions = async (events: readonly RecordedEvent[], load: HistoryLoader): Promise<HistoryChanges> => {
  const transactions = new Map<string, TransactionDocument>();
  const references = new Map<string, ProviderReferenceDocument>();
  const unchanged = new Map<string, TransactionDocument>();
  // Decoded first, so the transactions the batch's movements touch are read in one go.
  type Decoded =
    | { recorded: RecordedEvent; submitted: ReturnType<typeof paymentEventOf> }
    | { recorded: RecordedEvent; change: NonNullable<ReturnType<typeof changeOf>> };
  const decoded = events.flatMap((recorded): Decoded[] => {
    if (SUBMITTED.has(recorded.type)) return [{ recorded, submitted: paymentEventOf(recorded) }];
    if (!TRACKED.has(recorded.type)) return [];
    const change = changeOf(ledgerEventOf(recorded), recorded);
    return change === undefined ? [] : [{ recorded, change }];
  });
  const prefetchedIds = new Set(decoded.flatMap((item) => ('change' in item ? [item.change.id] : [])));
  const prefetched = await load.transactions([...prefetchedIds]);
  const transactionOf = async (id: string) =>
    transactions.get(id) ?? prefetched.get(id) ?? (prefetchedIds.has(id) ? undefined : await load.transaction(id));
  const referenceOf = async (key: string) => references.get(key) ?? (await load.reference(key));

  /** Gives the transaction its payment's or payout's reference, and the reference its journal. */
  const link = async (transaction: TransactionDocument, key: string, recorded: RecordedEvent) => {
    const reference = (await referenceOf(key)) ?? { _id: key, providerRef: null, journalIds: [], ...stampOf(recorded) };
    if (!reference.journalIds.includes(transaction.id)) {
      references.set(key, { ...reference, journalIds: [...reference.journalIds, transaction.id] });
    }
    return reference.providerRef === null ? transaction : { ...transaction, providerRef: reference.providerRef };
  };

  for (const item of decoded) {
    const { recorded } = item;
    if ('submitted' in item) {
      const event = item.submitted;
      if (event.type !== 'PaymentSubmitted' && event.type !== 'PayoutSubmitted') continue;
      const key = event.type === 'PaymentSubmitted' ? `payment:${event.data.paymentId}` : `payout:${event.data.payoutId}`;
      const current = await referenceOf(key);
      if (current !== undefined && current.sortableLastPosition >= sortableBigint(recorded.position)) {
        for (const journalId of current.journalIds) {
          const transaction = await transactionOf(journalId);
          if (transaction !== undefined) unchanged.set(journalId, transaction);
        }
        continue;
      }
      const { providerRef } = event.data;
      const reference = { _id: key, providerRef, journalIds: current?.journalIds ?? [], ...stampOf(recorded) };
      references.set(key, reference);
      for (const journalId of reference.journalIds) {
        const transaction = await transactionOf(journalId);
        if (transaction !== undefined && transaction.providerRef !== providerRef) {
          transactions.set(journalId, { ...transaction, providerRef, ...stampOf(recorded) });
        }
      }
      continue;
    }
    const { change } = item;
    const current = await transactionOf(change.id);
    if (current !== undefined && current.sortableLastPosition >= sortableBigint(recorded.position)) {
      unchanged.set(change.id, current);
      continue;
    }
    const next = change.apply(current);
    if (next === undefined) continue;
    const key = current === undefined ? resourceKeyOf(next.metadata) : undefined;
    transactions.set(change.id, key === undefined ? next : await link(next, key, recorded));
  }
  for (const id of transactions.keys()) unchanged.delete(id);
  return { transactions, references, unchanged };
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
    payment: 'keyword',
    providerReferences: 'text',
  },
};

/** The words a provider reference search finds a journal by: the reference, the provider, the payment's or payout's id. */
const providerReferencesOf = (transaction: TransactionDocument): string | null => {
  const words = [transaction.providerRef, transaction.provider, transaction.paymentId, transaction.payoutId].filter(
    (word): word is string => word !== null,
  );
  return words.length === 0 ? null : words.join(' ');
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
    payment: transaction.paymentId ?? transaction.payoutId,
    providerReferences: providerReferencesOf(transaction),
  },
});

export const transactionHistoryProjection: ProjectionDefinition = {
  name: 'history',
  // 2: journals of payments and payouts close with their outcome and carry provider references.
  // 3: the embedded search index holds words split as queries split them.
  // 4: the Elasticsearch index does too, and keeps Indic and Thai vowel signs inside their words
  //    (an index's analysis is fixed when it is created: a new version builds a new one).
  // 5: the Elasticsearch index folds case and diacritics character for character as the embedded
  //    one does (`elasticsearchFolding.ts`), so a query finds the same documents on both.
  version: 5,
  filter: { streamNamePrefixes: ['account-', 'transfer-', 'deposit-', 'journal-', 'payment-', 'payout-'] },
  roles: ['transactions', 'references'],
  // No document index: transactions are read by id, and every query by field goes to the search
  // index. Each index would cost every write a B-tree insert (six of them more than doubled it).
  searchRoles: { transactions: transactionSearchSchema },
  prepare: (recorded) => {
    if (SUBMITTED.has(recorded.type)) paymentEventOf(recorded);
    else if (TRACKED.has(recorded.type)) ledgerEventOf(recorded);
  },
  create: ({ collections, searchIndexes, search }) => ({
    async handle(events: readonly RecordedEvent[], session: DocumentSession): Promise<HandledBatch | undefined> {
      const { transactions, references, unchanged } = await foldTransactions(events, {
        transactions: (ids) => session.getMany<TransactionDocument>(collections.transactions!, ids),
        transaction: (id) => session.get<TransactionDocument>(collections.transactions!, id),
        reference: (key) => session.get<ProviderReferenceDocument>(collections.references!, key),
      });
      if (transactions.size === 0 && unchanged.size === 0) {
        if (references.size > 0) await session.putMany(collections.references!, [...references.values()]);
        return;
      }
      // The index writes while the documents are written. If the commit fails the batch is
      // replayed, and the index ignores versions it already has; if the index write is lost (the
      // projector may commit the documents before it lands, never the checkpoint), the replay
      // finds the documents applied and indexes them again.
      const indexed = search?.upsert(
        searchIndexes.transactions!,
        [...transactions.values(), ...unchanged.values()].map(toSearchDocument),
      );
      // Its failure is the projector's to report (it awaits it); until then it must not count as unhandled.
      indexed?.catch(() => undefined);
      try {
        if (references.size > 0) await session.putMany(collections.references!, [...references.values()]);
        if (transactions.size > 0) await session.putMany(collections.transactions!, [...transactions.values()]);
      } catch (error) {
        await indexed?.catch(() => undefined);
        throw error;
      }
      return indexed === undefined ? undefined : { outside: indexed };
    },
  }),
};

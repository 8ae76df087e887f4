/**
 * A transaction as support reads it: its history document, plus the postings its process made
 * on each side and the steps of its lifecycle. Both follow from the document, because a
 * movement's process is fixed (README, "Money movements are processes"): the first leg is
 * posted before anything else, a completed movement posted its second leg, and a failed one
 * reversed its first leg (a movement whose first leg was refused wrote nothing, so it has no
 * history document).
 */
import type { DocumentStore } from '@folio/shared';
import type { ServedVersion } from '@folio/projections';
import { getTransaction, type TransactionView } from './transactionSearch.js';

export interface Posting {
  leg: 'first' | 'second' | 'reversal';
  accountId: string;
  side: 'debit' | 'credit';
  amount: string;
  currency: string;
}

export interface TimelineEntry {
  state: 'requested' | 'in_transit' | 'completed' | 'failed';
  /** `null` while the movement waits in transit. */
  at: string | null;
  detail: string | null;
}

/**
 * A transfer debits its source first (the balance check lives there) and then credits its
 * destination; a deposit credits its account first (it may refuse) and then debits the bank. Of
 * a payment's journals, capture, settlement and fee credit first (the merchant or clearing side)
 * and a refund debits the merchant first; a payout debits its held amount first.
 */
const CREDIT_FIRST = new Set(['deposit', 'capture', 'settlement', 'fee']);

const legsOf = (transaction: TransactionView): { first: Omit<Posting, 'leg'>; second: Omit<Posting, 'leg'> } => {
  const { amount, currency } = transaction;
  const debitSource = { accountId: transaction.fromAccountId, side: 'debit' as const, amount, currency };
  const creditDestination = { accountId: transaction.toAccountId, side: 'credit' as const, amount, currency };
  return CREDIT_FIRST.has(transaction.type)
    ? { first: creditDestination, second: debitSource }
    : { first: debitSource, second: creditDestination };
};

export const movementPostings = (transaction: TransactionView): Posting[] => {
  const { first, second } = legsOf(transaction);
  const postings: Posting[] = [{ leg: 'first', ...first }];
  if (transaction.status === 'completed') postings.push({ leg: 'second', ...second });
  if (transaction.status === 'failed') {
    postings.push({ leg: 'reversal', ...first, side: first.side === 'debit' ? 'credit' : 'debit' });
  }
  return postings;
};

export const movementTimeline = (transaction: TransactionView): TimelineEntry[] => {
  const requested: TimelineEntry = { state: 'requested', at: transaction.requestedAt, detail: null };
  const { first } = legsOf(transaction);
  switch (transaction.status) {
    case 'in_transit':
      return [
        requested,
        {
          state: 'in_transit',
          at: null,
          detail: `the first leg is posted (${first.side} on account ${first.accountId}); the money is in transit until the second leg`,
        },
      ];
    case 'completed':
      return [requested, { state: 'completed', at: transaction.endedAt, detail: null }];
    case 'failed': {
      const reason = transaction.failureReason === null ? 'refused' : `${transaction.failureReason.type}: ${transaction.failureReason.detail}`;
      return [requested, { state: 'failed', at: transaction.endedAt, detail: `${reason}; the first leg was reversed` }];
    }
  }
};

/** `collections`: the history read model's, of the version read. */
export const getTransactionDetail = async (
  documents: DocumentStore,
  collections: ServedVersion['collections'],
  id: string,
) => {
  const transaction = await getTransaction(documents, collections, id);
  return { ...transaction, postings: movementPostings(transaction), timeline: movementTimeline(transaction) };
};

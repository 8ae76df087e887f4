/**
 * Reads of the payments read model: a payment or payout by id, and payments listed by merchant,
 * provider reference or state, in exactly the write API's shape (one process may serve these
 * paths from the streams, another from the read model: a reader cannot tell which). What only
 * the read model keeps (when each state was reached, the refunds, the journals, a summary of the
 * provider's callbacks) is the payment's or payout's activity, at a path of its own.
 */
import { createHash } from 'node:crypto';
import {
  InvalidArgumentError,
  NotFoundError,
  ValidationError,
  type DocumentStore,
  type PaymentStateName,
  type Where,
} from '@folio/shared';
import type { PaymentDocument, PayoutDocument, ServedVersion } from '@folio/projections';

/** The payments read model's collections, of the version read. */
type PaymentsCollections = ServedVersion['collections'];

/** The moves each state allows, as the write API names them. */
const ALLOWED_MOVES: Record<PaymentStateName, readonly string[]> = {
  CREATED: ['submit', 'fail'],
  PENDING: ['capture', 'fail'],
  PAID: ['settle', 'refund'],
  SETTLED: ['refund'],
  FAILED: [],
  REFUNDED: [],
};

/** The states in the order a payment goes through them, for its timeline. */
const STATE_ORDER = ['CREATED', 'PENDING', 'PAID', 'SETTLED', 'FAILED', 'REFUNDED'];
const PAYOUT_STATE_ORDER = ['PENDING', 'SUBMITTED', 'PAID', 'FAILED'];

const timelineOf = (stateTimes: Record<string, string>, order: readonly string[]) =>
  order.filter((state) => stateTimes[state] !== undefined).map((state) => ({ state, at: stateTimes[state]! }));

export const paymentView = (payment: PaymentDocument) => ({
  id: payment.id,
  state: payment.state,
  allowedTransitions: [...(ALLOWED_MOVES[payment.state as PaymentStateName] ?? [])],
  merchantAccountId: payment.merchantAccountId,
  amount: payment.amount,
  currency: payment.currency,
  provider: payment.provider,
  providerRef: payment.providerRef,
  description: payment.description,
  customerRef: payment.customerRef,
  captured: payment.captured,
  refunded: payment.refunded,
  refundable: payment.refundable,
  refundsInFlight: payment.refunds
    .filter(({ state }) => state === 'requested')
    .map(({ refundId, amount }) => ({ refundId, amount })),
  // As the write API answers it: oldest first, each holding off a settlement until its answer is recorded.
  refundsAwaitingProvider: payment.refunds
    .filter(({ state, awaitingProvider }) => state === 'requested' && awaitingProvider === true)
    .sort((a, b) => a.requestedAt.localeCompare(b.requestedAt))
    .map(({ refundId, amount, requestedAt }) => ({ refundId, amount, since: requestedAt })),
  fee: payment.fee,
  net: payment.net,
  failureReason: payment.failureReason,
  flaggedForReconciliation: payment.callbacks.flaggedForReconciliation,
  createdAt: payment.createdAt,
  position: payment.lastPosition,
});

/** How the payment got where it is: states reached, refunds, journals (history ids), callbacks. */
export const paymentActivityView = (payment: PaymentDocument) => ({
  id: payment.id,
  state: payment.state,
  refunds: payment.refunds.map(({ refundId, amount, from, state, at, requestedAt, failureReason }) => ({
    refundId,
    amount,
    from,
    state,
    at,
    requestedAt,
    failureReason,
  })),
  timeline: timelineOf(payment.stateTimes, STATE_ORDER),
  /** The transactions (history ids) of its journals: capture, settlement, fee, and one per refund. */
  journals: {
    capture: payment.journals.capture,
    settlement: payment.journals.settlement,
    fee: payment.journals.fee,
    refunds: payment.refunds.map(({ refundId }) => refundId),
  },
  callbacks: payment.callbacks,
  position: payment.lastPosition,
});

export type PaymentReadView = ReturnType<typeof paymentView>;

export const payoutView = (payout: PayoutDocument) => ({
  id: payout.id,
  state: payout.state,
  accountId: payout.accountId,
  amount: payout.amount,
  currency: payout.currency,
  provider: payout.provider,
  providerRef: payout.providerRef,
  destination: payout.destination,
  requestedAt: payout.requestedAt,
  deadline: payout.deadline,
  failureReason: payout.failureReason,
  timedOut: payout.timedOut,
  flaggedForReconciliation: payout.callbacks.flaggedForReconciliation,
  position: payout.lastPosition,
});

export const payoutActivityView = (payout: PayoutDocument) => ({
  id: payout.id,
  state: payout.state,
  timeline: timelineOf(payout.stateTimes, PAYOUT_STATE_ORDER),
  /** Its journal (a transaction in the history) has the payout's id. */
  journal: payout.state === 'PAID' ? payout.id : null,
  callbacks: payout.callbacks,
  position: payout.lastPosition,
});

export const loadPayment = async (documents: DocumentStore, collections: PaymentsCollections, id: string): Promise<PaymentDocument> => {
  const payment = await documents.get<PaymentDocument>(collections.payments!, id);
  if (payment === undefined) throw new NotFoundError('payment', id, { type: 'payment-not-found' });
  return payment;
};

export const loadPayout = async (documents: DocumentStore, collections: PaymentsCollections, id: string): Promise<PayoutDocument> => {
  const payout = await documents.get<PayoutDocument>(collections.payouts!, id);
  if (payout === undefined) throw new NotFoundError('payout', id, { type: 'payout-not-found' });
  return payout;
};

export interface PaymentFilters {
  merchantAccountId?: string;
  provider?: string;
  providerRef?: string;
  state?: string;
}

export interface PaymentPageRequest {
  filters: PaymentFilters;
  limit: number;
  cursor?: string;
}

const badCursor = (message: string): ValidationError =>
  new ValidationError(`invalid request query: query.cursor: ${message}`, [{ path: 'query.cursor', message }]);

const NOT_OURS = 'not a cursor this API issued: pass the nextCursor of the previous page as it was';

/**
 * Our cursor wraps the store's with a digest of the filters it pages, so a cursor replayed with
 * other filters is refused rather than silently continuing a different list.
 */
const fingerprint = (where: Where): string =>
  createHash('sha256').update(JSON.stringify(Object.entries(where).sort())).digest('base64url').slice(0, 16);

const encodeCursor = (filters: string, after: string): string =>
  Buffer.from(JSON.stringify({ f: filters, a: after }), 'utf8').toString('base64url');

const decodeCursor = (cursor: string, filters: string): string => {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor(NOT_OURS);
  }
  const { f, a } = (typeof body === 'object' && body !== null ? body : {}) as { f?: unknown; a?: unknown };
  if (typeof f !== 'string' || typeof a !== 'string') throw badCursor(NOT_OURS);
  if (f !== filters) throw badCursor('this cursor belongs to a query with other filters: repeat that query to page on');
  return a;
};

/** Payments matching every filter given, newest first (by id, which is time-sortable). */
export const findPayments = async (
  documents: DocumentStore,
  collections: PaymentsCollections,
  { filters, limit, cursor }: PaymentPageRequest,
) => {
  const where: Record<string, string> = {};
  if (filters.merchantAccountId !== undefined) where.merchantAccountId = filters.merchantAccountId;
  if (filters.provider !== undefined) where.provider = filters.provider;
  if (filters.providerRef !== undefined) where.providerRef = filters.providerRef;
  if (filters.state !== undefined) where.state = filters.state;
  const filterId = fingerprint(where);
  const after = cursor === undefined ? undefined : decodeCursor(cursor, filterId);
  let page;
  try {
    page = await documents.find<PaymentDocument>(collections.payments!, {
      where,
      orderBy: { field: 'sortableId', direction: 'desc' },
      limit,
      ...(after === undefined ? {} : { after }),
    });
  } catch (error) {
    if (error instanceof InvalidArgumentError && after !== undefined) throw badCursor(NOT_OURS);
    throw error;
  }
  return {
    items: page.items.map(paymentView),
    nextCursor: page.nextCursor === undefined ? null : encodeCursor(filterId, page.nextCursor),
  };
};

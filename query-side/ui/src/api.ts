/** The read API as the UI calls it: same origin, the signed-in key, JSON in, problem+json errors as `ApiError`. */
import { storedKey } from './session.js';

export interface Transaction {
  id: string;
  type: string;
  status: 'in_transit' | 'completed' | 'failed';
  fromAccountId: string;
  toAccountId: string;
  amount: string;
  currency: string;
  reference: string | null;
  description: string | null;
  metadata: Record<string, string> | null;
  requestedAt: string;
  endedAt: string | null;
  failureReason: { type: string; detail: string } | null;
  /** Set on the journals of a payment or payout. */
  paymentId: string | null;
  payoutId: string | null;
  provider: string | null;
  providerRef: string | null;
}

/** A payment, in the shape both the write and the read API answer. */
export interface Payment {
  id: string;
  state: string;
  merchantAccountId: string;
  amount: string;
  currency: string;
  provider: string;
  providerRef: string | null;
  description: string | null;
  customerRef: string | null;
  captured: string;
  refunded: string;
  refundable: string;
  fee: string | null;
  net: string | null;
  failureReason: string | null;
  flaggedForReconciliation: boolean;
  createdAt: string;
}

export interface PaymentActivity {
  id: string;
  state: string;
  refunds: { refundId: string; amount: string; from: string; state: string; at: string; failureReason: { type: string; detail: string } | null }[];
  timeline: { state: string; at: string }[];
  journals: { capture: string; settlement: string; fee: string; refunds: string[] };
  callbacks: { received: number; flaggedForReconciliation: boolean };
}

export interface PaymentPage {
  items: Payment[];
  nextCursor: string | null;
}

export interface Posting {
  leg: 'first' | 'second' | 'reversal';
  accountId: string;
  side: 'debit' | 'credit';
  amount: string;
  currency: string;
}

export interface TimelineEntry {
  state: string;
  at: string | null;
  detail: string | null;
}

export interface TransactionDetail extends Transaction {
  postings: Posting[];
  timeline: TimelineEntry[];
}

export interface TransactionPage {
  items: Transaction[];
  nextCursor: string | null;
}

export interface Balance {
  accountId: string;
  ownerId: string;
  currency: string;
  kind: string;
  status: string;
  overdraftLimit: string;
  posted: string;
  pending: string;
  available: string;
  updatedAt: string;
  position: string;
}

export interface BalancePoints {
  accountId: string;
  currency: string;
  items: { at: string; posted: string }[];
  truncated: boolean;
}

export interface ProjectionsStatus {
  /** `null` while the log is empty. */
  headPosition: string | null;
  projections: { name: string; lag: string; caughtUp: boolean }[];
}

/** A recorded point (a global position or a time) and/or a business time, as the audit API takes them. */
export interface AuditQuery {
  position?: string;
  asOf?: string;
  effectiveAt?: string;
}

/** An account's figures and latest entries at a point, folded from the log. */
export interface AccountAtPoint {
  accountId: string;
  currency: string;
  kind: string;
  overdraftLimit: string;
  debits: string;
  credits: string;
  balance: string;
  postings: number;
  revision: string;
  position: string;
  entries: {
    revision: string;
    position: string;
    recordedAt: string;
    occurredAt: string;
    side: 'debit' | 'credit';
    amount: string;
    currency: string;
    journal: { id: string; kind: string; leg: string; counterpartyAccountId: string };
    balanceAfter: string;
  }[];
}

export interface TrialBalance {
  /** Position of the last event folded; `null` when the books were empty at the point. */
  position: string | null;
  balanced: boolean;
  currencies: { currency: string; accounts: number; balances: string; inTransit: string; difference: string }[];
  inFlight: { kind: string; id: string; currency: string; inTransit: string; startedAt: string }[];
  eventsFolded: number;
  violations: string[];
}

export interface Currency {
  code: string;
  exponent: number;
}

export interface ReconciliationSummary {
  provider: string;
  currency: string;
  payments: number;
  matched: number;
  awaitingSettlement: number;
  statementRows: number;
  ledgerTotal: string;
  providerTotal: string;
  delta: string;
  open: Record<string, number>;
  openTotal: number;
}

export interface Evidence {
  kind: 'statement-row' | 'ledger-event' | 'statement';
  stream: string;
  position: string;
  type?: string;
  fileHash?: string;
  line?: number;
  statementId?: string;
}

/** A step of the exception workflow: who did it and why, as they wrote it. */
export interface WorkflowEntry {
  action: 'acknowledged' | 'assigned' | 'resolved';
  by: string;
  reason: string;
  at: string;
  position: string;
  assignee?: string;
  resolution?: string;
  journalId?: string;
}

export interface Discrepancy {
  id: string;
  code: string;
  status: 'open' | 'resolved' | 'cleared';
  stage: string;
  assignee: string | null;
  provider: string;
  currency: string | null;
  explanation: string;
  detail: Record<string, string>;
  evidence: Evidence[];
  suggestedAction: string;
  rulesVersion: number;
  foundAt: string;
  history: WorkflowEntry[];
}

/** What a 400 `validation` problem says of each parameter it refuses (`query.q`, say). */
export interface ProblemIssue {
  path: string;
  message: string;
}

interface Problem {
  title?: string;
  detail?: string;
  status?: number;
  errors?: ProblemIssue[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly issues: readonly ProblemIssue[] = [],
  ) {
    super(message);
  }
}

let keyRefused: () => void = () => undefined;

/** Called when the server refuses the key a request carried (revoked, say), so the UI can ask for another. */
export const whenKeyRefused = (handler: () => void): void => {
  keyRefused = handler;
};

const getJson = async <T>(path: string, signal?: AbortSignal): Promise<T> => {
  const key = storedKey();
  const response = await fetch(path, {
    headers: { Accept: 'application/json', ...(key === null ? {} : { Authorization: `Bearer ${key}` }) },
    ...(signal === undefined ? {} : { signal }),
  });
  // Only the key still in use: an answer to a request made before signing in with another is old news.
  if (response.status === 401 && key !== null && key === storedKey()) keyRefused();
  if (!response.ok) {
    const problem = (await response.json().catch(() => ({}))) as Problem;
    throw new ApiError(response.status, problem.detail ?? problem.title ?? `the server answered ${response.status}`, problem.errors ?? []);
  }
  return (await response.json()) as T;
};

const withQuery = (path: string, query: Readonly<Record<string, string | undefined>>): string => {
  const parameters = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') parameters.set(name, value);
  const text = parameters.toString();
  return text === '' ? path : `${path}?${text}`;
};

export const api = {
  currencies: () => getJson<{ items: Currency[] }>('/v1/currencies'),
  projections: () => getJson<ProjectionsStatus>('/v1/projections'),
  searchTransactions: (query: Record<string, string | undefined>, signal?: AbortSignal) =>
    getJson<TransactionPage>(withQuery('/v1/transactions', query), signal),
  transaction: (id: string) => getJson<TransactionDetail>(`/v1/transactions/${encodeURIComponent(id)}`),
  balance: (accountId: string) => getJson<Balance>(`/v1/accounts/${encodeURIComponent(accountId)}/balance`),
  balancePoints: (accountId: string) => getJson<BalancePoints>(`/v1/accounts/${encodeURIComponent(accountId)}/balance-points`),
  payment: (id: string) => getJson<Payment>(`/v1/payments/${encodeURIComponent(id)}`),
  paymentActivity: (id: string) => getJson<PaymentActivity>(`/v1/payments/${encodeURIComponent(id)}/activity`),
  findPayments: (query: Record<string, string | undefined>, signal?: AbortSignal) =>
    getJson<PaymentPage>(withQuery('/v1/payments', query), signal),
  reconciliationSummary: () => getJson<{ items: ReconciliationSummary[] }>('/v1/reconciliation/summary'),
  discrepancies: (query: Record<string, string | undefined>) =>
    getJson<{ items: Discrepancy[]; nextCursor: string | null }>(withQuery('/v1/reconciliation/discrepancies', query)),
  history: (accountId: string, cursor?: string) =>
    getJson<TransactionPage>(withQuery(`/v1/accounts/${encodeURIComponent(accountId)}/history`, { cursor })),
  accountAsOf: (accountId: string, point: AuditQuery) =>
    getJson<AccountAtPoint>(withQuery(`/v1/audit/accounts/${encodeURIComponent(accountId)}/balance`, { ...point })),
  trialBalance: (point: Pick<AuditQuery, 'position' | 'asOf'>) => getJson<TrialBalance>(withQuery('/v1/audit/trial-balance', { ...point })),
};

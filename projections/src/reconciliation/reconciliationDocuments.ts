import type { DiscrepancyCode, Evidence } from './discrepancies.js';
import type { PaymentFacts, RowFacts } from './reconciliationFacts.js';

/** What one subject adds to its provider and currency's summary. */
export interface Contribution {
  key: string;
  provider: string;
  currency: string;
  payments: number;
  matched: number;
  awaitingSettlement: number;
  ledger: string;
  rows: number;
  statement: string;
}

interface SubjectBase {
  _id: string;
  sortableLastPosition: string;
  /** The discrepancies the subject's last evaluation found, by id. */
  findings: Record<string, DiscrepancyCode>;
  contribution?: Contribution;
}

export interface PaymentSubject extends SubjectBase {
  kind: 'payment';
  facts: PaymentFacts;
  /** Row subjects matched to the payment, in match order. */
  rows: string[];
  /** Unmatched rows that list the payment among the several they fit: looked at again once it is taken. */
  ambiguousFor?: string[];
}

export interface RowSubject extends SubjectBase {
  kind: 'row';
  facts: RowFacts;
  /** Captures that the row, waiting, fitted among others: looked at again once it is taken. */
  ambiguousFor?: string[];
}

export interface StatementSubject extends SubjectBase {
  kind: 'statement';
}

export type Subject = PaymentSubject | RowSubject | StatementSubject;

export const discrepancyStatuses = ['open', 'resolved', 'cleared'] as const;
export type DiscrepancyStatus = (typeof discrepancyStatuses)[number];

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

/**
 * A discrepancy as the read API serves it. `open` until resolved through the workflow, or
 * `cleared` when later events removed its cause (the row arrived, the provider restated it).
 */
export interface DiscrepancyDocument {
  _id: string;
  code: DiscrepancyCode;
  status: DiscrepancyStatus;
  stage: 'new' | 'acknowledged' | 'assigned' | 'resolved';
  assignee: string | null;
  provider: string;
  currency: string | null;
  subject: string;
  explanation: string;
  detail: Record<string, string>;
  evidence: Evidence[];
  suggestedAction: string;
  rulesVersion: number;
  /** Log time and position when first found. */
  foundAt: string;
  foundPosition: string;
  sortablePosition: string;
  updatedAt: string;
  history: WorkflowEntry[];
}

export interface SummaryDocument {
  _id: string;
  provider: string;
  currency: string;
  /** Captured payments, and those with their provider row. */
  payments: number;
  matched: number;
  /** Captured payments without a provider row, still inside the grace period. */
  awaitingSettlement: number;
  statementRows: number;
  /** Σ captured − refunded in the ledger, Σ gross of the provider's rows (current versions). */
  ledgerTotal: string;
  providerTotal: string;
  /** ledger − provider. */
  delta: string;
  open: Partial<Record<DiscrepancyCode, number>>;
}

/** The projection's own time: the recorded time of the last event it processed. */
export interface ClockDocument {
  _id: 'clock';
  now: string;
  /** Minutes (ISO, to the minute) with subjects to look at again once they have passed. */
  dueMinutes: string[];
}

export interface DueBucket {
  _id: string;
  chunks: number;
}

export interface DueChunk {
  _id: string;
  subjects: string[];
}

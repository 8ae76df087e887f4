import type { PaymentStateName } from '@folio/shared';
import type { Evidence } from './discrepancies.js';

/** Minor units as a decimal string, with its currency. */
export interface MoneyFact {
  amount: string;
  currency: string;
}

/** What the ledger says about one payment. */
export interface PaymentFacts {
  paymentId: string;
  provider: string;
  currency: string;
  /** The amount the payment was created for. */
  amount: string;
  state: PaymentStateName;
  providerRef?: string;
  submittedAt?: string;
  captured?: string;
  capturedAt?: string;
  fee?: string;
  refunded: string;
  /** The ledger events behind these facts. */
  evidence: Evidence[];
  /** Provider rows that were waiting for this capture and fitted it, more than one: none was chosen. */
  ambiguousRows?: { rowKey: string; evidence: Evidence }[];
}

/** The current version of one statement row, and what its history says. */
export interface RowFacts {
  /** The row's stream: its identity at the provider. */
  stream: string;
  provider: string;
  /** The account of the row's statement, when its format names one (Adyen merchant account). */
  account?: string;
  rowKey: string;
  category: string;
  gross?: MoneyFact;
  fee?: MoneyFact;
  net?: MoneyFact;
  /** The payout batch the row was paid out in (or, for a payout row, the payout it is). */
  payoutId?: string;
  /** The row's own date (transaction, else booking, else value date); a date-time in its file's zone is stored as its UTC instant. */
  date?: string;
  references: { kind: string; value: string }[];
  /** The current version as evidence. */
  evidence: Evidence;
  /** The version the current one replaced, when the provider restated the row. */
  restated?: { changedFields: string[]; previousGross?: MoneyFact; previousFee?: MoneyFact; previous: Evidence };
  /** Repeats of the row's identity inside one file. */
  duplicates: Evidence[];
  /** The payment the row was matched to, and how. */
  match?: { paymentId: string; by: 'reference' | 'payment_id' | 'rule' };
  /** More than one payment fitted the rules: none was chosen. */
  ambiguousCandidates?: string[];
}

/** A payout batch: the payout row and the rows it pays out (current versions). */
export interface PayoutFacts {
  provider: string;
  payoutId: string;
  /** Net of each line, by row stream. */
  lines: Record<string, MoneyFact>;
  payout?: { net: MoneyFact; evidence: Evidence };
  lineEvidence: Evidence[];
}

/** Every class of discrepancy the reconciliation finds. */
export const discrepancyCodes = [
  'PROVIDER_UNMATCHED',
  'INTERNAL_UNMATCHED',
  'DUPLICATE_PROVIDER_ROW',
  'PROVIDER_ROW_RESTATED',
  'DUPLICATE_CHARGE',
  'AMOUNT_MISMATCH',
  'UNIT_EXPONENT_MISMATCH',
  'CURRENCY_MISMATCH',
  'NET_INCONSISTENT',
  'FEE_MISMATCH',
  'STATUS_SUPERSEDED',
  'STALE_PENDING',
  'PAYOUT_LINES_MISMATCH',
  'STATEMENT_GAP',
  'STATEMENT_BALANCE_BREAK',
  'AMBIGUOUS_MATCH',
] as const;
export type DiscrepancyCode = (typeof discrepancyCodes)[number];

/** What finance should do about each class; the provider is the source of truth for its money. */
export const suggestedActions: Readonly<Record<DiscrepancyCode, string>> = {
  PROVIDER_UNMATCHED: 'Find the order behind the provider charge, or book it to suspense and refund the payer.',
  INTERNAL_UNMATCHED: 'Ask the provider for the charge; if it never happened, reverse the capture (write-off).',
  DUPLICATE_PROVIDER_ROW: 'Ask the provider for a corrected file; count the row once.',
  PROVIDER_ROW_RESTATED: 'Review the change; the latest version is the one reconciled.',
  DUPLICATE_CHARGE: 'The payer was charged twice for one payment: refund the extra charge.',
  AMOUNT_MISMATCH: 'Book the difference to suspense and investigate with the provider.',
  UNIT_EXPONENT_MISMATCH: 'An amount was read with the wrong number of decimals: fix the source and re-import.',
  CURRENCY_MISMATCH: 'The provider charged another currency: check the order and the provider account.',
  NET_INCONSISTENT: 'The row does not add up (gross − fee ≠ net): ask the provider for a corrected file.',
  FEE_MISMATCH: 'Book the fee difference to the fees account (write-off) or dispute it with the provider.',
  STATUS_SUPERSEDED: 'The provider outcome contradicts the ledger: follow the provider (refund or reverse).',
  STALE_PENDING: 'Query the provider for the payment outcome and apply it.',
  PAYOUT_LINES_MISMATCH: 'The payout does not equal its lines: ask the provider for the payout breakdown.',
  STATEMENT_GAP: 'Import the missing statements of the sequence.',
  STATEMENT_BALANCE_BREAK: 'The statement does not add up: ask for a corrected statement.',
  AMBIGUOUS_MATCH: 'Several payments fit the row: match it by hand with a provider reference.',
};

/** What a discrepancy points at as proof: the statement rows and ledger events involved. */
export type Evidence =
  | { kind: 'statement-row'; stream: string; position: string; fileHash: string; line: number; versionHash: string }
  | { kind: 'ledger-event'; stream: string; position: string; type: string }
  | { kind: 'statement'; stream: string; position: string; fileHash: string; statementId: string };

/** A discrepancy as the matching engine finds it on one subject (a payment, a row, a statement). */
export interface Finding {
  code: DiscrepancyCode;
  /** What is wrong, for a person. */
  explanation: string;
  /** Facts of the finding (amounts as minor-unit strings). */
  detail: Record<string, string>;
  evidence: Evidence[];
}

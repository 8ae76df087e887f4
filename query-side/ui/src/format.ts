/** Times and labels as the tables show them. */

/** "2026-03-01 10:00:05 UTC": one zone for everyone reading the same record. */
export const formatTime = (iso: string | null): string => {
  if (iso === null) return '—';
  const text = new Date(iso).toISOString();
  return `${text.slice(0, 10)} ${text.slice(11, 19)} UTC`;
};

export const STATUS_LABELS: Record<string, string> = {
  in_transit: 'In transit',
  completed: 'Completed',
  failed: 'Failed',
};

export const TYPE_LABELS: Record<string, string> = {
  transfer: 'Transfer',
  deposit: 'Deposit',
  capture: 'Payment capture',
  settlement: 'Payment settlement',
  fee: 'Provider fee',
  refund: 'Refund',
  payout: 'Payout',
  correction: 'Correction',
};

export const PAYMENT_STATE_LABELS: Record<string, string> = {
  CREATED: 'Created',
  PENDING: 'Pending',
  PAID: 'Paid',
  SETTLED: 'Settled',
  FAILED: 'Failed',
  REFUNDED: 'Refunded',
};

export const labelOf = (labels: Record<string, string>, value: string): string => labels[value] ?? value;

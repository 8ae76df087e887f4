import type { ReconciliationRules } from './reconciliationRules.js';
import type { RowFacts } from './reconciliationFacts.js';

/** The keys a row can be matched by, strongest first: payment ids it carries, then provider references. */
export const matchKeysOf = (row: Pick<RowFacts, 'references'>, rules: ReconciliationRules): { by: 'payment_id' | 'reference'; value: string }[] => {
  const keys: { by: 'payment_id' | 'reference'; value: string }[] = [];
  for (const kind of rules.paymentIdReferenceKinds)
    for (const reference of row.references) if (reference.kind === kind) keys.push({ by: 'payment_id', value: reference.value });
  for (const kind of rules.referenceKinds)
    for (const reference of row.references) if (reference.kind === kind) keys.push({ by: 'reference', value: reference.value });
  return keys;
};

/** A captured payment still waiting for its provider row, as the rules see it. */
export interface RuleCandidate {
  paymentId: string;
  provider: string;
  amount: string;
  currency: string;
  capturedAt: string;
}

export type RuleMatch = { kind: 'none' } | { kind: 'one'; paymentId: string } | { kind: 'ambiguous'; paymentIds: string[] };

/** A statement date as an instant; a date or a date-time without an offset is read as UTC. */
export const instantOf = (date: string): number =>
  Date.parse(date.length === 10 ? `${date}T00:00:00Z` : /(Z|[+-]\d{2}:\d{2})$/.test(date) ? date : `${date}Z`);

const absolute = (value: bigint): bigint => (value < 0n ? -value : value);

/**
 * Matches a row that no reference tied to a payment by provider, amount and currency (exact, or
 * within the tolerance) and date window. Two or more candidates are reported, never guessed between.
 * The provider holds the money it reports: its row is never for a payment made through another.
 */
export const matchByRules = (row: Pick<RowFacts, 'provider' | 'gross' | 'date'>, candidates: readonly RuleCandidate[], rules: ReconciliationRules): RuleMatch => {
  if (row.gross === undefined || row.date === undefined) return { kind: 'none' };
  const gross = BigInt(row.gross.amount);
  const rowTime = instantOf(row.date);
  const fitting = candidates.filter(
    (candidate) =>
      candidate.provider === row.provider &&
      candidate.currency === row.gross!.currency &&
      absolute(BigInt(candidate.amount) - gross) <= BigInt(rules.amountToleranceMinorUnits) &&
      Math.abs(Date.parse(candidate.capturedAt) - rowTime) <= rules.dateWindowMs,
  );
  const ids = [...new Set(fitting.map((candidate) => candidate.paymentId))].sort();
  if (ids.length === 0) return { kind: 'none' };
  if (ids.length === 1) return { kind: 'one', paymentId: ids[0]! };
  return { kind: 'ambiguous', paymentIds: ids };
};

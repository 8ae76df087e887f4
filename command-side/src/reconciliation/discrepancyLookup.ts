import type { DiscrepancyCode, DiscrepancyStatus } from '@folio/projections';

/** A discrepancy as the reconciliation read model knows it: what the workflow checks a request against. */
export interface KnownDiscrepancy {
  code: DiscrepancyCode;
  status: DiscrepancyStatus;
  provider: string;
  /** `null` when its evidence names no currency (a row without amounts, a statement without balances). */
  currency: string | null;
  /** Facts of the finding, amounts as minor-unit strings (which depend on its code). */
  detail: Readonly<Record<string, string>>;
}

/**
 * The write side's view of the discrepancies the reconciliation projection found: the workflow
 * acts only on a discrepancy the read side can explain. `undefined` for an id it does not know.
 */
export type DiscrepancyLookup = (discrepancyId: string) => Promise<KnownDiscrepancy | undefined>;

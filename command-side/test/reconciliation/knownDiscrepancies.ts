import type { DiscrepancyLookup, KnownDiscrepancy } from '../../src/reconciliation/discrepancyLookup.js';

/** An open ghost charge of 10.00 EUR through the sandbox: what a test's discrepancy is unless it says otherwise. */
const ghostCharge: KnownDiscrepancy = {
  code: 'PROVIDER_UNMATCHED',
  status: 'open',
  provider: 'sandbox',
  currency: 'EUR',
  detail: { rowKey: 'txn_ghost', gross: '1000', currency: 'EUR' },
};

/**
 * The read model's view of the discrepancies a test works on, by id, for a write API that runs
 * without projections. Ids it does not list are unknown; it is read at each lookup, so a test may
 * change what the read model shows.
 */
export const knownDiscrepancies =
  (known: Record<string, Partial<KnownDiscrepancy>>): DiscrepancyLookup =>
  async (discrepancyId) => {
    const fields = Object.hasOwn(known, discrepancyId) ? known[discrepancyId] : undefined;
    return fields === undefined ? undefined : { ...ghostCharge, ...fields };
  };

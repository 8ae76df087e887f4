import { ledgerCatalog, type LedgerEvent, type RecordedEvent } from '@folio/shared';

const decoded = new WeakMap<RecordedEvent, LedgerEvent>();

/**
 * The ledger event a recorded event holds, validated by the catalog once: the projections run
 * from one subscription share each recorded event, so the second projection to read it gets the
 * first one's result.
 */
export const ledgerEventOf = (recorded: RecordedEvent): LedgerEvent => {
  let event = decoded.get(recorded);
  if (event === undefined) {
    event = ledgerCatalog.decode(recorded) as LedgerEvent;
    decoded.set(recorded, event);
  }
  return event;
};

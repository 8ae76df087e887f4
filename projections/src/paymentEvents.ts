import { paymentCatalog, type PaymentCatalogEvent, type RecordedEvent } from '@folio/shared';

const decoded = new WeakMap<RecordedEvent, PaymentCatalogEvent>();

/**
 * The payment, payout or provider reference event a recorded event holds, validated by the
 * catalog once for every read model the subscription feeds (as `ledgerEventOf` does for the
 * ledger).
 */
export const paymentEventOf = (recorded: RecordedEvent): PaymentCatalogEvent => {
  let event = decoded.get(recorded);
  if (event === undefined) {
    event = paymentCatalog.decode(recorded) as PaymentCatalogEvent;
    decoded.set(recorded, event);
  }
  return event;
};

/** True for the events of `paymentCatalog` (payments, payouts, provider references). */
export const isPaymentEventType = (type: string): boolean => paymentCatalog.definitionOf(type) !== undefined;

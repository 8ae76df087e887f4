import { collect, paymentCatalog, paymentStream, type EventStore } from '@folio/shared';

/**
 * What a payment was created with (its provider, currency, merchant account...), from the first
 * event of its stream: for followers of the log whose events do not carry them.
 */
export const readPaymentCreation = async (eventStore: EventStore, paymentId: string) => {
  const [first] = await collect(eventStore.readStream(paymentStream(paymentId), { maxCount: 1 }));
  const created = first === undefined ? undefined : paymentCatalog.decode(first);
  if (created?.type !== 'PaymentCreated') throw new Error(`payment ${paymentId} does not start with PaymentCreated`);
  return created.data;
};

import { decorateEventStore } from '../../src/eventStore/decorateEventStore.js';
import { runsOfOne, type EventStore, type Subscription, type SubscriptionMessage } from '../../src/index.js';

/**
 * `eventStore` whose subscriptions to the log go live at once, then, once `fallBehind` is called,
 * report they fell behind and deliver nothing more: a server whose credential subscription lags
 * (a busy log, a dropped connection catching up) and has not reached the latest events yet.
 */
export const lagging = (eventStore: EventStore) => {
  let fallBehind!: () => void;
  const behind = new Promise<void>((resolve) => (fallBehind = resolve));
  const subscribeToAll = (): Subscription => {
    let unsubscribed!: () => void;
    const ended = new Promise<void>((resolve) => (unsubscribed = resolve));
    async function* messages(): AsyncGenerator<SubscriptionMessage> {
      yield { kind: 'caughtUp', position: undefined };
      if (await Promise.race([behind.then(() => true), ended.then(() => false)])) yield { kind: 'fellBehind' };
      await ended;
    }
    const iterator = messages();
    return { [Symbol.asyncIterator]: () => iterator, runs: () => runsOfOne(iterator), unsubscribe: async () => unsubscribed() };
  };
  return { store: decorateEventStore(eventStore, { subscribeToAll }), fallBehind };
};

import type { EventStore } from '../eventStore/eventStore.js';
import { compensationEventTypes } from '../ledger/compensations.js';
import type { Metrics } from './metrics.js';

/**
 * The event store with its appends measured: latency until durable, events by type, and the
 * compensations among them. Everything else passes through untouched.
 */
export const instrumentEventStore = <Store extends EventStore>(eventStore: Store, metrics: Metrics): Store => {
  const appendToStream: EventStore['appendToStream'] = async (streamName, events, options) => {
    const stop = metrics.appendDuration.startTimer();
    try {
      const result = await eventStore.appendToStream(streamName, events, options);
      stop({ outcome: 'appended' });
      for (const { type } of events) {
        metrics.eventsAppended.inc({ type });
        if (compensationEventTypes.has(type)) metrics.compensations.inc({ type });
      }
      return result;
    } catch (error) {
      stop({ outcome: 'refused' });
      throw error;
    }
  };
  const bound = new Map<PropertyKey, unknown>([['appendToStream', appendToStream]]);
  return new Proxy(eventStore, {
    get(target, property) {
      if (bound.has(property)) return bound.get(property);
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      // Bound to the real store, so adapters with private state keep working behind the proxy.
      const method = (value as (...args: unknown[]) => unknown).bind(target);
      bound.set(property, method);
      return method;
    },
  });
};

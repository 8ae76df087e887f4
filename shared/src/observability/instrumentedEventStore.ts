import { decorateEventStore } from '../eventStore/decorateEventStore.js';
import { WrongExpectedRevisionError } from '../eventStore/errors.js';
import type { EventStore } from '../eventStore/eventStore.js';
import { compensationEventTypes } from '../ledger/compensations.js';
import type { Metrics } from './metrics.js';

/**
 * The event store with its appends measured: latency until durable (by outcome: `appended`,
 * `conflict` for a stream not at the expected revision, `refused` for any other failure), events by
 * type, and the compensations among them. Everything else passes through untouched.
 */
export const instrumentEventStore = <Store extends EventStore>(eventStore: Store, metrics: Metrics): Store => {
  const appendToStream: EventStore['appendToStream'] = async (streamName, events, options) => {
    const stop = metrics.appendDuration.startTimer();
    try {
      const result = await eventStore.appendToStream(streamName, events, options);
      stop({ outcome: 'appended' });
      // A repeat of an earlier append (a retried command) stored nothing: its events were counted then.
      if (result.written === false) return result;
      for (const { type } of events) {
        metrics.eventsAppended.inc({ type });
        if (compensationEventTypes.has(type)) metrics.compensations.inc({ type });
      }
      return result;
    } catch (error) {
      // A conflict is expected under concurrency, and retried: it must not read as the store failing.
      stop({ outcome: error instanceof WrongExpectedRevisionError ? 'conflict' : 'refused' });
      throw error;
    }
  };
  return decorateEventStore(eventStore, { appendToStream });
};

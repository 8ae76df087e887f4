import {
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type RecordedEvent,
  type SubscribeToAllOptions,
  type Subscription,
  type SubscriptionMessage,
} from '@folio/shared';
import type { CommandContext } from '../../src/commandHandling/decider.js';

export { openTempStore, type TempStore } from '../tempEventStore.js';
export { rejectionOf } from '@folio/shared/testing';

export interface AppendCall {
  streamName: string;
  events: readonly EventToAppend[];
  options: AppendOptions | undefined;
}

/** The store with every append routed through `intercept`, which decides whether to `proceed`. */
export const interceptAppends = (
  store: EventStore,
  intercept: (call: AppendCall, proceed: () => Promise<AppendResult>) => Promise<AppendResult>,
): EventStore =>
  new Proxy(store, {
    get(target, property) {
      if (property === 'appendToStream') {
        return (streamName: string, events: readonly EventToAppend[], options?: AppendOptions) =>
          intercept({ streamName, events, options }, () => target.appendToStream(streamName, events, options));
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

/** The store, and the list of the appends made through it (attempted ones included). */
export const recordAppends = (store: EventStore): { store: EventStore; calls: AppendCall[] } => {
  const calls: AppendCall[] = [];
  return {
    store: interceptAppends(store, (call, proceed) => {
      calls.push(call);
      return proceed();
    }),
    calls,
  };
};

/**
 * The store, and the position every `$all` subscription made through it started from (only those
 * `which` picks, by their options: a fold's filter tells whose it is).
 */
export const recordSubscriptions = (
  store: EventStore,
  which: (options: SubscribeToAllOptions | undefined) => boolean = () => true,
): { store: EventStore; from: Array<SubscribeToAllOptions['fromPosition']> } => {
  const from: Array<SubscribeToAllOptions['fromPosition']> = [];
  return {
    store: new Proxy(store, {
      get(target, property) {
        if (property === 'subscribeToAll') {
          return (options?: SubscribeToAllOptions) => {
            if (which(options)) from.push(options?.fromPosition);
            return target.subscribeToAll(options);
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }),
    from,
  };
};

/**
 * The store, with every `$all` subscription `which` picks (by its options: a fold's filter tells
 * whose it is) stopped just before the first event `held` picks until `release`: a fold lagging
 * behind the log (a busy process) for as long as a test needs. `reached` resolves once one has
 * delivered everything before that event.
 */
export const holdSubscriptionsBefore = (
  store: EventStore,
  held: (event: RecordedEvent) => boolean,
  which: (options: SubscribeToAllOptions | undefined) => boolean = () => true,
): { store: EventStore; reached: Promise<void>; release: () => void } => {
  let reach!: () => void;
  const reached = new Promise<void>((resolve) => (reach = resolve));
  let open = false;
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = () => {
      open = true;
      resolve();
    };
  });
  const holding = (subscription: Subscription): Subscription => {
    const source = subscription.runs();
    async function* runs(): AsyncGenerator<readonly SubscriptionMessage[]> {
      for await (const run of { [Symbol.asyncIterator]: () => source }) {
        const at = open ? -1 : run.findIndex((message) => message.kind === 'event' && held(message.event));
        if (at < 0) {
          yield run;
          continue;
        }
        if (at > 0) yield run.slice(0, at);
        reach();
        await released;
        yield run.slice(at);
      }
    }
    const heldRuns = runs();
    async function* messages(): AsyncGenerator<SubscriptionMessage> {
      for await (const run of { [Symbol.asyncIterator]: () => heldRuns }) yield* run;
    }
    const heldMessages = messages();
    return {
      [Symbol.asyncIterator]: () => heldMessages,
      runs: () => heldRuns,
      unsubscribe: () => subscription.unsubscribe(),
    };
  };
  return {
    store: new Proxy(store, {
      get(target, property) {
        if (property === 'subscribeToAll') {
          return (options?: SubscribeToAllOptions) =>
            which(options) ? holding(target.subscribeToAll(options)) : target.subscribeToAll(options);
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }),
    reached,
    release,
  };
};

export const NOW = new Date('2025-03-01T10:00:00.000Z');

export const contextFor = (commandId: string): CommandContext => ({
  commandId,
  correlationId: `correlation-${commandId}`,
  actor: 'test',
  now: NOW,
});

/** Resolves to the rejection of `promise`, failing when it fulfils. */

/** A clock the test moves forward (`advance`) and sets back to real time (`reset`, in a `beforeEach`). */
export const steppedClock = () => {
  let offsetMs = 0;
  return {
    clock: (): Date => new Date(Date.now() + offsetMs),
    advance: (ms: number): void => {
      offsetMs += ms;
    },
    reset: (): void => {
      offsetMs = 0;
    },
  };
};

/** A recovery's periodic check that never fires: the test runs every pass itself. */
export const noPeriodicCheck = () => () => {};

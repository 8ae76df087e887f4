import {
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type SubscribeToAllOptions,
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

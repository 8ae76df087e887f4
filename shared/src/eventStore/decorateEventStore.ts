import type { EventStore } from './eventStore.js';

/**
 * The store with some of its methods replaced and every other one passed through, bound to the
 * real store so that adapters with private state keep working behind the decoration.
 */
export const decorateEventStore = <Store extends EventStore>(eventStore: Store, overrides: Partial<EventStore>): Store => {
  const bound = new Map<PropertyKey, unknown>(Object.entries(overrides));
  return new Proxy(eventStore, {
    get(target, property) {
      if (bound.has(property)) return bound.get(property);
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const method = (value as (...args: unknown[]) => unknown).bind(target);
      bound.set(property, method);
      return method;
    },
  });
};

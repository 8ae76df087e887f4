import type { EventStore } from '../eventStore/eventStore.js';

/** How the contract suite gets a store of the adapter under test. */
export interface EventStoreContractFactory {
  /** Adapter name shown in the suite title, e.g. `'sqlite'`. */
  name: string;
  /**
   * A store to test against. For a real server this may share one database across tests, so
   * tests use unique stream names and never assume the log is empty.
   */
  create(): Promise<EventStore>;
  /**
   * Forces the store to drop every open subscription with an error, when the adapter can do
   * that (the embedded one can). The suite uses it to prove resubscribe-from-checkpoint.
   */
  dropSubscriptions?(store: EventStore): void;
}

export { openTempStore, type TempStore } from '../tempEventStore.js';
export { rejectionOf } from '@folio/shared/testing';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

export const deferred = <T = void>(): Deferred<T> => {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
};

/** Waits until `condition` holds, polling; fails after `timeoutMs`. */
export const eventually = async (condition: () => boolean, timeoutMs = 5_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

/** Resolves to the rejection of `promise`, failing when it fulfils. */

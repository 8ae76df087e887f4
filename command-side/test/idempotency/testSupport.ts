import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteEventStore, type SqliteEventStore } from '@folio/shared';

export interface TempEventStore {
  path: string;
  eventStore: SqliteEventStore;
  /** Another handle on the same file, as a second process would open it. */
  openAnother(): SqliteEventStore;
  dispose(): Promise<void>;
}

export const openTempEventStore = (): TempEventStore => {
  const directory = mkdtempSync(join(tmpdir(), 'folio-idem-'));
  const path = join(directory, 'events.sqlite');
  const handles: SqliteEventStore[] = [openSqliteEventStore({ path })];
  return {
    path,
    eventStore: handles[0]!,
    openAnother: () => {
      const handle = openSqliteEventStore({ path });
      handles.push(handle);
      return handle;
    },
    dispose: async () => {
      await Promise.all(handles.map((handle) => handle.close()));
      rmSync(directory, { recursive: true, force: true });
    },
  };
};

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
export const rejectionOf = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
};

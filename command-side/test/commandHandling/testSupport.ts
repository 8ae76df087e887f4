import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  openSqliteEventStore,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type EventToAppend,
  type SqliteEventStore,
} from '@folio/shared';
import type { CommandContext } from '../../src/commandHandling/decider.js';

export interface TempStore {
  store: SqliteEventStore;
  /** Another connection to the same file, as a second process would open it. */
  openAnother(): SqliteEventStore;
  dispose(): Promise<void>;
}

export const openTempStore = (): TempStore => {
  const directory = mkdtempSync(join(tmpdir(), 'folio-command-'));
  const path = join(directory, 'events.sqlite');
  const handles = [openSqliteEventStore({ path })];
  return {
    store: handles[0]!,
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

export const NOW = new Date('2025-03-01T10:00:00.000Z');

export const contextFor = (commandId: string): CommandContext => ({
  commandId,
  correlationId: `correlation-${commandId}`,
  actor: 'test',
  now: NOW,
});

/** Resolves to the rejection of `promise`, failing when it fulfils. */
export const rejectionOf = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
};

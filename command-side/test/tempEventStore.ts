import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteEventStore, type SqliteEventStore } from '@folio/shared';

export interface TempStore {
  path: string;
  store: SqliteEventStore;
  /** Another connection to the same file, as a second process would open it. */
  openAnother(): SqliteEventStore;
  dispose(): Promise<void>;
}

/** A SQLite event store in a fresh temp directory; `clock` stamps commit times (`created`). */
export const openTempStore = (clock?: () => Date): TempStore => {
  const directory = mkdtempSync(join(tmpdir(), 'folio-command-'));
  const path = join(directory, 'events.sqlite');
  const open = () => openSqliteEventStore({ path, ...(clock ? { clock } : {}) });
  const handles = [open()];
  return {
    path,
    store: handles[0]!,
    openAnother: () => {
      const handle = open();
      handles.push(handle);
      return handle;
    },
    dispose: async () => {
      await Promise.all(handles.map((handle) => handle.close()));
      rmSync(directory, { recursive: true, force: true });
    },
  };
};

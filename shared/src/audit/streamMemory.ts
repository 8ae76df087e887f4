/**
 * What a verification keeps per stream, for as many streams as a log holds: the streams written
 * most recently in memory, the others in a private temporary SQLite database (a file SQLite deletes
 * when it is closed), so a log of tens of millions of streams is verified in bounded memory.
 */
import Database from 'better-sqlite3';

/** About 300 bytes each in memory: a few hundred MiB at most before streams go to disk. */
export const STREAMS_IN_MEMORY = 1_000_000;

export interface StreamMemory<Value> {
  get(streamName: string): Value | undefined;
  set(streamName: string, value: Value): void;
  /** Deletes the temporary database, if streams went to disk. */
  close(): void;
}

export interface StreamValueCodec<Value> {
  encode(value: Value): string;
  decode(text: string): Value;
}

export const createStreamMemory = <Value>(codec: StreamValueCodec<Value>, inMemory = STREAMS_IN_MEMORY): StreamMemory<Value> => {
  if (!Number.isInteger(inMemory) || inMemory < 1) throw new RangeError(`streams kept in memory must be a positive integer, got ${inMemory}`);
  /** In the order they were last written: the least recently written go to disk first. */
  const recent = new Map<string, Value>();
  let onDisk:
    | { db: Database.Database; select: Database.Statement<[string], string>; spill: (count: number) => void }
    | undefined;

  const openDisk = () => {
    // An empty file name: a temporary database of its own, never shared, removed on close.
    const db = new Database('');
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.exec('CREATE TABLE streams (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID');
    const upsert = db.prepare<[string, string]>('INSERT INTO streams (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value');
    return {
      db,
      select: db.prepare<[string], string>('SELECT value FROM streams WHERE name = ?').pluck(),
      spill: db.transaction((count: number) => {
        let left = count;
        for (const [name, value] of recent) {
          if (left-- === 0) break;
          upsert.run(name, codec.encode(value));
          recent.delete(name);
        }
      }),
    };
  };

  return {
    get(streamName) {
      const value = recent.get(streamName);
      if (value !== undefined || onDisk === undefined) return value;
      const stored = onDisk.select.get(streamName);
      return stored === undefined ? undefined : codec.decode(stored);
    },
    set(streamName, value) {
      recent.delete(streamName);
      recent.set(streamName, value);
      if (recent.size <= inMemory) return;
      onDisk ??= openDisk();
      // Half at a time, in one transaction: one disk write per many streams.
      onDisk.spill(Math.max(1, Math.floor(recent.size / 2)));
    },
    close() {
      onDisk?.db.close();
      onDisk = undefined;
    },
  };
};

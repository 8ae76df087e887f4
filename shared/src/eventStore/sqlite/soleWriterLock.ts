import Database from 'better-sqlite3';
import { FolioError } from '../../errors/folioError.js';

/** Another process already holds the lock: it runs the write API on the same embedded log. */
export class SoleWriterLockHeldError extends FolioError {
  readonly type = 'sole-writer-lock-held';
  readonly status = 503;

  constructor(readonly path: string) {
    super(`another process runs the write API on this data directory (${path} is locked); the embedded store takes one`);
  }
}

/**
 * Proof that this process is the only one running the write API on an embedded log: the write
 * side then takes over an idempotency claim of another process at once (it can only be from a
 * run that crashed). The proof is an exclusive SQLite lock on a small file beside the log, which
 * is the operating system's and goes with the process however it ends, a SIGKILL too.
 */
export const holdSoleWriterLock = (path: string): { release(): void } => {
  const lock = new Database(path, { timeout: 0 });
  try {
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    lock.close();
    if ((error as { code?: unknown }).code === 'SQLITE_BUSY') throw new SoleWriterLockHeldError(path);
    throw error;
  }
  return {
    release: () => {
      if (lock.open) lock.close();
    },
  };
};

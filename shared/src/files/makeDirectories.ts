import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Creates `directory` and its missing parents one level at a time, failing at the first that cannot
 * be created: Node 20's recursive mkdir retries forever where a parent exists yet takes no new
 * directories (under /proc), so a data directory or export named there would hang its process.
 */
export const makeDirectories = (directory: string): void => {
  const missing: string[] = [];
  for (let path = resolve(directory); !existsSync(path) && path !== dirname(path); path = dirname(path)) missing.unshift(path);
  for (const path of missing) {
    try {
      mkdirSync(path);
    } catch (error) {
      // Created meanwhile (another process beside this one) serves as well.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(path).isDirectory()) throw error;
    }
  }
};

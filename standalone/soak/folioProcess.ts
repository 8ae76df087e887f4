import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SOAK_ADMIN_KEY } from './httpCall.js';

/** The repository root, found from wherever the compiled file lives (dist, dist-…). */
export const repositoryRoot = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'tsconfig.base.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no repository root above ${import.meta.url}`);
    dir = parent;
  }
  return dir;
})();

/** What `npm start` runs, from the normal build. */
export const standaloneMain = join(repositoryRoot, 'standalone', 'dist', 'src', 'main.js');

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

export interface FolioProcess {
  child: ChildProcess;
  base: string;
  exit: Promise<Exit>;
  /** Its stdout and stderr lines, quoted when something goes wrong. */
  output: string[];
}

export const within = async <T>(promise: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
};

/**
 * Starts the whole system as `npm start` does, on `dataDir` and the embedded stores, and resolves
 * once it listens (after it has finished the movements a crash interrupted).
 */
export const startFolioProcess = async (
  dataDir: string,
  { environment = {}, startTimeoutMs = 15_000 }: { environment?: Record<string, string>; startTimeoutMs?: number } = {},
): Promise<FolioProcess> => {
  const child = spawn(process.execPath, [standaloneMain], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      FOLIO_DATA_DIR: dataDir,
      EVENTSTORE_URL: '',
      MONGO_URL: '',
      ELASTIC_URL: '',
      FOLIO_BOOTSTRAP_ADMIN_KEY: SOAK_ADMIN_KEY,
      ...environment,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exit = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  createInterface({ input: child.stderr! }).on('line', (line) => output.push(`stderr: ${line}`));
  const listening = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === 'folio listening' && typeof entry.port === 'number') resolve(entry.port);
      } catch {
        // Not every line has to be ours.
      }
    });
    void exit.then(({ code, signal }) =>
      reject(new Error(`folio exited before listening (code ${code}, signal ${signal}):\n${output.join('\n')}`)),
    );
  });
  try {
    const port = await within(listening, startTimeoutMs, 'folio to listen');
    return { child, base: `http://127.0.0.1:${port}`, exit, output };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
};

export const killHard = async (folio: FolioProcess, timeoutMs = 10_000): Promise<void> => {
  folio.child.kill('SIGKILL');
  await within(folio.exit, timeoutMs, 'folio to die of SIGKILL');
};

export const stopGracefully = async (folio: FolioProcess, timeoutMs = 10_000): Promise<Exit> => {
  folio.child.kill('SIGTERM');
  return within(folio.exit, timeoutMs, 'folio to stop on SIGTERM');
};

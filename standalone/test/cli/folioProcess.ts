import { spawn } from 'node:child_process';

const cli = new URL('../../src/cli/folioCli.js', import.meta.url).pathname;

export interface FolioRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `folio` command as an operator would, on the embedded stores in `dataDir`, with
 * no production store configured; `env` adds to or overrides the process's environment.
 */
export const runFolio = (dataDir: string, args: readonly string[], env: Record<string, string> = {}): Promise<FolioRun> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: { ...process.env, FOLIO_DATA_DIR: dataDir, EVENTSTORE_URL: '', MONGO_URL: '', ELASTIC_URL: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });

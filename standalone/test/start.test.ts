import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'chai';

const mainScript = new URL('../src/main.js', import.meta.url);

/** Starts the whole system as `npm start` does and resolves with its port once it listens. */
const startFolio = (dataDir: string): Promise<{ child: ChildProcess; port: number; lines: string[] }> => {
  const child = spawn(process.execPath, [mainScript.pathname], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', FOLIO_DATA_DIR: dataDir, EVENTSTORE_URL: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`folio exited early with code ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      const entry = JSON.parse(line) as { msg: string; port?: number };
      if (entry.msg === 'folio listening') resolve({ child, port: entry.port!, lines });
    });
  });
};

describe('npm start: the whole system on the embedded default', function () {
  this.timeout(20_000);

  it('creates its data directory on first run, answers /healthz, offers the demo, and stops cleanly on SIGTERM', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'folio-start-')), 'nested', 'data');
    const { child, port, lines } = await startFolio(dataDir);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(response.status).to.equal(200);
      const body = (await response.json()) as { status: string; version: string; eventStore: { kind: string } };
      expect(body.status).to.equal('ok');
      expect(body.version).to.match(/^\d+\.\d+\.\d+/);
      expect(body.eventStore.kind).to.equal('sqlite');
      expect(existsSync(join(dataDir, 'events.sqlite')), 'event log file in the data directory').to.equal(true);
      expect(existsSync(join(dataDir, 'readmodels.sqlite')), 'read models file in the data directory').to.equal(true);
      const hint = lines.map((line) => JSON.parse(line) as { msg: string; demo?: string }).find((entry) => entry.msg.includes('npm run demo'));
      expect(hint?.demo, 'how to fill the empty ledger').to.equal(`FOLIO_URL=http://localhost:${port} npm run demo`);
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(page.status, 'the UI at /').to.equal(200);
    } finally {
      child.removeAllListeners('exit');
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited, 'exit code after SIGTERM').to.equal(0);
    }
  });
});

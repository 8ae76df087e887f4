import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'chai';

const mainScript = new URL('../src/main.js', import.meta.url);

/** Starts the whole system as `npm start` does and resolves with its port once it listens. */
const startFolio = (dataDir: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; port: number }> => {
  const child = spawn(process.execPath, [mainScript.pathname], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', FOLIO_DATA_DIR: dataDir, EVENTSTORE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`folio exited early with code ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg: string; port?: number };
      if (entry.msg === 'folio listening') resolve({ child, port: entry.port! });
    });
  });
};

describe('npm start: the whole system on the embedded default', function () {
  this.timeout(20_000);

  it('creates its data directory on first run, answers /healthz, and stops cleanly on SIGTERM', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'folio-start-')), 'nested', 'data');
    const { child, port } = await startFolio(dataDir);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(response.status).to.equal(200);
      const body = (await response.json()) as { status: string; version: string; eventStore: { kind: string } };
      expect(body.status).to.equal('ok');
      expect(body.version).to.match(/^\d+\.\d+\.\d+/);
      expect(body.eventStore.kind).to.equal('sqlite');
      expect(existsSync(join(dataDir, 'events.sqlite')), 'event log file in the data directory').to.equal(true);
      expect(existsSync(join(dataDir, 'readmodels.sqlite')), 'read models file in the data directory').to.equal(true);
    } finally {
      child.removeAllListeners('exit');
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited, 'exit code after SIGTERM').to.equal(0);
    }
  });

  it('takes a payment end to end with the sandbox standing in for a real provider', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'folio-start-'));
    const { child, port } = await startFolio(dataDir, { FOLIO_SANDBOX_PROVIDERS: 'stripe' });
    const base = `http://127.0.0.1:${port}`;
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `${path}-${Date.now()}` },
        body: JSON.stringify(body),
      });
      return (await response.json()) as Record<string, string>;
    };
    try {
      const merchant = await post('/v1/accounts', { ownerId: 'shop', currency: 'EUR', kind: 'merchant' });
      const payment = await post('/v1/payments', { merchantAccountId: merchant.id, amount: '2500', currency: 'EUR', provider: 'stripe' });
      const submitted = await post(`/v1/payments/${payment.id}/submit`, {});
      expect(submitted.providerRef).to.equal(`pi_${payment.id}`);
      let state = submitted.state;
      for (let i = 0; i < 100 && state === 'PENDING'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        state = ((await (await fetch(`${base}/v1/payments/${payment.id}`)).json()) as { state: string }).state;
      }
      expect(state).to.be.oneOf(['PAID', 'SETTLED', 'FAILED']);
    } finally {
      child.removeAllListeners('exit');
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited, 'exit code after SIGTERM').to.equal(0);
    }
  });
});

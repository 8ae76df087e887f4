import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { startService } from './fixtures/serviceProcess.js';

describe('npm start: the whole system on the embedded default', function () {
  this.timeout(20_000);

  it('creates its data directory on first run, answers /healthz, says how to create a key, offers the demo, and stops cleanly on SIGTERM', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'folio-start-')), 'nested', 'data');
    const folio = await startService(new URL('../src/main.js', import.meta.url), 'folio', { FOLIO_DATA_DIR: dataDir, FOLIO_BOOTSTRAP_ADMIN_KEY: '' });
    try {
      const response = await fetch(`${folio.url}/healthz`);
      expect(response.status).to.equal(200);
      const body = (await response.json()) as { status: string; version: string; eventStore: { kind: string } };
      expect(body.status).to.equal('ok');
      expect(body.version).to.match(/^\d+\.\d+\.\d+/);
      expect(body.eventStore.kind).to.equal('sqlite');
      expect(existsSync(join(dataDir, 'events.sqlite')), 'event log file in the data directory').to.equal(true);
      expect(existsSync(join(dataDir, 'readmodels.sqlite')), 'read models file in the data directory').to.equal(true);
      const hint = folio.lines
        .map((line) => JSON.parse(line) as { msg: string; demo?: string })
        .find((entry) => entry.msg.includes('npm run demo'));
      expect(hint?.demo, 'how to fill the empty ledger').to.equal(`FOLIO_URL=http://localhost:${folio.port} npm run demo`);
      const keyHint = folio.lines.map((line) => JSON.parse(line) as { msg: string }).find((entry) => entry.msg.startsWith('no API key exists yet'));
      expect(keyHint?.msg, 'how to create the first key').to.contain('npm run folio -- keys create --role admin');
      expect((await fetch(`${folio.url}/v1/transactions`)).status, 'no key, no ledger').to.equal(401);
      const page = await fetch(`${folio.url}/`);
      expect(page.status, 'the UI at /').to.equal(200);
    } finally {
      expect(await folio.stop(), 'exit code after SIGTERM').to.equal(0);
    }
  });

  it('takes a payment end to end with the sandbox standing in for a real provider', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'folio-start-'));
    const folio = await startService(new URL('../src/main.js', import.meta.url), 'folio', {
      FOLIO_DATA_DIR: dataDir,
      FOLIO_SANDBOX_PROVIDERS: 'stripe',
    });
    const base = folio.url;
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `${path}-${Date.now()}`, ...folio.auth },
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
        state = ((await (await fetch(`${base}/v1/payments/${payment.id}`, { headers: folio.auth })).json()) as { state: string }).state;
      }
      expect(state).to.be.oneOf(['PAID', 'SETTLED', 'FAILED']);
    } finally {
      expect(await folio.stop(), 'exit code after SIGTERM').to.equal(0);
    }
  });
});

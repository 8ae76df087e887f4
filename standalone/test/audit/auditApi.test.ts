import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createLogger, generateApiKey, loadAuditConfig, loadConfig, verifyExport } from '@folio/shared';
import { openFolio, type Folio } from '../../src/folio.js';

/** The auditor's API on the whole running system: every write chained, checkpoints signed. */
describe('audit API of the running system', function () {
  this.timeout(30_000);
  let directory: string;
  let folio: Folio;
  let url: string;
  let close: () => Promise<void>;
  let alice: string;
  let bob: string;
  let afterDeposit: string;
  const adminKey = generateApiKey().token;
  const auth = { authorization: `Bearer ${adminKey}` };

  const post = async (path: string, body: unknown, key: string) => {
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key, ...auth },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  const get = async (path: string) => {
    const response = await fetch(`${url}${path}`, { headers: auth });
    return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as Record<string, any> };
  };

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'folio-audit-api-'));
    const config = loadConfig({ FOLIO_DATA_DIR: join(directory, 'data'), FOLIO_BOOTSTRAP_ADMIN_KEY: adminKey });
    folio = await openFolio(config, {
      logger: createLogger({ service: 'folio', level: 'silent' }),
      readWaitMs: 2_000,
      audit: loadAuditConfig({ FOLIO_AUDIT_SNAPSHOT_EVERY: '2', FOLIO_AUDIT_CHECKPOINT_EVERY: '5' }),
    });
    const server = folio.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await folio.stop();
    };
    const open = async (owner: string) =>
      (await post('/v1/accounts', { ownerId: owner, currency: 'EUR', kind: 'customer' }, `open-${owner}`)).body['id'] as string;
    alice = await open('alice');
    bob = await open('bob');
    const deposit = await post('/v1/deposits', { accountId: alice, amount: '1000', currency: 'EUR', reference: 'd1' }, 'deposit');
    afterDeposit = deposit.body['position'];
    for (const [index, amount] of ['100', '250'].entries()) {
      await post('/v1/transfers', { fromAccountId: alice, toAccountId: bob, amount, currency: 'EUR' }, `transfer-${index}`);
    }
  });
  after(async () => {
    await close();
    rmSync(directory, { recursive: true, force: true });
  });

  it("answers an account's balance now and at an earlier position, from the log", async () => {
    const now = await get(`/v1/audit/accounts/${alice}/balance`);
    expect(now.status, JSON.stringify(now.body)).to.equal(200);
    expect(now.body).to.include({ accountId: alice, balance: '650', debits: '350', credits: '1000' });
    expect(now.body['entries'].map((entry: any) => [entry.side, entry.amount, entry.balanceAfter])).to.deep.equal([
      ['debit', '250', '650'],
      ['debit', '100', '900'],
      ['credit', '1000', '1000'],
    ]);
    const then = await get(`/v1/audit/accounts/${alice}/balance?position=${afterDeposit}&effectiveAt=2999-01-01`);
    expect(then.body).to.include({ balance: '1000' });
    expect(then.body['point']).to.deep.equal({ position: afterDeposit, asOf: null, effectiveAt: '2999-01-01T23:59:59.999Z' });
    const before = await get(`/v1/audit/accounts/${alice}/balance?asOf=2000-01-01`);
    expect(before.status).to.equal(404);
    expect(before.type).to.contain('application/problem+json');
  });

  it('answers the trial balance, balanced per currency, and verifies every chain of the running system', async () => {
    const trial = await get('/v1/audit/trial-balance');
    expect(trial.status).to.equal(200);
    expect(trial.body['balanced']).to.equal(true);
    expect(trial.body['currencies']).to.have.length(1);
    const verified = await get('/v1/audit/verify');
    expect(verified.body['ok'], JSON.stringify(verified.body)).to.equal(true);
    expect(verified.body['unchainedEvents']).to.equal(0);
    expect(verified.body['chainedEvents']).to.be.greaterThan(8);
  });

  it('exports a bundle the standalone verifier accepts', async () => {
    const response = await fetch(`${url}/v1/audit/export`, { headers: auth });
    const bundle = (await response.json()) as { files: Record<string, string> };
    const report = verifyExport(bundle.files);
    expect(report.problems).to.deep.equal([]);
    expect(report.ok).to.equal(true);
  });

  it('answers 400 problem+json for bad parameters, never 500', async () => {
    for (const path of [
      `/v1/audit/accounts/${alice}/balance?position=-1`,
      `/v1/audit/accounts/${alice}/balance?asOf=yesterday`,
      `/v1/audit/accounts/${alice}/balance?effectiveAt=2026-02-30`,
      `/v1/audit/accounts/${alice}/balance?entries=5000`,
      `/v1/audit/accounts/${alice}/balance?bogus=1`,
      '/v1/audit/accounts/abc/balance',
      '/v1/audit/trial-balance?position=01',
      '/v1/audit/trial-balance?effectiveAt=2026-01-01',
      '/v1/audit/verify?upTo=x',
      '/v1/audit/export?position=1.5',
    ]) {
      const response = await get(path);
      expect(response.status, path).to.equal(400);
      expect(response.type, path).to.contain('application/problem+json');
      expect(response.body['type'], path).to.match(/validation$/);
    }
  });

  it("answers 400 for an account's balance at a position beyond the head, as for the trial balance", async () => {
    for (const path of [`/v1/audit/accounts/${alice}/balance?position=9223372036854775807`, '/v1/audit/trial-balance?position=9223372036854775807']) {
      const response = await get(path);
      expect(response.status, path).to.equal(400);
      expect(response.type, path).to.contain('application/problem+json');
      expect(response.body['detail'], path).to.match(/^position 9223372036854775807 is beyond the head of the log \(\d+\)$/);
    }
  });

  it('closes a period and reports no restatement while nothing is dated into it', async () => {
    const closed = await post('/v1/audit/periods', { periodId: '2025-12', effectiveUntil: '2025-12-31', actor: 'auditor' }, 'close');
    expect(closed.status, JSON.stringify(closed.body)).to.equal(201);
    const report = await get('/v1/audit/periods/2025-12/restatements');
    expect(report.body['restated']).to.equal(false);
    expect((await post('/v1/audit/periods', { periodId: 'x' }, 'bad')).status).to.equal(400);
    expect((await get('/v1/audit/periods/nope/restatements')).status).to.equal(404);
  });
});

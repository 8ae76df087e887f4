import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';

const cli = new URL('../../src/cli/folioCli.js', import.meta.url).pathname;

/** Runs the built `folio audit …` as an auditor would, with no signing key configured. */
const folioAudit = (dataDir: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'audit', ...args], {
      env: { ...process.env, FOLIO_DATA_DIR: dataDir, EVENTSTORE_URL: '', FOLIO_AUDIT_SIGNING_KEY: '', FOLIO_AUDIT_SIGNING_KEY_FILE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });

describe('folio audit without a signing key', function () {
  this.timeout(20_000);
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'folio-cli-no-key-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('public-key exits 2 naming the key file it looked for, prints no key and creates none', async () => {
    const run = await folioAudit(dataDir, 'public-key');
    expect(run.code).to.equal(2);
    expect(run.stdout).to.equal('');
    expect(run.stderr).to.contain(`no key file at ${join(dataDir, 'audit-signing-key.pem')}`).and.contain('FOLIO_AUDIT_SIGNING_KEY');
    expect(readdirSync(dataDir)).to.deep.equal([]);
  });
});

import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { runFolio } from './folioProcess.js';

/** Runs the built `folio audit …` as an auditor would, with no signing key configured. */
const folioAudit = (dataDir: string, ...args: string[]) =>
  runFolio(dataDir, ['audit', ...args], { FOLIO_AUDIT_SIGNING_KEY: '', FOLIO_AUDIT_SIGNING_KEY_FILE: '' });

describe('folio audit without a signing key', function () {
  this.timeout(20_000);
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'folio-cli-no-key-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('public-key exits 1 naming the key file it looked for in one line, prints no key and creates none', async () => {
    const run = await folioAudit(dataDir, 'public-key');
    expect(run.code).to.equal(1);
    expect(run.stdout).to.equal('');
    expect(run.stderr).to.contain(`no key file at ${join(dataDir, 'audit-signing-key.pem')}`).and.contain('FOLIO_AUDIT_SIGNING_KEY');
    expect(run.stderr.trim().split('\n'), run.stderr).to.have.length(1);
    expect(readdirSync(dataDir)).to.deep.equal([]);
  });
});

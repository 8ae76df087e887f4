import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadSigner, openSqliteEventStore, runAuditCli, signingKeyPath } from '../../src/index.js';
import { openAuditStore, writeHistory, type AuditStore } from './auditFixture.js';

/** `folio audit …` in this process, with no signing key configured unless `environment` sets one. */
const folio = async (args: string[], environment: Record<string, string>) => {
  let stdout = '';
  let stderr = '';
  const code = await runAuditCli(args, {
    out: (text) => (stdout += `${text}\n`),
    err: (text) => (stderr += `${text}\n`),
    environment: {
      ...process.env,
      EVENTSTORE_URL: '',
      FOLIO_LOG_LEVEL: 'silent',
      FOLIO_AUDIT_SIGNING_KEY: '',
      FOLIO_AUDIT_SIGNING_KEY_FILE: '',
      ...environment,
    },
  });
  return { code, stdout, stderr };
};

const headOf = async (path: string) => {
  const store = openSqliteEventStore({ path });
  try {
    return await store.headPosition();
  } finally {
    await store.close();
  }
};

const KEYED_COMMANDS = (directory: string) => [['public-key'], ['verify'], ['export', join(directory, 'export')], ['export', join(directory, 'export.json'), '--bundle']];

describe('folio audit: only the server creates the signing key', function () {
  this.timeout(30_000);
  let audit: AuditStore;
  let accountId: string;
  let scratch: string;

  before(async () => {
    // Books written by a server whose key is kept somewhere else (another directory, a volume).
    audit = openAuditStore();
    accountId = (await writeHistory(audit.store, { accounts: 2, movements: 4, seed: 5 }))[0]!;
    await audit.raw.close();
  });
  after(() => audit.dispose());
  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), 'folio-no-key-'));
  });
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  it('makes public-key, verify and export fail (exit 1, no usage) in a fresh data directory, saying where they looked, and write nothing', async () => {
    for (const args of KEYED_COMMANDS(scratch)) {
      const result = await folio(args, { FOLIO_DATA_DIR: scratch });
      expect(result.code, args.join(' ')).to.equal(1);
      expect(result.stdout, args.join(' ')).to.equal('');
      expect(result.stderr).to.contain(`no key file at ${signingKeyPath(scratch)}`).and.contain('FOLIO_AUDIT_SIGNING_KEY_FILE').and.not.contain('usage:');
      expect(readdirSync(scratch), args.join(' ')).to.deep.equal([]);
    }
  });

  it('names the configured key file when FOLIO_AUDIT_SIGNING_KEY_FILE points at none, and creates none there', async () => {
    const keyFile = join(scratch, 'audit-key', 'signing-key.pem');
    for (const args of KEYED_COMMANDS(scratch)) {
      const result = await folio(args, { FOLIO_DATA_DIR: join(scratch, 'data'), FOLIO_AUDIT_SIGNING_KEY_FILE: keyFile });
      expect(result.code, args.join(' ')).to.equal(1);
      expect(result.stderr).to.contain(`no key file at ${keyFile}`);
      expect(readdirSync(scratch), args.join(' ')).to.deep.equal([]);
    }
  });

  it('leaves the books alone without a key: no key file, no checkpoint, no export', async () => {
    const head = await headOf(audit.path);
    for (const args of KEYED_COMMANDS(scratch)) {
      expect((await folio(args, { FOLIO_DATA_DIR: audit.directory })).code, args.join(' ')).to.equal(1);
    }
    expect(existsSync(signingKeyPath(audit.directory))).to.equal(false);
    expect(await headOf(audit.path)).to.equal(head);
    expect(readdirSync(scratch)).to.deep.equal([]);
  });

  it('answers the commands that sign nothing (close-period included) without a key, creating none', async () => {
    const environment = { FOLIO_DATA_DIR: audit.directory };
    for (const args of [
      ['balance', accountId],
      ['trial-balance'],
      ['close-period', 'no-key', '--until', '2026-01-01', '--actor', 'auditor'],
      ['restatements', 'no-key'],
    ]) {
      const result = await folio(args, environment);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(0);
    }
    expect(existsSync(signingKeyPath(audit.directory))).to.equal(false);
  });

  it('uses the key the server keeps in FOLIO_AUDIT_SIGNING_KEY_FILE, as before, writing none into the data directory', async () => {
    const keyFile = join(scratch, 'audit-key', 'signing-key.pem');
    const server = loadSigner({ signingKey: undefined, signingKeyFile: keyFile }, audit.directory);
    const environment = { FOLIO_DATA_DIR: audit.directory, FOLIO_AUDIT_SIGNING_KEY_FILE: keyFile };

    const published = await folio(['public-key'], environment);
    expect(published.code, published.stderr).to.equal(0);
    expect(JSON.parse(published.stdout)).to.deep.equal({ keyId: server.keyId, publicKey: server.publicKeyPem });
    const exported = await folio(['export', join(scratch, 'export')], environment);
    expect(exported.code, exported.stderr).to.equal(0);
    expect(JSON.parse(exported.stdout).manifest.keyId).to.equal(server.keyId);
    // The export's checkpoint of the head is signed with the server's key, so it verifies.
    const verified = await folio(['verify'], environment);
    expect(verified.code, verified.stderr).to.equal(0);
    expect(JSON.parse(verified.stdout).checkpointsVerified).to.be.greaterThan(0);
    expect(existsSync(signingKeyPath(audit.directory))).to.equal(false);
  });
});

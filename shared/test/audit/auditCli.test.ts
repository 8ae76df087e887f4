import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { listPeriods, loadSigner, openSqliteEventStore, runAuditCli } from '../../src/index.js';
import { openAuditStore, writeHistory, type AuditStore } from './auditFixture.js';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../../../../standalone/dist/src/cli/folioCli.js', import.meta.url));

/** `folio audit …` in this process: its output and its exit status. */
const folio = async (args: string[], environment: Record<string, string>) => {
  let stdout = '';
  let stderr = '';
  const code = await runAuditCli(args, {
    out: (text) => (stdout += `${text}\n`),
    err: (text) => (stderr += `${text}\n`),
    environment: { ...process.env, ...environment },
  });
  return { code, stdout, stderr };
};

/**
 * `folio audit …` as an auditor runs it: the installed command, a process of its own, stopped after
 * twenty seconds (its code then null) rather than left running.
 */
const folioProcess = async (args: string[], environment: Record<string, string>) => {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, 'audit', ...args], { env: { ...process.env, ...environment }, timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number | null; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
};

/** Says why in one line, without the usage or a stack trace. */
const expectOneLine = (stderr: string, reason: string) => {
  expect(stderr.trim().split('\n'), stderr).to.have.length(1);
  expect(stderr).to.contain(reason).and.not.contain('usage:');
};

describe('folio audit (command line)', function () {
  this.timeout(30_000);
  let audit: AuditStore;
  let environment: Record<string, string>;
  let accountId: string;

  before(async () => {
    audit = openAuditStore();
    accountId = (await writeHistory(audit.store, { accounts: 2, movements: 6, seed: 9 }))[0]!;
    await audit.raw.close();
    // The server's first start created the key; the command line only uses it.
    loadSigner({ signingKey: undefined }, audit.directory);
    environment = { FOLIO_DATA_DIR: audit.directory, FOLIO_LOG_LEVEL: 'silent' };
  });
  after(() => audit.dispose());

  it('answers balances and the trial balance, exports, and verifies the export with no database', async () => {
    const balance = await folio(['balance', accountId!, '--entries', '2'], environment);
    expect(balance.code, balance.stderr).to.equal(0);
    expect(JSON.parse(balance.stdout)).to.include({ accountId });
    const trial = await folio(['trial-balance'], environment);
    expect(JSON.parse(trial.stdout).balanced).to.equal(true);

    const exported = join(audit.directory, 'export');
    expect((await folio(['export', exported], environment)).code).to.equal(0);
    const key = JSON.parse((await folio(['public-key'], environment)).stdout).keyId as string;
    const clean = await folioProcess(['verify-export', exported, '--key-id', key], { FOLIO_DATA_DIR: join(audit.directory, 'nowhere') });
    expect(clean.code, clean.stderr).to.equal(0);
    expect(JSON.parse(clean.stdout).log.checkpointsVerified).to.equal(1);

    const trialFile = join(exported, 'trial-balance.json');
    writeFileSync(trialFile, readFileSync(trialFile, 'utf8').replace('"balanced":true', '"balanced":false'));
    const altered = await folioProcess(['verify-export', exported], {});
    expect(altered.code).to.equal(1);
    expect(altered.stderr).to.contain('trial-balance.json does not match its hash');
  });

  it('verify exits 0 on the untouched log and 1 naming the event once the file is altered', async () => {
    expect((await folio(['verify'], environment)).code).to.equal(0);
    const db = new Database(join(audit.directory, 'events.sqlite'));
    const row = db.prepare("SELECT position, event_id, data FROM events WHERE type = 'AccountCredited' LIMIT 1").get() as {
      position: number;
      event_id: string;
      data: string;
    };
    db.prepare('UPDATE events SET data = ? WHERE position = ?').run(row.data.replace('"amount":"', '"amount":"1'), row.position);
    db.close();
    const failed = await folio(['verify'], environment);
    expect(failed.code).to.equal(1);
    expect(JSON.parse(failed.stdout).firstBroken.eventId).to.equal(row.event_id);
  });

  it('exits 2 with the usage on a time outside the four-digit years once its offset is applied, and closes nothing', async () => {
    for (const until of ['9999-12-31T23:59:59-01:00', '0000-01-01T00:00:00+01:00']) {
      const result = await folioProcess(['close-period', 'Y', '--until', until, '--actor', 'me'], environment);
      expect(result.code, result.stderr).to.equal(2);
      expect(result.stderr).to.contain(`--until: `).and.to.contain('usage:').and.not.to.contain('    at ');
      const asOf = await folio(['balance', accountId, '--as-of', until], environment);
      expect(asOf.code, asOf.stderr).to.equal(2);
    }
    expect((await folio(['close-period', 'Y', '--until', '9999-12-31T23:59:59Z', '--actor', 'me'], environment)).code).to.equal(0);
    const store = openSqliteEventStore({ path: audit.path, readonly: true });
    try {
      expect((await listPeriods(store)).map((period) => period.effectiveUntil)).to.deep.equal(['9999-12-31T23:59:59.000Z']);
    } finally {
      await store.close();
    }
  });

  it('exits 1 with a clear message, no stack trace, when the export cannot be written where asked', async () => {
    const file = join(audit.directory, 'a-file');
    writeFileSync(file, 'x');
    const directory = join(audit.directory, 'a-directory');
    mkdirSync(directory);
    for (const [args, reason] of [
      [['export', file, '--position', '1'], 'is a file, not a directory'],
      [['export', directory, '--position', '1', '--bundle'], 'is a directory, not a file'],
    ] as const) {
      const result = await folioProcess([...args], environment);
      expect(result.code, result.stderr).to.equal(1);
      expect(result.stderr).to.contain(`cannot write the export to ${args[1]}: it ${reason}`);
      expect(result.stderr.trim().split('\n'), result.stderr).to.have.length(1);
    }
    expect(readFileSync(file, 'utf8')).to.equal('x');
    expect(existsSync(join(directory, 'manifest.json'))).to.equal(false);
  });

  it('appends no checkpoint for an export of the head that cannot be written', async () => {
    const head = async () => {
      const store = openSqliteEventStore({ path: audit.path, readonly: true });
      try {
        return await store.headPosition();
      } finally {
        await store.close();
      }
    };
    const before = await head();
    const file = join(audit.directory, 'not-a-directory');
    writeFileSync(file, 'x');
    const directory = join(audit.directory, 'not-a-file');
    mkdirSync(directory);
    for (const args of [['export', file], ['export', directory, '--bundle'], ['export', join(file, 'below')]]) {
      const result = await folio(args, environment);
      expect(result.code, result.stderr).to.equal(1);
      expectOneLine(result.stderr, `cannot write the export to ${args[1]}`);
      expect(await head(), args.join(' ')).to.equal(before);
    }
    expect(readdirSync(directory)).to.deep.equal([]);
    expect(readdirSync(audit.directory).filter((name) => name.includes('partial'))).to.deep.equal([]);
  });

  it('writes an export whole or not at all: never into a directory holding other files, never leaving a partial one', async () => {
    const parent = join(audit.directory, 'exports');
    const used = join(parent, 'used');
    mkdirSync(used, { recursive: true });
    writeFileSync(join(used, 'notes.txt'), 'mine');
    const refused = await folioProcess(['export', used, '--position', '1'], environment);
    expect(refused.code, refused.stderr).to.equal(1);
    expect(refused.stderr).to.contain(`cannot write the export to ${used}: it already holds files`);
    expect(readdirSync(used)).to.deep.equal(['notes.txt']);

    const empty = join(parent, 'empty');
    mkdirSync(empty);
    // A directory that cannot be replaced, only written into (as a mount point cannot).
    const linked = join(parent, 'linked');
    mkdirSync(join(parent, 'target'));
    symlinkSync(join(parent, 'target'), linked);
    for (const [target, extra] of [[empty, []], [linked, []], [join(parent, 'new', 'deeper'), []], [join(parent, 'bundle.json'), ['--bundle']]] as const) {
      const written = await folioProcess(['export', target, '--position', '1', ...extra], environment);
      expect(written.code, written.stderr).to.equal(0);
      expect((await folioProcess(['verify-export', target], {})).code, target).to.equal(0);
    }
    for (const directory of [parent, empty, join(parent, 'target')]) {
      expect(readdirSync(directory).filter((name) => name.includes('partial')), `no partial export left in ${directory}`).to.deep.equal([]);
    }
  });

  it('exits 1 in one line, not 2 with the usage, when the export to verify is missing or is not an export', async () => {
    const missing = join(audit.directory, 'no-such-export');
    const notBundle = join(audit.directory, 'not-a-bundle.json');
    writeFileSync(notBundle, '{}');
    const notExport = join(audit.directory, 'not-an-export');
    mkdirSync(notExport);
    for (const [target, reason] of [
      [missing, `${missing} does not exist`],
      [notBundle, `${notBundle} is neither an export directory nor a folio-audit-export-bundle/1 file`],
    ] as const) {
      const result = await folioProcess(['verify-export', target], {});
      expect(result.code, result.stderr).to.equal(1);
      expect(result.stdout).to.equal('');
      expectOneLine(result.stderr, reason);
    }
    const empty = await folioProcess(['verify-export', notExport], {});
    expect(empty.code, empty.stderr).to.equal(1);
    expectOneLine(empty.stderr, 'manifest.json is missing');
  });

  it('exits 1 in one line on a bad configuration or signing key, as the other commands do', async () => {
    for (const [setting, reason] of [
      [{ FOLIO_AUDIT_CHECKPOINT_EVERY: 'often' }, 'invalid configuration: FOLIO_AUDIT_CHECKPOINT_EVERY'],
      [{ FOLIO_NODE_ID: 'abc' }, 'invalid configuration: FOLIO_NODE_ID'],
      [{ FOLIO_AUDIT_SIGNING_KEY: 'not a key' }, 'FOLIO_AUDIT_SIGNING_KEY is not a PKCS#8 PEM or base64 Ed25519 private key'],
    ] as const) {
      const result = await folio(['public-key'], { ...environment, ...setting });
      expect(result.code, result.stderr).to.equal(1);
      expectOneLine(result.stderr, reason);
    }
  });

  it('fails in one line, at once, to export where a directory cannot be created (not spinning on /proc)', async function () {
    // Room for both runs to be stopped, should they spin.
    this.timeout(60_000);
    for (const [target, extra] of [[join('/proc', 'nope', 'export'), []], [join('/proc', 'nope', 'export.json'), ['--bundle']]] as const) {
      const result = await folioProcess(['export', target, '--position', '1', ...extra], environment);
      expect(result.code, `${target}: ${result.stderr}`).to.equal(1);
      expectOneLine(result.stderr, `cannot write the export to ${target}: cannot create the directory /proc`);
    }
  });

  it('creates the missing directories of an export one by one, and names the one that is a file', async () => {
    const file = join(audit.directory, 'in-the-way');
    writeFileSync(file, 'x');
    for (const target of [join(file, 'export'), join(file, 'deeper', 'export')]) {
      const refused = await folio(['export', target, '--position', '1'], environment);
      expect(refused.code, refused.stderr).to.equal(1);
      expectOneLine(refused.stderr, `cannot write the export to ${target}: ${file} is a file, not a directory`);
    }
    const nested = join(audit.directory, 'one', 'two', 'three', 'bundle.json');
    const written = await folio(['export', nested, '--position', '1', '--bundle'], environment);
    expect(written.code, written.stderr).to.equal(0);
    expect((await folio(['verify-export', nested], {})).code).to.equal(0);
  });

  it('takes the key id as public-key prints it or in capitals, and refuses a malformed one as wrong usage', async () => {
    const exported = join(audit.directory, 'keyed-export');
    expect((await folio(['export', exported, '--position', '1'], environment)).code).to.equal(0);
    const key = JSON.parse((await folio(['public-key'], environment)).stdout).keyId as string;
    for (const keyId of [key, key.toUpperCase()]) {
      const result = await folio(['verify-export', exported, '--key-id', keyId], {});
      expect(result.code, result.stderr).to.equal(0);
    }
    const other = await folio(['verify-export', exported, '--key-id', 'f'.repeat(64)], {});
    expect(other.code).to.equal(1);
    expect(other.stderr).to.contain(`not the trusted key ${'f'.repeat(64)}`);
    for (const keyId of ['', key.slice(1), `folio_${key}`]) {
      const result = await folio(['verify-export', exported, '--key-id', keyId], {});
      expect(result.code, keyId).to.equal(2);
      expect(result.stderr.split('\n')[0]).to.contain('--key-id: a key id is 64 hex digits');
      expect(result.stderr).to.contain('usage:');
    }
  });

  it('exits 2 with the usage on an option the command does not read, and does nothing', async () => {
    const target = join(audit.directory, 'unread-option');
    for (const args of [
      ['verify', '--position', '1'],
      ['export', target, '--as-of', '2026-01-01'],
      ['export', target, '--up-to', '1'],
      ['trial-balance', '--effective-at', '2026-01-01'],
      ['balance', accountId, '--bundle'],
      ['verify-export', target, '--position', '1'],
      ['close-period', 'unread', '--until', '2026-01-01', '--actor', 'me', '--as-of', '2026-01-01'],
      ['restatements', 'unread', '--position', '1'],
      ['public-key', '--key-id', 'f'.repeat(64)],
    ]) {
      const result = await folio(args, environment);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(2);
      expect(result.stdout, args.join(' ')).to.equal('');
      expect(result.stderr.split('\n')[0], args.join(' ')).to.match(new RegExp(`^${args[0]} takes no --`));
      expect(result.stderr).to.contain('usage:');
    }
    expect(existsSync(target)).to.equal(false);
    const store = openSqliteEventStore({ path: audit.path, readonly: true });
    try {
      expect((await listPeriods(store)).map((period) => period.periodId)).to.not.include('unread');
    } finally {
      await store.close();
    }
  });

  it('exits 2 with the usage on bad arguments', async () => {
    for (const args of [['balance', 'abc'], ['trial-balance', '--position', '-3'], ['balance', accountId, '--as-of', 'soon'], ['nonsense'], ['verify-export']]) {
      const result = await folio(args, environment);
      expect(result.code, args.join(' ')).to.equal(2);
      expect(result.stderr).to.contain('usage:');
    }
  });
});

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { runFolio, type FolioRun } from './folioProcess.js';

const sample = (name: string) => new URL(`../../../../command-side/test/statements/samples/${name}`, import.meta.url).pathname;

/** One line saying why, and no stack trace. */
const expectOneLineReason = (run: FolioRun, reason: RegExp) => {
  expect(run.stderr.split('\n')[0]).to.match(reason);
  expect(run.stderr).to.not.match(/^\s+at /m);
};

describe('the folio command line, as an operator meets it', function () {
  this.timeout(30_000);
  let root: string;
  let dataDir: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'folio-cli-operator-'));
    dataDir = join(root, 'data dir ünïcode');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** A ledger in `dataDir`, made as the README's first run makes it. */
  const createLedger = async () => {
    const created = await runFolio(dataDir, ['keys', 'create', '--role', 'admin']);
    expect(created.code, created.stderr).to.equal(0);
    return JSON.parse(created.stdout) as { keyId: string; key: string };
  };

  it('refuses a data directory that holds no ledger instead of creating an empty one', async () => {
    const mistyped = join(root, 'dta');
    for (const args of [
      ['keys', 'list'],
      ['keys', 'revoke', '0123456789abcdef'],
      ['import-statement', sample('stripe/payout-reconciliation.csv'), '--provider', 'stripe'],
      ['projections', 'rebuild', 'balances'],
      ['projections', 'prune', 'history'],
      ['audit', 'trial-balance'],
    ]) {
      const run = await runFolio(mistyped, args);
      expect(run.code, args.join(' ')).to.equal(1);
      expectOneLineReason(run, /no ledger in .*dta/);
      expect(run.stdout, args.join(' ')).to.equal('');
      expect(existsSync(mistyped), args.join(' ')).to.equal(false);
    }
  });

  it('still creates the first key, and the ledger with it, saying where', async () => {
    const run = await runFolio(dataDir, ['keys', 'create', '--role', 'admin']);
    expect(run.code, run.stderr).to.equal(0);
    expect(JSON.parse(run.stdout)).to.include({ role: 'admin' });
    expect(run.stderr).to.contain(`created a new ledger in ${dataDir}`);
    expect(existsSync(join(dataDir, 'events.sqlite'))).to.equal(true);
    const second = await runFolio(dataDir, ['keys', 'create', '--role', 'operator']);
    expect(second.stderr).to.not.contain('created a new ledger');
  });

  it('reports an operational failure in one line with exit code 1, never a stack trace', async () => {
    await createLedger();
    const badConfig = await runFolio(dataDir, ['keys', 'list'], { FOLIO_NODE_ID: 'abc' });
    expect(badConfig.code).to.equal(1);
    expectOneLineReason(badConfig, /invalid configuration: FOLIO_NODE_ID/);
    const unreachable = await runFolio(dataDir, ['keys', 'list'], { EVENTSTORE_URL: 'esdb://127.0.0.1:1?tls=false' });
    expect(unreachable.code).to.equal(1);
    expectOneLineReason(unreachable, /EventStoreDB is unavailable/);
  });

  it('prints its usage on --help with exit code 0, and names an unknown command', async () => {
    for (const args of [['--help'], ['help'], ['keys', '--help'], ['audit', '-h']]) {
      const run = await runFolio(dataDir, args);
      expect(run.code, args.join(' ')).to.equal(0);
      expect(run.stdout, args.join(' ')).to.match(/usage:/);
    }
    const unknown = await runFolio(dataDir, ['frobnicate']);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr.split('\n')[0]).to.equal('unknown command frobnicate');
    expect(existsSync(dataDir)).to.equal(false);
  });

  it('refuses arguments it would otherwise drop: an unquoted label, a second key id', async () => {
    const { keyId } = await createLedger();
    const other = JSON.parse((await runFolio(dataDir, ['keys', 'create', '--role', 'operator'])).stdout) as { keyId: string };
    const unquoted = await runFolio(dataDir, ['keys', 'create', '--role', 'customer', '--owner', 'alice', '--label', 'mobile', 'app']);
    expect(unquoted.code).to.equal(2);
    expectOneLineReason(unquoted, /unexpected argument "app"/);
    const twoIds = await runFolio(dataDir, ['keys', 'revoke', keyId, other.keyId]);
    expect(twoIds.code).to.equal(2);
    const listed = JSON.parse((await runFolio(dataDir, ['keys', 'list'])).stdout) as { revokedAt?: string }[];
    expect(listed).to.have.length(2);
    expect(listed.filter((key) => key.revokedAt !== undefined)).to.deep.equal([]);
    const extraAudit = await runFolio(dataDir, ['audit', 'trial-balance', 'now']);
    expect(extraAudit.code).to.equal(2);
  });

  it('refuses an empty owner as a usage error, and prints the owner id as stored', async () => {
    await createLedger();
    const empty = await runFolio(dataDir, ['keys', 'create', '--role', 'customer', '--owner', '  ']);
    expect(empty.code).to.equal(2);
    expectOneLineReason(empty, /--owner/);
    const decomposed = await runFolio(dataDir, ['keys', 'create', '--role', 'customer', '--owner', ' e\u0301lise ']);
    expect(decomposed.code, decomposed.stderr).to.equal(0);
    expect(JSON.parse(decomposed.stdout)).to.include({ ownerId: '\u00e9lise' });
  });

  it('does not echo a whole key given to revoke, or in place of the command or an argument, and refuses it as a usage error', async () => {
    const { keyId, key } = await createLedger();
    const calls = [
      ['keys', 'revoke', key],
      ['keys', key],
      ['keys', 'revoke', keyId, key],
      ['keys', 'create', '--role', 'admin', key],
    ];
    const runs = await Promise.all(calls.map((args) => runFolio(dataDir, args)));
    calls.forEach((args, index) => {
      const run = runs[index]!;
      expect(run.code, args.join(' ')).to.equal(2);
      expect(run.stderr + run.stdout, args.join(' ')).to.not.contain(key.slice(`folio_${keyId}_`.length));
      expect(run.stderr.split('\n')[0], args.join(' ')).to.not.match(/^usage:/);
    });
  });

  it('says why in one line before the usage when keys or import-statement is called wrong, and opens nothing', async function () {
    this.timeout(60_000);
    const calls: [string[], RegExp][] = [
      [['keys'], /^no keys command given$/],
      [['keys', 'frob'], /^unknown keys command "frob"$/],
      [['keys', 'frob', 'now'], /^unknown keys command "frob"$/],
      [['keys', 'revoke'], /^revoke needs a key id$/],
      [['keys', 'create'], /^create needs --role$/],
      [['keys', 'create', '--role', 'root'], /^unknown role "root"$/],
      [['keys', 'list', '--role', 'admin'], /^list takes no --role$/],
      [['keys', 'revoke', '0123456789abcdef', '--label', 'old'], /^revoke takes no --label$/],
      [['import-statement'], /^import-statement needs the statement file$/],
      [['import-statement', sample('stripe/payout-reconciliation.csv')], /^import-statement needs --provider$/],
      [['import-statement', 'a.csv', 'b.csv', '--provider', 'stripe'], /^unexpected argument "b\.csv"/],
    ];
    const runs = await Promise.all(calls.map(([args]) => runFolio(dataDir, args)));
    calls.forEach(([args, reason], index) => {
      const run = runs[index]!;
      expect(run.code, args.join(' ')).to.equal(2);
      expect(run.stdout, args.join(' ')).to.equal('');
      expectOneLineReason(run, reason);
      expect(run.stderr.split('\n')[1], args.join(' ')).to.match(/^usage:/);
    });
    expect(existsSync(dataDir)).to.equal(false);
  });

  it('answers a wrong --format or --provider of import-statement as a usage error (2), not a malformed file (1)', async () => {
    await createLedger();
    const format = await runFolio(dataDir, ['import-statement', sample('csv/bank-export.csv'), '--provider', 'nlbank', '--format', 'nope']);
    expect(format.code).to.equal(2);
    expectOneLineReason(format, /unknown statement format "nope"/);
    const provider = await runFolio(dataDir, ['import-statement', sample('csv/bank-export.csv'), '--provider', 'Bad Name']);
    expect(provider.code).to.equal(2);
  });
});

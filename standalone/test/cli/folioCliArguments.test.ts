import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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

describe('the folio command line, given arguments it cannot take as they are', function () {
  this.timeout(60_000);
  let dataDir: string;
  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'folio-cli-arguments-'));
    const created = await runFolio(dataDir, ['keys', 'create', '--role', 'admin']);
    expect(created.code, created.stderr).to.equal(0);
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('refuses an option given twice as a usage error (2) naming it, rather than taking the last one, and writes nothing', async () => {
    const calls: [string[], RegExp][] = [
      [['keys', 'create', '--role', 'admin', '--role', 'customer', '--owner', 'alice'], /^--role given twice/],
      [['import-statement', sample('stripe/payout-reconciliation.csv'), '--provider', 'stripe', '--provider=paypal'], /^--provider given twice/],
      [['audit', 'close-period', 'fy2024', '--until', '2024-06-30', '--actor', 'alice', '--until', '2024-12-31'], /^--until given twice/],
    ];
    for (const [args, reason] of calls) {
      const run = await runFolio(dataDir, args);
      expect(run.code, args.join(' ')).to.equal(2);
      expect(run.stdout, args.join(' ')).to.equal('');
      expectOneLineReason(run, reason);
      expect(run.stderr.split('\n')[1], args.join(' ')).to.match(/^usage:/);
    }
    const keys = await runFolio(dataDir, ['keys', 'list']);
    expect(JSON.parse(keys.stdout)).to.have.length(1);
    const imported = await runFolio(dataDir, ['import-statement', sample('stripe/payout-reconciliation.csv'), '--provider', 'stripe']);
    expect(imported.code, imported.stderr).to.equal(0);
    expect(JSON.parse(imported.stdout)).to.include({ alreadyImported: false });
    // A period closes once: this close succeeds only because the refused one closed nothing.
    const closed = await runFolio(dataDir, ['audit', 'close-period', 'fy2024', '--until', '2024-06-30', '--actor', 'alice']);
    expect(closed.code, closed.stderr).to.equal(0);
  });

  it('names the mapping, not the statement, when --mapping is a directory', async () => {
    const mappings = join(dataDir, 'mappings');
    mkdirSync(mappings);
    const run = await runFolio(dataDir, ['import-statement', sample('csv/bank-export.csv'), '--provider', 'nlbank', '--format', 'csv', '--mapping', mappings]);
    expect(run.code).to.equal(1);
    expect(run.stdout).to.equal('');
    expectOneLineReason(run, /^cannot read .*mappings \(EISDIR\)/);
    expect(run.stderr).to.not.contain('bank-export.csv');
  });
});

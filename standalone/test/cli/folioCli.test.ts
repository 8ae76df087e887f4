import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { projectionsUsage } from '@folio/projections';
import { embeddedDocumentStorePath, openSqliteDocumentStore } from '@folio/shared';
import { runFolio } from './folioProcess.js';

const sample = (name: string) => new URL(`../../../../command-side/test/statements/samples/${name}`, import.meta.url).pathname;

/** Runs the built `folio` command as an operator would, on the embedded stores in `dataDir`. */
const folio = (dataDir: string, ...args: string[]) => runFolio(dataDir, args);

describe('the folio command line', function () {
  this.timeout(20_000);
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'folio-cli-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('imports a statement file, and answers a second import of it with the first result', async () => {
    const first = await folio(dataDir, 'import-statement', sample('stripe/payout-reconciliation.csv'), '--provider', 'stripe');
    expect(first.code, first.stderr).to.equal(0);
    const summary = JSON.parse(first.stdout);
    expect(summary).to.deep.include({
      provider: 'stripe',
      format: 'stripe-balance',
      fileName: 'payout-reconciliation.csv',
      rows: { total: 4, recorded: 4, restated: 0, unchanged: 0, duplicated: 0 },
      alreadyImported: false,
    });
    const again = await folio(dataDir, 'import-statement', sample('stripe/payout-reconciliation.csv'), '--provider', 'stripe');
    expect(again.code, again.stderr).to.equal(0);
    expect(JSON.parse(again.stdout)).to.deep.equal({ ...summary, alreadyImported: true });
  });

  it('reads a generic CSV with a mapping given as a file or inline', async () => {
    const mappingFile = sample('csv/bank-export.mapping.json');
    const fromFile = await folio(dataDir, 'import-statement', sample('csv/bank-export.csv'), '--provider', 'nlbank', '--format', 'csv', '--mapping', mappingFile);
    expect(fromFile.code, fromFile.stderr).to.equal(0);
    expect(JSON.parse(fromFile.stdout).rows.recorded).to.equal(3);
    const csv = join(dataDir, 'one.csv');
    writeFileSync(csv, 'ref,amount\nX1,1.00\n');
    const inline = await folio(dataDir, 'import-statement', csv, '--provider', 'acme', '--format', 'csv', '--mapping', '{"rowKey":"ref","currency":"EUR","net":"amount"}');
    expect(inline.code, inline.stderr).to.equal(0);
    expect(JSON.parse(inline.stdout).rows.recorded).to.equal(1);
  });

  it('rejects a malformed file with its line and reason, exit code 1, and imports nothing', async () => {
    const run = await folio(dataDir, 'import-statement', sample('camt053/inexact-amount.xml'), '--provider', 'nlbank', '--format', 'camt053');
    expect(run.code).to.equal(1);
    expect(run.stderr).to.match(/the camt053 file is malformed: line 65, "Amt": amount "25\.285" \(EUR\) has 3 decimals/);
    expect(JSON.parse(run.stderr.slice(run.stderr.indexOf('{')))).to.include({ line: 65, column: 'Amt' });
    const valid = await folio(dataDir, 'import-statement', sample('camt053/statement-20240603.xml'), '--provider', 'nlbank', '--format', 'camt053');
    // Its good entries were not kept from the rejected file: here they are new.
    expect(JSON.parse(valid.stdout).rows.recorded).to.equal(3);
  });

  it('says how to use it when the arguments are wrong, or the file is missing', async () => {
    const noProvider = await folio(dataDir, 'import-statement', sample('stripe/payout-reconciliation.csv'));
    expect(noProvider.code).to.equal(2);
    expect(noProvider.stderr).to.match(/usage: folio import-statement <file> --provider <name>/);
    const unknown = await folio(dataDir, 'frobnicate');
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.match(/usage: folio projections rebuild/);
    const missing = await folio(dataDir, 'import-statement', join(dataDir, 'nowhere.csv'), '--provider', 'stripe');
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.match(/^cannot read .*nowhere\.csv/);
    const noMapping = await folio(dataDir, 'import-statement', sample('csv/bank-export.csv'), '--provider', 'nlbank', '--format', 'csv', '--mapping', join(dataDir, 'nomapping.json'));
    expect(noMapping.code).to.equal(1);
    expect(noMapping.stderr).to.match(/^cannot read .*nomapping\.json/);
  });

  it('still rebuilds a read model', async () => {
    const run = await folio(dataDir, 'projections', 'rebuild', 'balances');
    expect(run.code, run.stderr).to.equal(0);
    expect(JSON.parse(run.stdout)).to.include({ projection: 'balances', identical: true });
    const wrong = await folio(dataDir, 'projections', 'rebuild', 'nothing');
    expect(wrong.code).to.equal(2);
    expect(wrong.stderr).to.contain(projectionsUsage);
    // The statements imported above are in the log: the reconciliation rebuilt from them is the live one.
    const reconciliation = await folio(dataDir, 'projections', 'rebuild', 'reconciliation');
    expect(reconciliation.code, reconciliation.stderr).to.equal(0);
    expect(JSON.parse(reconciliation.stdout)).to.include({ projection: 'reconciliation', identical: true });
  });

  it('prunes what an older version of a read model left', async () => {
    const documents = openSqliteDocumentStore({ path: embeddedDocumentStorePath(dataDir) });
    await documents.withTransaction((session) => session.put('history_transactions_v1', { _id: 'left over' }));
    await documents.close();
    const run = await folio(dataDir, 'projections', 'prune', 'history');
    expect(run.code, run.stderr).to.equal(0);
    expect(JSON.parse(run.stdout)).to.deep.include({ projection: 'history', collections: ['history_transactions_v1'] });
    const again = await folio(dataDir, 'projections', 'prune', 'history');
    expect(JSON.parse(again.stdout)).to.deep.include({ collections: [], checkpoints: [], searchIndexes: [] });
  });
});

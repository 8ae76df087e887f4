import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createProjections } from '@folio/projections';
import { loadConfig, openDocumentStore, openEventStore, openSearchIndex } from '@folio/shared';
import { runFolio, type FolioRun } from './folioProcess.js';

/** One line saying why, and no stack trace. */
const expectOneLineReason = (run: FolioRun, reason: RegExp) => {
  expect(run.stderr.split('\n')[0]).to.match(reason);
  expect(run.stderr).to.not.match(/^\s+at /m);
};

describe('folio projections, beside the processes that keep the read models', function () {
  this.timeout(30_000);
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'folio-cli-projections-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  /** The read models' live projectors, as `npm start` runs them on `dataDir`. */
  const startProjectors = async () => {
    const config = loadConfig({ ...process.env, FOLIO_DATA_DIR: dataDir, EVENTSTORE_URL: '', MONGO_URL: '', ELASTIC_URL: '' });
    const eventStore = openEventStore(config);
    const documents = openDocumentStore(config);
    const searchIndex = openSearchIndex(config);
    const projections = createProjections({ eventStore, documents, searchIndex });
    await projections.start();
    return async () => {
      await projections.stop();
      await searchIndex.close();
      await documents.close();
      await eventStore.close();
    };
  };

  it('refuses a rebuild while a live projector of the read model runs, in one line with exit code 1, and rebuilds once it has stopped', async () => {
    const created = await runFolio(dataDir, ['keys', 'create', '--role', 'admin']);
    expect(created.code, created.stderr).to.equal(0);
    const stop = await startProjectors();
    let stopped = false;
    try {
      for (const name of ['history', 'balances']) {
        const refused = await runFolio(dataDir, ['projections', 'rebuild', name]);
        expect(refused.code, refused.stderr).to.equal(1);
        expectOneLineReason(refused, new RegExp(`^cannot rebuild ${name}_v\\d+: a live projector is running on it \\(pid ${process.pid} on .+, claimed until .+\\); stop it first \\(npm start, npm run start:projections\\)`));
        expect(refused.stdout).to.equal('');
      }
      await stop();
      stopped = true;
      const rebuilt = await runFolio(dataDir, ['projections', 'rebuild', 'history']);
      expect(rebuilt.code, rebuilt.stderr).to.equal(0);
      expect(JSON.parse(rebuilt.stdout)).to.include({ projection: 'history', identical: true });
    } finally {
      if (!stopped) await stop();
    }
  });

  it('names what is wrong with a projections command in one line before its usage, with exit code 2, and opens no store', async () => {
    for (const [args, reason] of [
      [[], 'no projections command given'],
      [['frob', 'balances'], 'unknown projections command "frob"'],
      [['rebuild'], 'rebuild needs a read model'],
      [['prune', 'nothing'], 'unknown read model "nothing"'],
      [['rebuild', 'balances', '--force'], 'unknown option "--force"'],
      [['prune', '--dry-run', 'history'], 'unknown option "--dry-run"'],
      [['prune', 'history', 'balances'], 'unexpected argument "balances"'],
    ] as const) {
      const run = await runFolio(dataDir, ['projections', ...args]);
      expect(run.code, args.join(' ')).to.equal(2);
      expect(run.stderr.split('\n')[0], args.join(' ')).to.equal(reason);
      expect(run.stderr, args.join(' ')).to.contain('usage: folio projections rebuild');
      expect(run.stdout, args.join(' ')).to.equal('');
    }
    expect(existsSync(join(dataDir, 'readmodels.sqlite'))).to.equal(false);
  });

  it('says why before the usage when no command is given, and tells the exit codes with the usage', async () => {
    const bare = await runFolio(dataDir, []);
    expect(bare.code).to.equal(2);
    expect(bare.stderr.split('\n')[0]).to.equal('no command given');
    for (const args of [['--help'], ['projections', '--help']]) {
      const help = await runFolio(dataDir, args);
      expect(help.code).to.equal(0);
      expect(help.stdout, args.join(' ')).to.contain('exit codes: 0 done; 1 failed');
    }
    const projectionsHelp = await runFolio(dataDir, ['projections', '--help']);
    expect(projectionsHelp.stdout).to.contain('Refused while a live projector of it');
  });
});

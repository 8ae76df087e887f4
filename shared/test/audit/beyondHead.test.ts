import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { accountAsOf, closePeriod, createExport, generatedSigner, listPeriods, loadSigner, runAuditCli, trialBalanceAt } from '../../src/index.js';
import { openAuditStore, writeHistory, type AuditStore } from './auditFixture.js';

describe('audit: positions beyond the head of the log', () => {
  let audit: AuditStore;
  let head: bigint;
  let accountId: string;
  before(async () => {
    audit = openAuditStore();
    [accountId] = (await writeHistory(audit.store, { accounts: 2, movements: 3, seed: 4 })) as [string];
    head = (await audit.raw.headPosition())!;
  });
  after(() => audit.dispose());

  it('refuses an export, a period close and a trial balance beyond the head with a validation error, and answers at the head', async () => {
    const signer = generatedSigner();
    const beyond = head + 1n;
    const attempts = {
      export: () => createExport(audit.store, signer, { position: beyond, now: new Date() }),
      close: () => closePeriod(audit.store, { periodId: 'p1', effectiveUntil: new Date(), position: beyond, actor: 'key:test', now: new Date() }),
      trialBalance: () => trialBalanceAt(audit.store, { position: beyond }),
    };
    for (const [name, attempt] of Object.entries(attempts)) {
      const error = await (attempt() as Promise<unknown>).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error, name).to.include({ status: 400, type: 'validation' });
      expect((error as Error).message, name).to.contain(`position ${beyond} is beyond the head of the log (${head})`);
    }
    expect(await listPeriods(audit.store)).to.deep.equal([]);
    expect(JSON.parse((await createExport(audit.store, signer, { position: head, now: new Date() }))['manifest.json']!).position).to.equal(head.toString());
    expect((await trialBalanceAt(audit.store, { position: head })).balanced).to.equal(true);
    expect((await closePeriod(audit.store, { periodId: 'p1', effectiveUntil: new Date(), position: head, actor: 'key:test', now: new Date() })).closedAtPosition).to.equal(head);
  });

  it("refuses an account's balance beyond the head as the trial balance does, and answers at the head", async () => {
    // The close above moved the head on.
    const now = (await audit.raw.headPosition())!;
    const beyond = now + 1n;
    const error = await accountAsOf(audit.store, accountId, { position: beyond }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).to.include({ status: 400, type: 'validation' });
    expect((error as Error).message).to.contain(`position ${beyond} is beyond the head of the log (${now})`);
    expect((await accountAsOf(audit.store, accountId, { position: now })).position <= now).to.equal(true);
  });

  it('makes `folio audit balance --position` beyond the head fail (exit 1, no usage), as `trial-balance` does', async () => {
    loadSigner({ signingKey: undefined }, audit.directory);
    for (const command of [['balance', accountId], ['trial-balance']]) {
      let stdout = '';
      let stderr = '';
      const code = await runAuditCli([...command, '--position', String(head + 1000n)], {
        out: (text) => (stdout += text),
        err: (text) => (stderr += text),
        environment: { ...process.env, FOLIO_DATA_DIR: audit.directory, FOLIO_LOG_LEVEL: 'silent' },
      });
      expect(code, `${command[0]}: ${stderr}`).to.equal(1);
      expect(stderr, command[0]).to.contain('is beyond the head of the log').and.not.contain('usage:');
      expect(stdout, command[0]).to.equal('');
    }
  });

  it('makes `folio audit export --position` beyond the head fail (exit 1) and write nothing', async () => {
    const target = join(audit.directory, 'export');
    loadSigner({ signingKey: undefined }, audit.directory);
    let stderr = '';
    const code = await runAuditCli(['export', target, '--position', String(head + 1000n)], {
      out: () => undefined,
      err: (text) => (stderr += text),
      environment: { ...process.env, FOLIO_DATA_DIR: audit.directory, FOLIO_LOG_LEVEL: 'silent' },
    });
    expect(code, stderr).to.equal(1);
    expect(stderr).to.contain('is beyond the head of the log');
    expect(existsSync(target)).to.equal(false);
  });
});

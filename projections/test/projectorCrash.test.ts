import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { openSqliteDocumentStore, openSqliteEventStore, openSqliteSearchIndex } from '@folio/shared';
import { balancesProjection } from '../src/balances/balancesProjection.js';
import { transactionHistoryProjection } from '../src/history/transactionHistoryProjection.js';
import { liveCollections, liveSearchIndexes } from '../src/runtime/projection.js';
import { createProjectorGroup } from '../src/runtime/projector.js';
import { readModelChecksum } from '../src/runtime/readModelChecksum.js';
import { tempPath, writeLedgerHistory } from './fixtures/ledgerFixture.js';

const projectorScript = new URL('./fixtures/projectorProcess.js', import.meta.url).pathname;

/** Runs the projector process; kills it with SIGKILL once it has committed past `killAfter`. */
const runProjector = (logPath: string, documentsPath: string, searchPath: string, killAfter?: bigint) =>
  new Promise<{ killed: boolean; lastPosition: bigint | undefined }>((resolve, reject) => {
    const child = spawn(process.execPath, [projectorScript, logPath, documentsPath, searchPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    let lastPosition: bigint | undefined;
    let killed = false;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [what, position] = line.split(' ');
      lastPosition = BigInt(position!);
      if (what === 'position' && killAfter !== undefined && lastPosition > killAfter && !killed) {
        killed = child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', () => resolve({ killed, lastPosition }));
  });

describe('projector crash safety', function () {
  this.timeout(60_000);

  it('killed with SIGKILL mid catch-up and restarted, ends with read models equal to a clean rebuild', async () => {
    const logPath = tempPath('folio-projector-crash-', 'events.sqlite');
    const log = openSqliteEventStore({ path: logPath });
    await writeLedgerHistory(log, { accounts: 12, transfers: 600 });
    const head = (await log.headPosition())!;

    const documentsPath = tempPath('folio-projector-crash-', 'readmodels.sqlite');
    const searchPath = tempPath('folio-projector-crash-', 'search.sqlite');
    const first = await runProjector(logPath, documentsPath, searchPath, head / 4n);
    expect(first.killed, 'killed mid catch-up').to.equal(true);
    const second = await runProjector(logPath, documentsPath, searchPath, head / 2n);
    expect(second.killed, 'killed again, later').to.equal(true);
    const last = await runProjector(logPath, documentsPath, searchPath);
    expect(last.lastPosition).to.equal(head);

    const rebuilt = openSqliteDocumentStore({ path: tempPath('folio-projector-crash-', 'rebuilt.sqlite') });
    const rebuiltSearch = openSqliteSearchIndex({ path: tempPath('folio-projector-crash-', 'rebuilt-search.sqlite') });
    const definitions = [balancesProjection, transactionHistoryProjection];
    const clean = createProjectorGroup({
      eventStore: log,
      documents: rebuilt,
      searchIndex: rebuiltSearch,
      readModels: definitions.map((definition) => ({ definition })),
    });
    await clean.start();
    await clean.stop();

    const survivor = openSqliteDocumentStore({ path: documentsPath });
    const survivorSearch = openSqliteSearchIndex({ path: searchPath });
    for (const definition of definitions) {
      for (const [role, collection] of Object.entries(liveCollections(definition))) {
        expect(await readModelChecksum(survivor, definition, role, collection), collection).to.equal(
          await readModelChecksum(rebuilt, definition, role, collection),
        );
      }
    }
    const searchIndex = liveSearchIndexes(transactionHistoryProjection).transactions!;
    expect(await survivorSearch.checksum(searchIndex), searchIndex).to.equal(await rebuiltSearch.checksum(searchIndex));
    await Promise.all([survivor.close(), survivorSearch.close(), rebuilt.close(), rebuiltSearch.close(), log.close()]);
  });
});

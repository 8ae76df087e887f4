import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createSearchWriter } from '../../src/search/sqliteSearchWriter.js';

const indexModule = new URL('../../src/search/sqliteSearchIndex.js', import.meta.url).href;

/** Runs an ES module in a process of its own; resolves with its exit code and output. */
const runModule = (path: string, source: string) =>
  new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    writeFileSync(path, source);
    const child = spawn(process.execPath, [path], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });

describe('SQLite search index writing on its own thread', function () {
  this.timeout(20_000);
  const directory = mkdtempSync(join(tmpdir(), 'folio-search-writer-'));
  after(() => rmSync(directory, { recursive: true, force: true }));

  it('keeps the process alive until its writes are done and the index is closed, then lets it exit', async () => {
    const { code, output } = await runModule(join(directory, 'write.mjs'), `
      import { openSqliteSearchIndex } from ${JSON.stringify(indexModule)};
      const path = ${JSON.stringify(join(directory, 'search.db'))};
      const index = openSqliteSearchIndex({ path, writeThread: true });
      await index.ensureIndex('things', { fields: { name: 'text' } });
      // Enough to make closing take a while: the thread checkpoints its log as it closes.
      const many = Array.from({ length: 20000 }, (_, n) => ({ id: 'n' + n, version: 1n, fields: { name: 'thing number ' + n } }));
      await index.upsert('things', [{ id: 'a', version: 1n, fields: { name: 'first thing' } }, ...many]);
      await index.close();
      const reopened = openSqliteSearchIndex({ path });
      const { hits } = await reopened.search('things', { text: 'first' });
      await reopened.close();
      process.stdout.write(hits.map(({ id }) => id).join(','));
    `);
    expect(code).to.equal(0);
    expect(output).to.equal('a');
  });

  it('refuses the writes a thread that died had not answered, and starts a new thread for the next one', async () => {
    const writer = createSearchWriter(join(directory, 'unused.db'), new URL('./fixtures/dyingSearchWriterThread.js', import.meta.url));
    await writer.upsert('things', []);
    const dying = writer.upsert('die', []);
    const sentBehind = writer.upsert('things', []);
    const outcomes = await Promise.allSettled([dying, sentBehind]);
    for (const outcome of outcomes) {
      expect(outcome.status).to.equal('rejected');
      expect(String((outcome as PromiseRejectedResult).reason)).to.contain('exited with code 3');
    }
    await writer.upsert('things', []);
    await writer.close();
  });
});

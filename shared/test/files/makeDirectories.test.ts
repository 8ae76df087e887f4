import { execFile } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { makeDirectories } from '../../src/files/makeDirectories.js';

const run = promisify(execFile);
const shared = new URL('../../src/index.js', import.meta.url).href;

describe('making the directories of a store or a file', () => {
  it('creates missing parents, accepts ones that exist, and fails on a path through a file', () => {
    const root = mkdtempSync(join(tmpdir(), 'folio-directories-'));
    makeDirectories(join(root, 'a', 'b', 'c'));
    expect(statSync(join(root, 'a', 'b', 'c')).isDirectory()).to.equal(true);
    makeDirectories(join(root, 'a', 'b'));
    writeFileSync(join(root, 'file'), '');
    expect(() => makeDirectories(join(root, 'file', 'x'))).to.throw(/ENOTDIR|EEXIST/);
  });

  // Node's recursive mkdir spins forever where a parent takes no new directories (/proc): every
  // embedded store opened there must fail at once. Run apart, as a spinning call cannot be stopped.
  it('fails at once to open the embedded stores where no directory can be created', async function () {
    this.timeout(30_000);
    const script = `
      const { openSqliteEventStore, openSqliteDocumentStore, openSqliteSearchIndex } = await import(${JSON.stringify(shared)});
      const failures = [];
      for (const open of [
        () => openSqliteEventStore({ path: '/proc/nope/events.sqlite' }),
        () => openSqliteDocumentStore({ path: '/proc/nope/documents.sqlite' }),
        () => openSqliteSearchIndex({ path: '/proc/nope/search.sqlite' }),
      ]) {
        try { open(); } catch (error) { failures.push(error.code); }
      }
      console.log(JSON.stringify(failures));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 });
    expect(JSON.parse(stdout)).to.deep.equal(['ENOENT', 'ENOENT', 'ENOENT']);
  });
});

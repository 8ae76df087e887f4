import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { holdSoleWriterLock, SoleWriterLockHeldError } from '../../src/eventStore/sqlite/soleWriterLock.js';

const LOCK_MODULE = new URL('../../src/eventStore/sqlite/soleWriterLock.js', import.meta.url).href;

/** A process holding the lock at `path` until it is killed. */
const holdInAnotherProcess = async (path: string) => {
  const script = `const { holdSoleWriterLock } = await import(${JSON.stringify(LOCK_MODULE)});
globalThis.held = holdSoleWriterLock(${JSON.stringify(path)}); console.log('held'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
  expect(chunk.toString().trim()).to.equal('held');
  return child;
};

describe('sole writer lock of the embedded store', () => {
  let directory: string;
  let path: string;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'folio-lock-'));
    path = join(directory, 'write-api.lock');
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('is held by one holder at a time, and free again once released', () => {
    const first = holdSoleWriterLock(path);
    expect(() => holdSoleWriterLock(path)).to.throw(SoleWriterLockHeldError, /another process runs the write API/);
    first.release();
    holdSoleWriterLock(path).release();
  });

  it('refuses while another process holds it, and is free once that process is killed', async () => {
    const child = await holdInAnotherProcess(path);
    try {
      expect(() => holdSoleWriterLock(path)).to.throw(SoleWriterLockHeldError);
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    holdSoleWriterLock(path).release();
  });
});

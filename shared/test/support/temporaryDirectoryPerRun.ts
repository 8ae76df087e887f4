/**
 * Mocha root hooks: the whole test run, and every process it starts, writes its temporary files
 * under one directory of its own, removed when the run ends. Tests create stores, read models and
 * crash victims in `tmpdir()`; a run killed part-way, or a test that cannot clean up after a
 * SIGKILLed child, would otherwise leave them behind in the machine's temporary directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const runDirectory = mkdtempSync(join(tmpdir(), 'folio-test-run-'));
// `os.tmpdir()` reads TMPDIR on every call, and child processes inherit it.
process.env.TMPDIR = runDirectory;

export const mochaHooks = {
  afterAll(): void {
    rmSync(runDirectory, { recursive: true, force: true });
  },
};

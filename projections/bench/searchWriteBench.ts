/**
 * `npm run bench:search-write`: the CPU the embedded search index's writer thread spends per
 * indexed transaction, apart from everything else a catch-up does.
 *
 * The history projection's documents for the ledger workload (`toSearchDocument`), a third of
 * them written twice (in transit, then completed in the next batch, as a catch-up often writes
 * them), are built first; then they are upserted in batches of 1,000 transactions through the
 * writer thread (`writeThread`) into a fresh on-disk index. The main thread only hands batches
 * over, so the CPU of the threads other than the main one (`/proc`, Linux) is the writer thread's
 * (plus V8's helper threads). Rounds run one after another on fresh files; medians are reported.
 *
 * Environment: BENCH_DOCUMENTS (100,000 transactions), BENCH_ROUNDS (3), BENCH_ACCOUNTS (2,000).
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteSearchIndex, type SearchDocument } from '@folio/shared';
import { median, numberFromEnv } from '@folio/shared/testing';
import { toSearchDocument, transactionSearchSchema } from '../src/index.js';
import { LedgerPlanner, transactionDocumentOf } from './ledgerWorkload.js';

const DOCUMENTS = numberFromEnv('BENCH_DOCUMENTS', 100_000);
const ROUNDS = numberFromEnv('BENCH_ROUNDS', 3);
const ACCOUNTS = numberFromEnv('BENCH_ACCOUNTS', 2_000);
const PER_BATCH = 1_000;

/** CPU seconds of one thread of this process, from `/proc` (nanoseconds in `schedstat`). */
const threadCpuSeconds = (task: number): number =>
  Number(readFileSync(`/proc/self/task/${task}/schedstat`, 'utf8').split(' ')[0]) / 1e9;

const planner = new LedgerPlanner({ accounts: ACCOUNTS });
for (const account of planner.accounts) planner.funding(account);
const batches: SearchDocument[][] = [];
let position = 1n;
let completedLater: SearchDocument[] = [];
for (let done = 0; done < DOCUMENTS; ) {
  const batch = completedLater;
  completedLater = [];
  for (let n = 0; n < PER_BATCH && done < DOCUMENTS; n++, done++) {
    const final = transactionDocumentOf(planner.next(), position++);
    if (n % 3 === 0) {
      batch.push(toSearchDocument({ ...final, status: 'in_transit' }));
      completedLater.push(toSearchDocument({ ...final, lastPosition: String(position++) }));
    } else batch.push(toSearchDocument(final));
  }
  batches.push(batch);
}
if (completedLater.length > 0) batches.push(completedLater);
const writes = batches.reduce((sum, batch) => sum + batch.length, 0);

interface Round {
  writerMicros: number;
  seconds: number;
  fileMiB: number;
}
const rounds: Round[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  const dir = mkdtempSync(join(tmpdir(), 'folio-search-write-bench-'));
  const path = join(dir, 'search.sqlite');
  const search = openSqliteSearchIndex({ path, writeThread: true });
  await search.ensureIndex('history', transactionSearchSchema);
  const all0 = process.cpuUsage();
  const main0 = threadCpuSeconds(process.pid);
  const started = performance.now();
  for (const batch of batches) await search.upsert('history', batch);
  const seconds = (performance.now() - started) / 1000;
  const { user, system } = process.cpuUsage(all0);
  const others = (user + system) / 1e6 - (threadCpuSeconds(process.pid) - main0);
  await search.close();
  const fileMiB = ['', '-wal'].reduce((sum, suffix) => {
    try {
      return sum + statSync(path + suffix).size;
    } catch {
      return sum;
    }
  }, 0) / 2 ** 20;
  rmSync(dir, { recursive: true, force: true });
  rounds.push({ writerMicros: (others * 1e6) / DOCUMENTS, seconds, fileMiB });
  console.error(`round ${round}/${ROUNDS}: ${rounds.at(-1)!.writerMicros.toFixed(1)} µs per transaction off the main thread, ${seconds.toFixed(1)} s`);
}

const cpu = cpus();
console.log(`machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown cpu'}, node ${process.version}; date: ${new Date().toISOString()}`);
console.log(
  `${DOCUMENTS.toLocaleString('en-US')} transactions, ${writes.toLocaleString('en-US')} writes in batches of about ${PER_BATCH.toLocaleString('en-US')}; ${ROUNDS} rounds`,
);
console.log(
  `writer thread CPU per transaction (median): ${median(rounds.map((r) => r.writerMicros)).toFixed(1)} µs ` +
    `(rounds: ${rounds.map((r) => r.writerMicros.toFixed(1)).join(' · ')}); ` +
    `wall ${median(rounds.map((r) => r.seconds)).toFixed(1)} s; file with WAL ${median(rounds.map((r) => r.fileMiB)).toFixed(0)} MiB`,
);

/**
 * `npm run bench:recon`: the reconciliation projection catching up from position 0 over
 * BENCH_RECON_PAYMENTS payments (default 1,000,000; each created, submitted and captured: three
 * events on its stream) and as many provider statement rows (one `StatementRowRecorded` each on its
 * own row stream), written straight into an embedded event store in group-committed chunks with
 * events built by the catalogs. Rows follow their payments chunk by chunk, as reports follow
 * traffic; a few faults are injected (0.1 % each: a skewed amount, a missing row, a ghost row) so
 * the discrepancy path is exercised too.
 *
 * Measured in the same run, interleaved: the baselines (reading the same events raw with the
 * projection's filter; reading them plus the catalogs' decode; the floor of `reconciliationFloor.ts`,
 * the least any reconciliation does), then the projection's catch-up on fresh on-disk read-model
 * stores. BENCH_ROUNDS rounds (default 1), medians.
 *
 * Wall and CPU time are both reported: the machine is shared, and CPU time per event is what
 * compares across runs.
 *
 * The log is kept in the temp directory (with a `.json` sidecar) and reused by later runs with
 * the same count and log format (LOG_FORMAT, bumped whenever `writeLog` writes something else).
 * Environment: BENCH_RECON_PAYMENTS, BENCH_ROUNDS, BENCH_LOG=<file> or `fresh`.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import {
  openSqliteDocumentStore,
  openSqliteEventStore,
  paymentCatalog,
  paymentStream,
  reconciliationCatalog,
  statementCatalog,
  type EventStore,
  type EventToAppend,
} from '@folio/shared';
import { chargeRow, median, numberFromEnv, paymentEvents, paymentIdOf, rowStreamOf, statementEvent } from '@folio/shared/testing';
import { createHash } from 'node:crypto';
import { createProjector, liveCollections, reconciliationProjection, type SummaryDocument } from '../src/index.js';
import { reconciliationFloor } from './reconciliationFloor.js';

const PAYMENTS = numberFromEnv('BENCH_RECON_PAYMENTS', 1_000_000);
const ROUNDS = numberFromEnv('BENCH_ROUNDS', 1);
const PAYMENTS_PER_CHUNK = 500;
const FAULT_EVERY = 1000;
const GOAL_SECONDS = 60;
const GOAL_PAYMENTS = 1_000_000;
/** The version of what `writeLog` writes: a cached log of another format is not reused. */
const LOG_FORMAT = 1;
const LOG =
  process.env.BENCH_LOG === 'fresh'
    ? undefined
    : (process.env.BENCH_LOG ?? join(tmpdir(), 'folio-recon-bench-logs', `format-${LOG_FORMAT}-payments-${PAYMENTS}.sqlite`));

const gc = (globalThis as { gc?: () => void }).gc;
const thousands = (value: number): string => Math.round(value).toLocaleString('en-US');
const log = (message: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
const fileHash = createHash('sha256').update('bench settlement report').digest('hex');

interface WrittenLog {
  events: number;
  payments: number;
  rows: number;
  faults: { skewed: number; missing: number; ghosts: number };
  seconds: number;
}

const rowEventOf = (rowKey: string, row: ReturnType<typeof chargeRow>, at: string): EventToAppend =>
  statementEvent(
    {
      type: 'StatementRowRecorded',
      data: {
        provider: 'sandbox',
        format: 'stripe-balance',
        fileHash,
        rowKey,
        versionHash: createHash('sha256').update(rowKey).update(String(row.gross?.amount)).digest('hex'),
        row,
      },
    },
    at,
  );

const writeLog = async (store: EventStore): Promise<WrittenLog> => {
  const started = performance.now();
  const faults = { skewed: 0, missing: 0, ghosts: 0 };
  let events = 0;
  let rows = 0;
  const base = Date.now();
  for (let first = 0; first < PAYMENTS; first += PAYMENTS_PER_CHUNK) {
    const last = Math.min(PAYMENTS, first + PAYMENTS_PER_CHUNK);
    const pending: Promise<unknown>[] = [];
    for (let n = first; n < last; n++) {
      const at = new Date(base + n).toISOString();
      const amount = 100n + BigInt((n * 7919) % 100_000);
      const appended = paymentEvents({ n, amount, at, until: 'captured' });
      pending.push(store.appendToStream(paymentStream(paymentIdOf(n)), appended, { expectedRevision: 'no_stream' }));
      events += appended.length;
    }
    await Promise.all(pending);
    const rowAppends: Promise<unknown>[] = [];
    for (let n = first; n < last; n++) {
      const at = new Date(base + n).toISOString();
      const amount = 100n + BigInt((n * 7919) % 100_000);
      if (n % FAULT_EVERY === 1) {
        faults.missing += 1;
        continue;
      }
      const skew = n % FAULT_EVERY === 2 ? 1n : 0n;
      if (skew !== 0n) faults.skewed += 1;
      const rowKey = `txn_${n}`;
      rowAppends.push(store.appendToStream(rowStreamOf({ rowKey }), [rowEventOf(rowKey, chargeRow(n, amount + skew), at)], { expectedRevision: 'no_stream' }));
      rows += 1;
      if (n % FAULT_EVERY === 3) {
        const ghost = `txn_ghost_${n}`;
        rowAppends.push(
          store.appendToStream(rowStreamOf({ rowKey: ghost }), [rowEventOf(ghost, { ...chargeRow(n, amount), references: [{ kind: 'charge', value: `ch_ghost_${n}` }] }, at)], {
            expectedRevision: 'no_stream',
          }),
        );
        faults.ghosts += 1;
        rows += 1;
      }
    }
    await Promise.all(rowAppends);
    events += rowAppends.length;
    if (first % 100_000 === 0) log(`  ${thousands(last)} payments, ${thousands(events)} events`);
  }
  return { events, payments: PAYMENTS, rows, faults, seconds: (performance.now() - started) / 1000 };
};

const workDir = mkdtempSync(join(tmpdir(), 'folio-recon-bench-'));
const logPath = LOG ?? join(workDir, 'events.sqlite');
let written: WrittenLog;
let generated: string;
if (LOG !== undefined && existsSync(logPath) && existsSync(`${logPath}.json`)) {
  written = JSON.parse(readFileSync(`${logPath}.json`, 'utf8')) as WrittenLog;
  generated = `reused from an earlier run (generated in ${written.seconds.toFixed(1)} s)`;
} else {
  mkdirSync(dirname(logPath), { recursive: true });
  for (const suffix of ['', '-wal', '-shm']) rmSync(logPath + suffix, { force: true });
  const writer = openSqliteEventStore({ path: logPath });
  log(`writing ${thousands(PAYMENTS)} payments and their rows to ${logPath}`);
  written = await writeLog(writer);
  await writer.close();
  if (LOG !== undefined) writeFileSync(`${logPath}.json`, JSON.stringify(written));
  generated = `generated in ${written.seconds.toFixed(1)} s (${thousands(written.events / written.seconds)} events/s)`;
}
const store = openSqliteEventStore({ path: logPath });
const filter = reconciliationProjection.filter;

const baselineRaw = async (): Promise<number> => {
  let events = 0;
  for await (const _ of store.readAll({ filter })) events += 1;
  return events;
};

const baselineDecode = async (): Promise<number> => {
  let events = 0;
  for await (const recorded of store.readAll({ filter })) {
    const catalog = recorded.streamName.startsWith('payment-')
      ? paymentCatalog
      : recorded.streamName.startsWith('reconciliation-')
        ? reconciliationCatalog
        : statementCatalog;
    catalog.decode(recorded);
    events += 1;
  }
  return events;
};

const baselineFloor = async (): Promise<number> => {
  const dir = mkdtempSync(join(workDir, 'floor-'));
  const outcome = await reconciliationFloor(store, filter, dir);
  rmSync(dir, { recursive: true, force: true });
  return outcome.events;
};

const collections = liveCollections(reconciliationProjection);

const projection = async (): Promise<{ events: number; check: string }> => {
  const dir = mkdtempSync(join(workDir, 'read-'));
  const documents = openSqliteDocumentStore({ path: join(dir, 'documents.sqlite') });
  const projector = createProjector({ eventStore: store, documents, definition: reconciliationProjection });
  await projector.start();
  await projector.stop();
  const summary = await documents.get<SummaryDocument & { [key: string]: never }>(collections.summary!, 'sandbox:EUR');
  const expected = { AMOUNT_MISMATCH: written.faults.skewed, PROVIDER_UNMATCHED: written.faults.ghosts };
  const open = summary?.open ?? {};
  const check =
    open.AMOUNT_MISMATCH === expected.AMOUNT_MISMATCH && open.PROVIDER_UNMATCHED === expected.PROVIDER_UNMATCHED
      ? `ok: ${JSON.stringify(open)}, ${thousands(summary!.matched)} matched, ${thousands(summary!.awaitingSettlement)} awaiting settlement`
      : `MISMATCH: expected ${JSON.stringify(expected)}, got ${JSON.stringify(open)}`;
  await documents.close();
  rmSync(dir, { recursive: true, force: true });
  return { events: written.events, check };
};

const results: Record<string, number[]> = { raw: [], decode: [], floor: [], projection: [] };
const cpuResults: Record<string, number[]> = { raw: [], decode: [], floor: [], projection: [] };
const loadBefore = loadavg();
let check = '';
for (let round = 1; round <= ROUNDS; round++) {
  for (const [name, work] of [
    ['raw', baselineRaw],
    ['decode', baselineDecode],
    ['floor', baselineFloor],
    ['projection', async () => {
      const outcome = await projection();
      check = outcome.check;
      return outcome.events;
    }],
  ] as const) {
    gc?.();
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    const events = await work();
    const cpu = process.cpuUsage(cpuStarted);
    const seconds = (performance.now() - started) / 1000;
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    results[name]!.push(seconds);
    cpuResults[name]!.push(cpuSeconds);
    log(`round ${round} ${name}: ${thousands(events)} events in ${seconds.toFixed(1)} s (CPU ${cpuSeconds.toFixed(1)} s, load ${loadavg()[0]!.toFixed(1)})`);
  }
}
await store.close();
rmSync(workDir, { recursive: true, force: true });

const projectionSeconds = median(results.projection!);
const rawSeconds = median(results.raw!);
const decodeSeconds = median(results.decode!);
const floorSeconds = median(results.floor!);
const cpu = (name: string) => median(cpuResults[name]!);
const perEvent = (seconds: number) => ((seconds * 1e6) / written.events).toFixed(1);
const loadAfter = loadavg();
console.log(`## Reconciliation catch-up (\`npm run bench:recon\`)

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}; ${new Date().toISOString().slice(0, 10)}.
Log: ${thousands(written.payments)} payments (${thousands(written.payments * 3)} events) and ${thousands(written.rows)} statement rows, ${thousands(written.events)} events, ${generated}.
Faults injected: ${written.faults.skewed} skewed amounts, ${written.faults.missing} missing rows, ${written.faults.ghosts} ghost rows. Rounds: ${ROUNDS} (medians).
Load average (1, 5, 15 min): ${loadBefore.map((load) => load.toFixed(1)).join(', ')} before, ${loadAfter.map((load) => load.toFixed(1)).join(', ')} after.

| scenario | seconds | events/s | × raw read | CPU s | CPU µs/event | CPU × raw read |
|---|---:|---:|---:|---:|---:|---:|
| baseline: read the events (projection's filter) | ${rawSeconds.toFixed(1)} | ${thousands(written.events / rawSeconds)} | 1.0 | ${cpu('raw').toFixed(1)} | ${perEvent(cpu('raw'))} | 1.0 |
| baseline: read + decode with the catalogs | ${decodeSeconds.toFixed(1)} | ${thousands(written.events / decodeSeconds)} | ${(decodeSeconds / rawSeconds).toFixed(1)} | ${cpu('decode').toFixed(1)} | ${perEvent(cpu('decode'))} | ${(cpu('decode') / cpu('raw')).toFixed(1)} |
| baseline: the least a reconciliation does (\`reconciliationFloor.ts\`: decode, match by reference in memory, one record per payment and row) | ${floorSeconds.toFixed(1)} | ${thousands(written.events / floorSeconds)} | ${(floorSeconds / rawSeconds).toFixed(1)} | ${cpu('floor').toFixed(1)} | ${perEvent(cpu('floor'))} | ${(cpu('floor') / cpu('raw')).toFixed(1)} |
| reconciliation projection, from position 0 | ${projectionSeconds.toFixed(1)} | ${thousands(written.events / projectionSeconds)} | ${(projectionSeconds / rawSeconds).toFixed(1)} | ${cpu('projection').toFixed(1)} | ${perEvent(cpu('projection'))} | ${(cpu('projection') / cpu('raw')).toFixed(1)} |

Goal: at most ${GOAL_SECONDS} s for ${thousands(GOAL_PAYMENTS)} payments — ${PAYMENTS !== GOAL_PAYMENTS ? 'not judged on a log of another size' : projectionSeconds <= GOAL_SECONDS ? 'met' : `**missed** (${(projectionSeconds / GOAL_SECONDS).toFixed(1)} × the goal)`}. Check: ${check}.
`);

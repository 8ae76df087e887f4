/**
 * `npm run bench:projections`: how fast the read side catches up from position 0 on the
 * embedded stores, and how fast the transaction search answers at scale.
 *
 * 1. Writes a ledger log (default 1,000,000 events, 2,000 accounts, about three events per
 *    movement) into a durable embedded event store, in group-committed chunks of about 500 events.
 * 2. Catch-up from position 0 to the head, each on fresh on-disk read-model stores: every
 *    projection together (`createProjections`), balances alone, history + search alone; beside
 *    baselines in the same run that only read the log (`readAll`; the projectors' subscription;
 *    `readAll` plus the catalog's decode) and the floor of `projectionsFloor.ts`, the least the
 *    read models need. Rounds are interleaved; medians are reported.
 * 3. Freshness while live: every projection caught up on an empty log of its own, then movements
 *    are appended at a steady rate (BENCH_LIVE_RATE events/s for BENCH_LIVE_SECONDS), and each
 *    chunk's time from committed to reflected by every read model (`waitFor`) is recorded.
 * 4. Search latency over the history index the last full catch-up built, then again after the
 *    index is grown to `BENCH_TRANSACTIONS` documents (written directly, in the history
 *    projection's `toSearchDocument` shape) when the log holds fewer movements than that.
 *
 * The npm script runs node with `--expose-gc` (a full GC between scenarios, so one scenario's
 * garbage does not slow the next) and the default heap limit.
 *
 * Writing the log takes about a minute per million events, so it is kept (with a `.json`
 * sidecar) in the temp directory and reused by later runs with the same event and account
 * counts; the output says whether the log was generated or reused.
 *
 * Environment: BENCH_EVENTS (1,000,000), BENCH_TRANSACTIONS (1,000,000), BENCH_ACCOUNTS (2,000),
 * BENCH_ROUNDS (3), BENCH_SEARCH_RUNS (200 per query kind), BENCH_SCENARIOS (comma-separated
 * names below; default all), BENCH_SEARCH=0 to skip search, BENCH_LIVE=0 to skip freshness,
 * BENCH_LIVE_RATE (3,000), BENCH_LIVE_SECONDS (10), BENCH_LOG=<file> to keep the log
 * elsewhere, BENCH_LOG=fresh to write a new one and delete it afterwards.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import {
  ledgerCatalog,
  openSqliteDocumentStore,
  openSqliteEventStore,
  openSqliteSearchIndex,
  type DocumentStore,
  type SearchIndex,
} from '@folio/shared';
import {
  balancesProjection,
  createProjections,
  createProjector,
  liveCollections,
  toSearchDocument,
  transactionHistoryProjection,
} from '../src/index.js';
import { LedgerPlanner, transactionDocumentOf, writeLedgerLog, type WrittenLog } from './ledgerWorkload.js';
import { projectionsFloor } from './projectionsFloor.js';
import { measureSearch, searchKinds, statsOf, type LatencyStats } from './searchWorkload.js';
import { median, numberFromEnv } from '@folio/shared/testing';

const EVENTS = numberFromEnv('BENCH_EVENTS', 1_000_000);
const TRANSACTIONS = numberFromEnv('BENCH_TRANSACTIONS', 1_000_000);
const ACCOUNTS = numberFromEnv('BENCH_ACCOUNTS', 2_000);
const ROUNDS = numberFromEnv('BENCH_ROUNDS', 3);
const SEARCH_RUNS = numberFromEnv('BENCH_SEARCH_RUNS', 200);
const EVENTS_PER_COMMIT = 500;
const SEARCH = process.env.BENCH_SEARCH !== '0';
const LIVE = process.env.BENCH_LIVE !== '0';
const LIVE_RATE = numberFromEnv('BENCH_LIVE_RATE', 3_000);
const LIVE_SECONDS = numberFromEnv('BENCH_LIVE_SECONDS', 10);
const LIVE_EVENTS_PER_COMMIT = 60;
const GOAL_FRESH_MS = 1_000;
const LOG =
  process.env.BENCH_LOG === 'fresh'
    ? undefined
    : (process.env.BENCH_LOG ?? join(tmpdir(), 'folio-projections-bench-logs', `events-${EVENTS}-accounts-${ACCOUNTS}.sqlite`));
const GOAL_EVENTS_PER_SECOND = 50_000;
const GOAL_SEARCH_P95_MS = 50;
const SEARCH_ALIAS = 'history-transactions';

const gc = (globalThis as { gc?: () => void }).gc;
const thousands = (value: number): string => Math.round(value).toLocaleString('en-US');
const microsPerEvent = (seconds: number | undefined, { events }: { events: number }): string =>
  seconds === undefined ? '–' : ((seconds * 1e6) / events).toFixed(1);
const ms = (value: number): string => (value < 10 ? value.toFixed(2) : value.toFixed(1));
const fileMiB = (path: string): number =>
  ['', '-wal'].reduce((sum, suffix) => sum + (existsSync(path + suffix) ? statSync(path + suffix).size : 0), 0) / 2 ** 20;
const log = (message: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${message}`);

// ---------------------------------------------------------------------------------------------
// 1. The log
// ---------------------------------------------------------------------------------------------

const workDir = mkdtempSync(join(tmpdir(), 'folio-projections-bench-'));
const logPath = LOG ?? join(workDir, 'events.sqlite');
const planner = new LedgerPlanner({ accounts: ACCOUNTS });
let written: WrittenLog;
let generated: string;
if (LOG !== undefined && existsSync(logPath) && existsSync(`${logPath}.json`)) {
  const sidecar = JSON.parse(readFileSync(`${logPath}.json`, 'utf8')) as WrittenLog & { accounts: number };
  if (sidecar.events < EVENTS) {
    throw new TypeError(`${logPath} holds ${sidecar.events} events, fewer than ${EVENTS}: delete it or change BENCH_LOG`);
  }
  if (sidecar.accounts !== ACCOUNTS) {
    throw new TypeError(`${logPath} was generated with ${sidecar.accounts} accounts, not ${ACCOUNTS}: delete it or change BENCH_LOG`);
  }
  written = sidecar;
  // Replays the planner (without writing) so the queries know the accounts and references.
  for (const account of planner.accounts) planner.funding(account);
  while (planner.movements < written.movements) planner.next();
  generated = `reused from ${logPath}, generated earlier in ${written.seconds.toFixed(1)} s`;
  log(`reusing ${written.events} events from ${logPath}`);
} else {
  mkdirSync(dirname(logPath), { recursive: true });
  // A log left by an interrupted run has no sidecar: it starts again.
  for (const suffix of ['', '-wal', '-shm']) rmSync(logPath + suffix, { force: true });
  const writer = openSqliteEventStore({ path: logPath });
  log(`writing about ${thousands(EVENTS)} events to ${logPath}`);
  written = await writeLedgerLog(writer, planner, {
    targetEvents: EVENTS,
    eventsPerCommit: EVENTS_PER_COMMIT,
    onProgress: (events) => log(`  ${thousands(events)} events`),
  });
  await writer.close();
  if (LOG !== undefined) writeFileSync(`${logPath}.json`, JSON.stringify({ ...written, accounts: ACCOUNTS }));
  generated = `generated in ${written.seconds.toFixed(1)} s (${thousands(written.events / written.seconds)} events/s, ${thousands(written.appends)} appends)`;
}
const store = openSqliteEventStore({ path: logPath });

// ---------------------------------------------------------------------------------------------
// 2. Catch-up
// ---------------------------------------------------------------------------------------------

interface CatchUpResult {
  events: number;
  seconds: number;
  /** V8 heap in use the moment the read side reported caught up (or the read loop ended). */
  heapMiB: number;
  /** Longest time the event loop got no turn (timers, I/O, HTTP in an all-in-one process). */
  stallSeconds?: number;
  check?: string;
  /** CPU time of every thread of the process, and of the main thread alone (where the OS tells it). */
  cpuSeconds: number;
  mainCpuSeconds: number | undefined;
  /** Time the main thread stood still for garbage collection (scavenges and the pauses of major collections). */
  gcPauseSeconds: number;
}

const heapMiB = (): number => process.memoryUsage().heapUsed / 2 ** 20;

/**
 * CPU seconds the main thread has used, from `/proc` (Linux, in clock ticks of 1/100 s);
 * undefined elsewhere. Beside the process's total it shows what the search index's writer
 * thread takes off the main thread, and unlike wall time it barely moves with the machine's load.
 */
const mainThreadCpuSeconds = (): number | undefined => {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
};

/** The main thread's garbage collection pauses from now on; call the result to stop and read them. */
const watchGcPauses = (): (() => number) => {
  let milliseconds = 0;
  const add = (entries: readonly { duration: number }[]) => {
    for (const entry of entries) milliseconds += entry.duration;
  };
  const observer = new PerformanceObserver((list) => add(list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  return () => {
    add(observer.takeRecords());
    observer.disconnect();
    return milliseconds / 1000;
  };
};

/** Starts measuring CPU time and garbage collection pauses; the result reads them. */
const cpuMeter = () => {
  const process0 = process.cpuUsage();
  const main0 = mainThreadCpuSeconds();
  const gcPauses = watchGcPauses();
  return () => {
    const { user, system } = process.cpuUsage(process0);
    const main = mainThreadCpuSeconds();
    return {
      cpuSeconds: (user + system) / 1e6,
      mainCpuSeconds: main === undefined || main0 === undefined ? undefined : main - main0,
      gcPauseSeconds: gcPauses(),
    };
  };
};

/** Watches for the longest gap between turns of a 10 ms interval timer; call the result to stop. */
const watchStalls = (): (() => number) => {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 10);
  return () => {
    clearInterval(timer);
    return Math.max(longest, performance.now() - last) / 1000;
  };
};

interface ReadModelStores {
  dir: string;
  documents: DocumentStore;
  searchIndex: SearchIndex;
  close(): Promise<void>;
}

const freshReadModels = (): ReadModelStores => {
  const dir = mkdtempSync(join(workDir, 'read-'));
  const documents = openSqliteDocumentStore({ path: join(dir, 'documents.sqlite') });
  const searchIndex = openSqliteSearchIndex({ path: join(dir, 'search.sqlite'), writeThread: true });
  return {
    dir,
    documents,
    searchIndex,
    close: async () => {
      await documents.close();
      await searchIndex.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

const timed = async (work: () => Promise<number>): Promise<CatchUpResult> => {
  const cpu = cpuMeter();
  const started = performance.now();
  const events = await work();
  return { events, seconds: (performance.now() - started) / 1000, heapMiB: heapMiB(), ...cpu() };
};

/** What the read models must hold after a full catch-up. */
const expectedTransactions = written.movements;
const expectedAccounts = ACCOUNTS + planner.banks.size;
const historyCollection = liveCollections(transactionHistoryProjection).transactions!;
const accountsCollection = liveCollections(balancesProjection).accounts!;

const checkOf = async (documents: DocumentStore, parts: { history: boolean; balances: boolean }): Promise<string> => {
  const problems: string[] = [];
  if (parts.history) {
    const count = await documents.count(historyCollection);
    if (count !== expectedTransactions) problems.push(`${count} transactions, expected ${expectedTransactions}`);
  }
  if (parts.balances) {
    const count = await documents.count(accountsCollection);
    if (count !== expectedAccounts) problems.push(`${count} accounts, expected ${expectedAccounts}`);
  }
  return problems.length === 0 ? 'ok' : problems.join('; ');
};

/** The stores of the last full catch-up, kept for the search measurements. */
let kept: ReadModelStores | undefined;

interface Scenario {
  name: string;
  key: string;
  baseline: boolean;
  run(): Promise<CatchUpResult>;
}

const projectorScenario = async (which: 'all' | 'balances' | 'history'): Promise<CatchUpResult> => {
  const stores = freshReadModels();
  const { documents, searchIndex } = stores;
  // A projector retries after an error; the bench stops at the first instead.
  let onError!: (error: unknown) => void;
  const failed = new Promise<never>((_, reject) => {
    onError = reject;
  });
  const stalls = watchStalls();
  const cpu = cpuMeter();
  const started = performance.now();
  let stop: () => Promise<void>;
  if (which === 'all') {
    const projections = createProjections({ eventStore: store, documents, searchIndex, onError });
    await Promise.race([projections.start(), failed]);
    stop = projections.stop;
  } else {
    const projector = createProjector({
      eventStore: store,
      documents,
      definition: which === 'balances' ? balancesProjection : transactionHistoryProjection,
      ...(which === 'history' ? { searchIndex } : {}),
      onError,
    });
    await Promise.race([projector.start(), failed]);
    stop = projector.stop;
  }
  const seconds = (performance.now() - started) / 1000;
  const used = cpu();
  const stallSeconds = stalls();
  const heap = heapMiB();
  await stop();
  const check = await checkOf(documents, { history: which !== 'balances', balances: which !== 'history' });
  if (which === 'all') {
    await kept?.close();
    kept = stores;
  } else {
    await stores.close();
  }
  return { events: written.events, seconds, heapMiB: heap, stallSeconds, check, ...used };
};

const filter = balancesProjection.filter;
const scenarios: Scenario[] = [
  {
    key: 'readAll',
    name: 'baseline: `readAll` loop, nothing else',
    baseline: true,
    run: () =>
      timed(async () => {
        let events = 0;
        for await (const _event of store.readAll()) events += 1;
        return events;
      }),
  },
  {
    key: 'subscribe',
    name: 'baseline: `subscribeToAll` (projection filter) to caught-up',
    baseline: true,
    run: () =>
      timed(async () => {
        let events = 0;
        const subscription = store.subscribeToAll({ fromPosition: 'start', filter });
        for await (const message of subscription) {
          if (message.kind === 'event') events += 1;
          else if (message.kind === 'caughtUp') break;
        }
        await subscription.unsubscribe();
        return events;
      }),
  },
  {
    key: 'decode',
    name: 'baseline: `readAll` + `ledgerCatalog.decode`',
    baseline: true,
    run: () =>
      timed(async () => {
        let events = 0;
        for await (const event of store.readAll()) {
          ledgerCatalog.decode(event);
          events += 1;
        }
        return events;
      }),
  },
  {
    key: 'floor',
    name: 'baseline: the least the read models need (`projectionsFloor.ts`: decode, fold, one SQLite file, indexes at the end)',
    baseline: true,
    run: () =>
      timed(async () => {
        const dir = mkdtempSync(join(workDir, 'floor-'));
        const events = await projectionsFloor(store, dir);
        rmSync(dir, { recursive: true, force: true });
        return events;
      }),
  },
  { key: 'all', name: 'catch-up: all projections (`createProjections`)', baseline: false, run: () => projectorScenario('all') },
  { key: 'balances', name: 'catch-up: balances only', baseline: false, run: () => projectorScenario('balances') },
  { key: 'history', name: 'catch-up: history + search index only', baseline: false, run: () => projectorScenario('history') },
];
const wanted = process.env.BENCH_SCENARIOS?.split(',').map((key) => key.trim());
const selected = scenarios.filter((scenario) => wanted === undefined || wanted.includes(scenario.key));
// The full catch-up runs last in each round, so the stores it leaves are the newest.
selected.sort((a, b) => Number(a.key === 'all') - Number(b.key === 'all'));

const results = new Map<string, CatchUpResult[]>();
for (let round = 1; round <= ROUNDS; round++) {
  for (const scenario of selected) {
    // The stores closed by the previous scenario finish their work before the next one is timed.
    await new Promise((resolve) => setTimeout(resolve, 100));
    gc?.();
    log(`round ${round}/${ROUNDS}: ${scenario.name}`);
    const result = await scenario.run();
    log(
      `  ${thousands(result.events / result.seconds)} events/s (${result.seconds.toFixed(1)} s), ` +
        `CPU ${microsPerEvent(result.cpuSeconds, result)} µs/event (main thread ${microsPerEvent(result.mainCpuSeconds, result)}), ` +
        `GC pauses ${result.gcPauseSeconds.toFixed(1)} s, heap ${result.heapMiB.toFixed(0)} MiB` +
        `${result.stallSeconds === undefined ? '' : `, longest event-loop stall ${result.stallSeconds.toFixed(1)} s`}` +
        `${result.check ? `, check ${result.check}` : ''}`,
    );
    results.set(scenario.key, [...(results.get(scenario.key) ?? []), result]);
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Freshness while live
// ---------------------------------------------------------------------------------------------

interface LiveRun {
  events: number;
  seconds: number;
  lag: LatencyStats;
  /** Chunks not reflected within 10 s. */
  missed: number;
}
let live: LiveRun | undefined;
if (LIVE) {
  const stores = freshReadModels();
  const liveLog = openSqliteEventStore({ path: join(stores.dir, 'live-events.sqlite') });
  const projections = createProjections({ eventStore: liveLog, documents: stores.documents, searchIndex: stores.searchIndex });
  await projections.start();
  log(`live: ${thousands(LIVE_RATE)} events/s for ${LIVE_SECONDS} s, ${LIVE_EVENTS_PER_COMMIT} events per commit`);
  const lags: number[] = [];
  const waits: Promise<void>[] = [];
  let missed = 0;
  const started = performance.now();
  let sent = 0;
  const livePlanner = new LedgerPlanner({ accounts: 200 });
  const written = await writeLedgerLog(liveLog, livePlanner, {
    targetEvents: LIVE_RATE * LIVE_SECONDS,
    eventsPerCommit: LIVE_EVENTS_PER_COMMIT,
    onCommit: async (position) => {
      const committed = performance.now();
      waits.push(
        projections.waitFor(position, 10_000).then((reflected) => {
          if (reflected) lags.push(performance.now() - committed);
          else missed += 1;
        }),
      );
      // Paced: the next chunk is written when the rate allows it.
      sent += LIVE_EVENTS_PER_COMMIT;
      const due = started + (sent / LIVE_RATE) * 1000;
      if (due > performance.now()) await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
    },
  });
  await Promise.all(waits);
  live = { events: written.events, seconds: (performance.now() - started) / 1000, lag: statsOf(lags, 0), missed };
  log(`  lag p50 ${ms(live.lag.p50)} ms, p95 ${ms(live.lag.p95)} ms, max ${ms(live.lag.max)} ms`);
  await projections.stop();
  await liveLog.close();
  await stores.close();
}

// ---------------------------------------------------------------------------------------------
// 4. Search
// ---------------------------------------------------------------------------------------------

interface SearchRun {
  title: string;
  documents: number;
  perKind: Map<string, LatencyStats>;
  overall: LatencyStats;
}
const searchRuns: SearchRun[] = [];
let topUp: { documents: number; seconds: number } | undefined;
let searchDbMiB = 0;
let grownSearchDbMiB = 0;
let documentsDbMiB = 0;

if (SEARCH && kept === undefined) log('search skipped: it uses the index of the full catch-up (scenario "all")');
if (SEARCH && kept !== undefined) {
  const search = kept.searchIndex;
  const index = (await search.resolveAlias(SEARCH_ALIAS))!;
  const startMs = Date.UTC(2025, 0, 1);
  let random = 1234567;
  const context = {
    search,
    index,
    accounts: planner.accounts,
    references: [...planner.sampleReferences],
    fromMs: startMs,
    toMs: Date.parse(planner.next().movement.requestedAt),
    random: () => {
      random = (random * 48271) % 2147483647;
      return random / 2147483647;
    },
  };
  documentsDbMiB = fileMiB(join(kept.dir, 'documents.sqlite'));
  searchDbMiB = fileMiB(join(kept.dir, 'search.sqlite'));
  log(`search: ${searchKinds.length} kinds × ${SEARCH_RUNS} runs at ${thousands(expectedTransactions)} transactions`);
  searchRuns.push({
    title: `${thousands(expectedTransactions)} transactions, all from the catch-up`,
    documents: expectedTransactions,
    ...(await measureSearch(context, SEARCH_RUNS)),
  });

  if (TRANSACTIONS > expectedTransactions) {
    const missing = TRANSACTIONS - expectedTransactions;
    log(`growing the index by ${thousands(missing)} documents (toSearchDocument shape, 1,000 per upsert)`);
    const head = (await store.headPosition()) ?? 0n;
    const started = performance.now();
    for (let done = 0; done < missing; ) {
      const batch = [];
      for (let n = 0; n < 1000 && done < missing; n++, done++) {
        batch.push(toSearchDocument(transactionDocumentOf(planner.next(), head + BigInt(done + 1))));
      }
      await search.upsert(index, batch);
    }
    topUp = { documents: missing, seconds: (performance.now() - started) / 1000 };
    context.references = [...planner.sampleReferences];
    context.toMs = Date.parse(planner.next().movement.requestedAt);
    log(`search: ${searchKinds.length} kinds × ${SEARCH_RUNS} runs at ${thousands(TRANSACTIONS)} transactions`);
    searchRuns.push({
      title:
        `${thousands(TRANSACTIONS)} transactions: ${thousands(expectedTransactions)} from the catch-up + ` +
        `${thousands(missing)} indexed directly (history projection's \`toSearchDocument\`)`,
      documents: TRANSACTIONS,
      ...(await measureSearch(context, SEARCH_RUNS)),
    });
    grownSearchDbMiB = fileMiB(join(kept.dir, 'search.sqlite'));
  }
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

const eventsMiB = fileMiB(logPath);
await kept?.close();
await store.close();
rmSync(workDir, { recursive: true, force: true });

const cpu = cpus();
console.log(`machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${process.platform}`);
console.log(`date: ${new Date().toISOString()}; ${ROUNDS} rounds, interleaved; stores on disk under ${tmpdir()} (log: WAL, synchronous=FULL)`);
console.log(
  `log: ${thousands(written.events)} events, ${thousands(written.movements)} movements ` +
    `(${thousands(written.outcomes.completed)} completed, ${thousands(written.outcomes.failed)} failed, ` +
    `${thousands(written.outcomes.in_transit)} in transit), ${ACCOUNTS} accounts; ${eventsMiB.toFixed(0)} MiB; ${generated}`,
);

console.log('\n### Catch-up from position 0 to the head\n');
console.log(
  '| scenario | events/s (median) | s (median) | ÷ `readAll` | rounds (events/s) | CPU µs/event, all threads (median) | main thread (median) | main thread ÷ `readAll` | main thread in GC pauses, share of wall time (median) | heap when caught up, MiB (max) | longest event-loop stall, s (max) | read models |',
);
console.log('|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|');
const rateOf = (result: CatchUpResult) => result.events / result.seconds;
const readAllMedian = results.has('readAll') ? median(results.get('readAll')!.map(rateOf)) : undefined;
const mainMicros = (runs: readonly CatchUpResult[]): number | undefined =>
  runs.some((run) => run.mainCpuSeconds === undefined) ? undefined : median(runs.map((run) => (run.mainCpuSeconds! * 1e6) / run.events));
const readAllMainMicros = results.has('readAll') ? mainMicros(results.get('readAll')!) : undefined;
for (const scenario of selected) {
  const runs = results.get(scenario.key)!;
  const rate = median(runs.map(rateOf));
  console.log(
    `| ${scenario.name} | ${thousands(rate)} | ${median(runs.map((run) => run.seconds)).toFixed(1)} | ` +
      `${readAllMedian === undefined ? '–' : (rate / readAllMedian).toFixed(2)} | ${runs.map((run) => thousands(rateOf(run))).join(' · ')} | ` +
      `${median(runs.map((run) => (run.cpuSeconds * 1e6) / run.events)).toFixed(1)} | ${mainMicros(runs)?.toFixed(1) ?? '–'} | ` +
      `${mainMicros(runs) === undefined || readAllMainMicros === undefined ? '–' : (readAllMainMicros / mainMicros(runs)!).toFixed(2)} | ` +
      `${(100 * median(runs.map((run) => run.gcPauseSeconds / run.seconds))).toFixed(0)} % | ` +
      `${Math.max(...runs.map((run) => run.heapMiB)).toFixed(0)} | ` +
      `${scenario.baseline ? '–' : Math.max(...runs.map((run) => run.stallSeconds ?? 0)).toFixed(1)} | ` +
      `${scenario.baseline ? '–' : [...new Set(runs.map((run) => run.check))].join(', ')} |`,
  );
}
if (results.has('all')) {
  const rate = median(results.get('all')!.map(rateOf));
  console.log(
    `\ngoal: catch-up ≥ ${thousands(GOAL_EVENTS_PER_SECOND)} events/s — measured ${thousands(rate)} events/s: ` +
      `${rate >= GOAL_EVENTS_PER_SECOND ? 'met' : 'MISSED'}`,
  );
}
if (documentsDbMiB > 0) console.log(`read models after a full catch-up: documents ${documentsDbMiB.toFixed(0)} MiB, search index ${searchDbMiB.toFixed(0)} MiB`);

if (live !== undefined) {
  console.log('\n### Freshness while live\n');
  console.log(
    `Every projection caught up, then ${thousands(live.events)} events appended in ${live.seconds.toFixed(1)} s ` +
      `(${thousands(live.events / live.seconds)} events/s, ${LIVE_EVENTS_PER_COMMIT} per commit); lag = commit to reflected by every read model.\n`,
  );
  console.log('| commits | lag p50 ms | lag p95 ms | lag max ms | not reflected within 10 s |');
  console.log('|---:|---:|---:|---:|---:|');
  console.log(`| ${live.lag.runs} | ${ms(live.lag.p50)} | ${ms(live.lag.p95)} | ${ms(live.lag.max)} | ${live.missed} |`);
  console.log(
    `\ngoal: fresh within ${thousands(GOAL_FRESH_MS)} ms when live — max lag ${ms(live.lag.max)} ms: ` +
      `${live.missed === 0 && live.lag.max <= GOAL_FRESH_MS ? 'met' : 'MISSED'}`,
  );
}

for (const run of searchRuns) {
  console.log(`\n### Search latency, ${run.title}\n`);
  console.log(`${SEARCH_RUNS} runs per kind, limit 50 per page, one connection, interleaved kinds.\n`);
  console.log('| query | runs | p50 ms | p95 ms | max ms | hits per page (mean) |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [name, stats] of [...run.perKind, ['**overall**', run.overall] as const]) {
    console.log(`| ${name} | ${stats.runs} | ${ms(stats.p50)} | ${ms(stats.p95)} | ${ms(stats.max)} | ${stats.meanHits.toFixed(1)} |`);
  }
  const worst = Math.max(...[...run.perKind.values()].map((stats) => stats.p95));
  console.log(
    `\ngoal: search p95 ≤ ${GOAL_SEARCH_P95_MS} ms at ${thousands(run.documents)} transactions — overall p95 ${ms(run.overall.p95)} ms, ` +
      `worst kind p95 ${ms(worst)} ms: ${run.overall.p95 <= GOAL_SEARCH_P95_MS ? 'met overall' : 'MISSED overall'}` +
      `${worst <= GOAL_SEARCH_P95_MS ? ', met for every kind' : ', missed for some kinds'}`,
  );
}
if (topUp !== undefined) {
  console.log(
    `\nindex growth: ${thousands(topUp.documents)} documents upserted in ${topUp.seconds.toFixed(1)} s ` +
      `(${thousands(topUp.documents / topUp.seconds)} documents/s, 1,000 per upsert); search index now ${grownSearchDbMiB.toFixed(0)} MiB`,
  );
}

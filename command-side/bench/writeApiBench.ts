/**
 * `npm run bench:api`: the write API over HTTP, measured with autocannon from this process, beside
 * a bare express JSON echo endpoint in a child process measured in the same run. Folio runs in two
 * shapes, each on the embedded store with fsync on:
 * - `all-in-one`: as `npm start` runs it (the standalone entry point: write API, projections and
 *   read API in one process);
 * - `split`: as docker-compose lays it out, the command-side service in one process and the
 *   projections in another, both on the same data directory (the projections follow the log the
 *   command side writes).
 * Each round starts each shape fresh on a fresh data directory, opens and funds the accounts over
 * HTTP, warms it up, then measures every scenario once; rounds interleave so the machine's noise
 * spreads over all scenarios alike, and the table shows medians.
 *
 * Environment: BENCH_ROUNDS (3), BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (3), BENCH_ACCOUNTS
 * (200), BENCH_CONNECTIONS (50), BENCH_BATCH_CONNECTIONS (comma-separated, "50,4"),
 * BENCH_SCENARIOS (a comma-separated subset of echo,single,hot,batch), BENCH_SHAPES (a comma-separated
 * subset of all-in-one,split), BENCH_DATA_DIR (where the
 * temporary data directories go; the OS temp dir by default) and BENCH_CPU_PROF_DIR (when set,
 * the Folio server runs under `node --cpu-prof` and writes one profile per round there).
 *
 * Besides rates, each scenario reports the CPU time the server process (all its threads) spent
 * during the measurement per completed transfer (per echoed request for the echo): on a shared
 * machine the rates follow the other work running, while CPU time per transfer mostly does not.
 * In the split shape the projections process's CPU per transfer is reported beside it.
 */
import { generateApiKey } from '@folio/shared';
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { median, numberFromEnv } from '@folio/shared/testing';

const env = process.env;
/** The admin key the bench starts Folio with and calls it with. */
const BENCH_KEY = generateApiKey().token;
const ROUNDS = numberFromEnv('BENCH_ROUNDS', 3);
const SECONDS = numberFromEnv('BENCH_SECONDS', 10);
const WARMUP_SECONDS = numberFromEnv('BENCH_WARMUP_SECONDS', 3, 0);
const ACCOUNTS = numberFromEnv('BENCH_ACCOUNTS', 200);
const CONNECTIONS = numberFromEnv('BENCH_CONNECTIONS', 50);
const BATCH_CONNECTIONS = (env.BENCH_BATCH_CONNECTIONS ?? '50,4').split(',').map(Number);
const BATCH_SIZE = 1000;
const SCENARIOS = new Set((env.BENCH_SCENARIOS ?? 'echo,single,hot,batch').split(',').map((name) => name.trim()));
const SHAPES = (env.BENCH_SHAPES ?? 'all-in-one,split').split(',').map((name) => name.trim());
for (const shape of SHAPES) {
  if (shape !== 'all-in-one' && shape !== 'split') throw new Error(`unknown BENCH_SHAPES entry ${shape}`);
}
const DATA_ROOT = env.BENCH_DATA_DIR ?? tmpdir();
const CPU_PROF_DIR = env.BENCH_CPU_PROF_DIR;

const CURRENCY = 'EUR';
/** Each spread account is funded with this many minor units: far more than a run can move. */
const FUNDING = 10n ** 12n;
const HOT_FUNDING = 10n ** 15n;

const MAIN_SCRIPT = fileURLToPath(new URL('../../../standalone/dist/src/main.js', import.meta.url));
const COMMAND_SIDE_SCRIPT = fileURLToPath(new URL('../src/main.js', import.meta.url));
const PROJECTIONS_SCRIPT = fileURLToPath(new URL('../../../projections/dist/src/main.js', import.meta.url));
const ECHO_SCRIPT = fileURLToPath(new URL('./echoServer.js', import.meta.url));

// ---------------------------------------------------------------------------------------------
// Statistics

const format = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);

// ---------------------------------------------------------------------------------------------
// Child processes

interface ServerProcess {
  url: string;
  /** CPU time the process has used so far (user + system, every thread), in ms; NaN where unknown. */
  cpuMs: () => number;
  /** Lines the server logged at warn or error level: a clean run has none. */
  complaints: string[];
  stop: () => Promise<void>;
}

/**
 * Starts `script` in its own node process (so the load generator never shares its event loop)
 * and resolves once it prints its `{"msg": readyMessage, "port": …}` line.
 */
const startServer = (
  name: string,
  script: string,
  readyMessage: string,
  extraEnv: Record<string, string>,
  nodeArgs: string[] = [],
): Promise<ServerProcess> =>
  new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [...nodeArgs, script], {
      // Fifty connections with a batch of 1,000 each in flight ask more of one key's money bucket at
      // once than its burst holds: the bench measures the server, so the limit stays out of its way.
      env: { ...env, FOLIO_BOOTSTRAP_ADMIN_KEY: BENCH_KEY, FOLIO_RATE_MONEY_PER_SECOND: '1000000000', FOLIO_RATE_MONEY_BURST: '1000000000', ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const complaints: string[] = [];
    let stderr = '';
    let ready = false;
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-20_000);
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let message: { msg?: unknown; port?: unknown; level?: unknown } | undefined;
      try {
        message = JSON.parse(line) as typeof message;
      } catch {
        message = undefined;
      }
      if (!ready && message?.msg === readyMessage && typeof message.port === 'number') {
        ready = true;
        resolve({
          url: `http://127.0.0.1:${message.port}`,
          cpuMs: () => processCpuMs(child.pid),
          complaints,
          stop: async () => {
            if (child.exitCode !== null || child.signalCode !== null) return;
            child.kill('SIGTERM');
            const forced = setTimeout(() => child.kill('SIGKILL'), 60_000);
            await exited;
            clearTimeout(forced);
          },
        });
      } else if (message?.level === 'error' || message?.level === 'warn') {
        complaints.push(line);
      }
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (!ready) reject(new Error(`${name} exited (${code ?? signal}) before listening:\n${stderr}`));
      else if (code !== 0) console.error(`${name} exited with ${code ?? signal}:\n${stderr}`);
    });
  });

/** Clock ticks per second of `/proc/<pid>/stat` times: 100 on every Linux this runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime of a process from `/proc` (Linux), in ms; NaN elsewhere. */
const processCpuMs = (pid: number | undefined): number => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
};

/** Whether `path` lies on a RAM file system, where fsync costs nothing and "durable" means little. */
const onTmpfs = (path: string): boolean => {
  try {
    return statfsSync(path).type === 0x01021994;
  } catch {
    return false;
  }
};

// ---------------------------------------------------------------------------------------------
// Setup over HTTP

const post = async (base: string, path: string, body: unknown, idempotencyKey?: string): Promise<Record<string, unknown>> => {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${BENCH_KEY}`,
      ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }),
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
};

const get = async (base: string, path: string): Promise<Record<string, unknown>> => {
  const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${BENCH_KEY}` } });
  const text = await response.text();
  if (!response.ok) throw new Error(`GET ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
};

/** Runs `task(0 … count-1)` with at most `limit` in flight. */
const inParallel = async <T>(count: number, limit: number, task: (index: number) => Promise<T>): Promise<T[]> => {
  const results = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) {
        const index = next++;
        results[index] = await task(index);
      }
    }),
  );
  return results;
};

const runId = randomUUID().slice(0, 8);
let keyCounter = 0;
/** A fresh Idempotency-Key: unique per request across the whole run. */
const nextKey = (): string => `bench-${runId}-${++keyCounter}`;

interface Ledger {
  /** The accounts transfers spread over. */
  accounts: string[];
  /** The source of every transfer of the hot-account scenario. */
  hot: string;
  /** Every deposit made, to check that transfers conserve money. */
  deposited: bigint;
}

const openFundedAccount = async (base: string, owner: string, funding: bigint): Promise<string> => {
  const account = await post(base, '/v1/accounts', { ownerId: owner, currency: CURRENCY, kind: 'customer' }, nextKey());
  const id = String(account.id);
  await post(base, '/v1/deposits', { accountId: id, amount: funding.toString(), currency: CURRENCY, reference: `funding ${owner}` }, nextKey());
  return id;
};

const openLedger = async (base: string): Promise<Ledger> => {
  const accounts = await inParallel(ACCOUNTS, 20, (index) => openFundedAccount(base, `bench-owner-${index}`, FUNDING));
  const hot = await openFundedAccount(base, 'bench-hot-owner', HOT_FUNDING);
  return { accounts, hot, deposited: FUNDING * BigInt(ACCOUNTS) + HOT_FUNDING };
};

/**
 * Σ posted balances of the bench's accounts must equal what was deposited once every transfer
 * has ended (a transfer still running when the load stopped may briefly hold money in transit).
 */
const checkConservation = async (base: string, ledger: Ledger): Promise<string> => {
  let last = '';
  for (let attempt = 0; attempt < 10; attempt++) {
    const views = await inParallel(ledger.accounts.length + 1, 20, (index) =>
      get(base, `/v1/accounts/${index < ledger.accounts.length ? ledger.accounts[index] : ledger.hot}`),
    );
    let posted = 0n;
    let pending = 0n;
    let negative = 0;
    for (const view of views) {
      const balance = view.balance as { posted: string; pending: string; available: string };
      posted += BigInt(balance.posted);
      pending += BigInt(balance.pending);
      if (BigInt(balance.available) < 0n) negative++;
    }
    last = `Σ posted ${posted}, Σ pending ${pending}, deposited ${ledger.deposited}, negative available ${negative}`;
    if (posted === ledger.deposited && pending === 0n && negative === 0) return `ok (${last})`;
    await new Promise((done) => setTimeout(done, 1000));
  }
  return `MISMATCH (${last})`;
};

/**
 * Waits until the log's head stops moving: autocannon drops the requests still in flight when a
 * measurement ends, but the server finishes them, and that work must not leak into the next one.
 */
const quiesce = async (base: string): Promise<void> => {
  let previous: unknown;
  for (let attempt = 0; attempt < 600; attempt++) {
    const health = await get(base, '/healthz');
    const head = (health.eventStore as { headPosition?: unknown } | undefined)?.headPosition;
    if (attempt > 0 && head === previous) return;
    previous = head;
    await new Promise((done) => setTimeout(done, 500));
  }
};

// ---------------------------------------------------------------------------------------------
// Load

const randomAmount = (): string => String(1 + Math.floor(Math.random() * 999));
const randomIndex = (length: number): number => Math.floor(Math.random() * length);

const transferBetween = (from: string, to: string) => ({
  fromAccountId: from,
  toAccountId: to,
  amount: randomAmount(),
  currency: CURRENCY,
  reference: `bench ${keyCounter}`,
});

/** A transfer between two distinct random accounts of the ledger. */
const spreadTransfer = (ledger: Ledger) => {
  const from = randomIndex(ledger.accounts.length);
  let to = randomIndex(ledger.accounts.length - 1);
  if (to >= from) to++;
  return transferBetween(ledger.accounts[from]!, ledger.accounts[to]!);
};

/** A transfer out of the hot account to a random other one. */
const hotTransfer = (ledger: Ledger) => transferBetween(ledger.hot, ledger.accounts[randomIndex(ledger.accounts.length)]!);

interface Sample {
  connections: number;
  requestsPerSecond: number;
  /** Transfers that completed per second (for the echo: requests echoed per second). */
  transfersPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  /** Connection errors and timeouts. */
  errors: number;
  /** Transfers answered but not completed (failed, or a problem for a batch item). */
  itemFailures: number;
  /** Responses marked `Idempotent-Replayed`: must be 0, every key is fresh. */
  replayed: number;
  /** Server CPU time during the measurement per completed transfer (echo: per request), in µs. */
  cpuMicrosPerTransfer: number;
  /** The split shape's projections process: its CPU time per completed transfer, in µs. */
  readSideCpuMicrosPerTransfer: number;
  /** A few distinct failure descriptions, to say what went wrong. */
  failureKinds: Map<string, number>;
}

interface Load {
  path: string;
  timeoutSeconds: number;
  /** The body of the next request. */
  body: () => unknown;
  /** Counts the completed and failed transfers in one response body. */
  inspect: (status: number, body: string, sample: Sample) => void;
  transfersPerResponse: number;
}

const noteFailure = (sample: Sample, kind: string) => {
  sample.itemFailures++;
  if (sample.failureKinds.size < 20 || sample.failureKinds.has(kind)) {
    sample.failureKinds.set(kind, (sample.failureKinds.get(kind) ?? 0) + 1);
  }
};

/**
 * One autocannon run: for `seconds`, or, when `amount` is given, until that many requests were
 * answered (then the elapsed time is exact even when one request takes seconds).
 */
const measure = async (
  base: string,
  load: Load,
  connections: number,
  seconds: number,
  amount?: number,
  cpuMs: () => number = () => Number.NaN,
  readSideCpuMs: () => number = () => Number.NaN,
): Promise<Sample> => {
  const sample: Sample = {
    connections,
    requestsPerSecond: 0,
    transfersPerSecond: 0,
    p50: 0,
    p99: 0,
    non2xx: 0,
    errors: 0,
    itemFailures: 0,
    replayed: 0,
    cpuMicrosPerTransfer: Number.NaN,
    readSideCpuMicrosPerTransfer: Number.NaN,
    failureKinds: new Map(),
  };
  let completedTransfers = 0;
  const cpuBefore = cpuMs();
  const readSideCpuBefore = readSideCpuMs();
  const result = await autocannon({
    url: base,
    connections,
    ...(amount === undefined ? { duration: seconds } : { amount }),
    timeout: load.timeoutSeconds,
    requests: [
      {
        method: 'POST',
        path: load.path,
        // Built per request: a fresh key and fresh accounts every time.
        setupRequest: (request) => ({
          ...request,
          headers: { ...request.headers, 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}`, 'idempotency-key': nextKey() },
          body: JSON.stringify(load.body()),
        }),
        onResponse: (status, body, _context, headers) => {
          if (headers?.['idempotent-replayed'] === 'true') sample.replayed++;
          if (status >= 200 && status < 300) {
            const before = sample.itemFailures;
            load.inspect(status, body, sample);
            completedTransfers += load.transfersPerResponse - (sample.itemFailures - before);
          } else {
            let kind = `HTTP ${status}`;
            try {
              kind += ` ${String((JSON.parse(body) as { type?: unknown }).type ?? '')}`;
            } catch {
              // not JSON: the status says enough
            }
            sample.failureKinds.set(kind, (sample.failureKinds.get(kind) ?? 0) + 1);
          }
        },
      },
    ],
  });
  sample.requestsPerSecond = result.requests.total / result.duration;
  sample.transfersPerSecond = completedTransfers / result.duration;
  sample.cpuMicrosPerTransfer = ((cpuMs() - cpuBefore) * 1000) / completedTransfers;
  // Measured when the load stops: what the projections have not yet caught up on is not counted.
  sample.readSideCpuMicrosPerTransfer = ((readSideCpuMs() - readSideCpuBefore) * 1000) / completedTransfers;
  sample.p50 = result.latency.p50;
  sample.p99 = result.latency.p99;
  sample.non2xx = result.non2xx;
  sample.errors = result.errors;
  return sample;
};

const singleLoad = (body: () => unknown, path = '/v1/transfers'): Load => ({
  path,
  timeoutSeconds: 30,
  body,
  transfersPerResponse: 1,
  inspect: (_status, text, sample) => {
    const view = JSON.parse(text) as { status?: unknown; fromAccountId?: unknown };
    if (path === '/echo') {
      if (view.fromAccountId === undefined) noteFailure(sample, 'echo lost the body');
    } else if (view.status !== 'completed') {
      noteFailure(sample, `transfer ${String(view.status)}`);
    }
  },
});

const batchLoad = (ledger: Ledger): Load => ({
  path: '/v1/transfers/batch',
  // A batch waits for its 1000 transfers; under 50 connections that is seconds, not milliseconds.
  timeoutSeconds: 600,
  body: () => ({ transfers: Array.from({ length: BATCH_SIZE }, () => spreadTransfer(ledger)) }),
  transfersPerResponse: BATCH_SIZE,
  inspect: (_status, text, sample) => {
    const { results } = JSON.parse(text) as { results: { status: number; body: { status?: string; type?: string } }[] };
    for (const item of results) {
      if (item.status !== 201) noteFailure(sample, `item HTTP ${item.status} ${item.body.type ?? ''}`);
      else if (item.body.status !== 'completed') noteFailure(sample, `item transfer ${String(item.body.status)}`);
    }
  },
});

// ---------------------------------------------------------------------------------------------
// The run

interface Scenario {
  name: string;
  key: 'echo' | 'single' | 'hot' | 'batch';
  connections: number;
  load: (ledger: Ledger) => Load;
  onEcho?: boolean;
}

const allScenarios: Scenario[] = [
  {
    name: 'express JSON echo (baseline)',
    key: 'echo',
    connections: CONNECTIONS,
    onEcho: true,
    // The same body as a single transfer, built per request the same way.
    load: (ledger) => singleLoad(() => spreadTransfer(ledger), '/echo'),
  },
  {
    name: `single transfers, ${ACCOUNTS} accounts`,
    key: 'single',
    connections: CONNECTIONS,
    load: (ledger) => singleLoad(() => spreadTransfer(ledger)),
  },
  {
    name: 'single transfers, all out of one hot account',
    key: 'hot',
    connections: CONNECTIONS,
    load: (ledger) => singleLoad(() => hotTransfer(ledger)),
  },
  ...BATCH_CONNECTIONS.map(
    (connections): Scenario => ({
      name: `batches of ${BATCH_SIZE}, ${ACCOUNTS} accounts`,
      key: 'batch',
      connections,
      load: batchLoad,
    }),
  ),
];
const scenarios = allScenarios.filter((scenario) => SCENARIOS.has(scenario.key));

type ShapeName = 'all-in-one' | 'split';

/** A scenario as measured on one shape of Folio (the echo has no shape). */
interface Measured {
  scenario: Scenario;
  shape: ShapeName | undefined;
}

const measuredList: Measured[] = [
  ...scenarios.filter((scenario) => scenario.onEcho).map((scenario) => ({ scenario, shape: undefined })),
  ...(SHAPES as ShapeName[]).flatMap((shape) =>
    scenarios.filter((scenario) => !scenario.onEcho).map((scenario): Measured => ({ scenario, shape })),
  ),
];

const measuredId = ({ scenario, shape }: Measured) => `${shape ?? 'echo'}: ${scenario.name} @${scenario.connections}`;
const measuredName = ({ scenario, shape }: Measured) => (shape === undefined ? scenario.name : `${shape}: ${scenario.name}`);

const dataDirs: string[] = [];
const freshDataDir = (): string => {
  mkdirSync(DATA_ROOT, { recursive: true });
  const dir = mkdtempSync(join(DATA_ROOT, 'folio-api-bench-'));
  dataDirs.push(dir);
  return dir;
};

interface RunningFolio {
  /** The process serving the write API (the one loaded and measured). */
  server: ServerProcess;
  /** The split shape's projections process. */
  readSide: ServerProcess | undefined;
  ledger: Ledger;
  stop: () => Promise<void>;
}

const storeEnv = (dataDir: string) => ({ FOLIO_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', EVENTSTORE_URL: '', MONGO_URL: '', ELASTIC_URL: '' });

/** The flags `npm start` and the Docker image run the services with. */
const SERVICE_NODE_ARGS = ['--max-semi-space-size=64'];

const profileArgs = (name: string, round: number): string[] =>
  CPU_PROF_DIR === undefined
    ? SERVICE_NODE_ARGS
    : [...SERVICE_NODE_ARGS, '--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`, `--cpu-prof-name=folio-api-bench-${runId}-${name}-round-${round + 1}.cpuprofile`];

const startFolio = async (shape: ShapeName, round: number): Promise<RunningFolio> => {
  const dataDir = freshDataDir();
  if (shape === 'all-in-one') {
    const server = await startServer('folio', MAIN_SCRIPT, 'folio listening', storeEnv(dataDir), profileArgs('all-in-one', round));
    return { server, readSide: undefined, ledger: await openLedger(server.url), stop: () => server.stop() };
  }
  // The command side creates the log; the projections then follow it from the same directory.
  const server = await startServer('command-side', COMMAND_SIDE_SCRIPT, 'command-side listening', storeEnv(dataDir), profileArgs('command-side', round));
  let readSide: ServerProcess;
  try {
    readSide = await startServer('projections', PROJECTIONS_SCRIPT, 'projections listening', storeEnv(dataDir), profileArgs('projections', round));
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    server,
    readSide,
    ledger: await openLedger(server.url),
    stop: async () => {
      await server.stop();
      await readSide.stop();
    },
  };
};

/**
 * CPU per second below which a process counts as idle. A process under `--cpu-prof` spends about
 * a tenth of a core sampling even when idle, which would never settle under the plain threshold.
 */
const IDLE_CPU_MS_PER_SECOND = CPU_PROF_DIR === undefined ? 50 : 200;

/** Waits until a process's CPU time stops growing: the projections have caught up with the load. */
const settle = async (process: ServerProcess): Promise<void> => {
  let previous = process.cpuMs();
  for (let attempt = 0; attempt < 600; attempt++) {
    await new Promise((done) => setTimeout(done, 1000));
    const now = process.cpuMs();
    if (!(now - previous > IDLE_CPU_MS_PER_SECOND)) return;
    previous = now;
  }
};

const samples = new Map<string, Sample[]>();
/** Batches per second last measured, by shape and connections: sizes the next round's run. */
const batchRates = new Map<string, number>();
const conservation: string[] = [];
const complaints: string[] = [];

const durableNote = onTmpfs(DATA_ROOT) ? ' — WARNING: on tmpfs, fsync is free here' : '';
console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}; ` +
    `load average at start ${loadavg()[0]!.toFixed(1)}`,
);
console.log(
  `date: ${new Date().toISOString()}; ${ROUNDS} rounds of ${SECONDS} s per scenario (+${WARMUP_SECONDS} s warm-up per server); ` +
    `shapes ${SHAPES.join(', ')}; data under ${DATA_ROOT}${durableNote}`,
);

const record = (measured: Measured, sample: Sample, amount: number | undefined) => {
  samples.set(measuredId(measured), [...(samples.get(measuredId(measured)) ?? []), sample]);
  const { scenario } = measured;
  console.error(
    `${measuredId(measured)}${amount === undefined ? '' : ` (${amount} batches)`}: ` +
      `${Math.round(sample.requestsPerSecond)} req/s, ` +
      (scenario.onEcho ? '' : `${Math.round(sample.transfersPerSecond)} transfers/s, `) +
      `p50 ${sample.p50} ms, p99 ${sample.p99} ms, server CPU ${format(sample.cpuMicrosPerTransfer)} µs per ${scenario.onEcho ? 'request' : 'transfer'}` +
      (Number.isFinite(sample.readSideCpuMicrosPerTransfer) ? ` (+ projections process ${format(sample.readSideCpuMicrosPerTransfer)} µs)` : '') +
      `, non-2xx ${sample.non2xx}, errors ${sample.errors}, item failures ${sample.itemFailures}, ` +
      `load average ${loadavg()[0]!.toFixed(1)}` +
      (sample.failureKinds.size > 0 ? ` ${JSON.stringify([...sample.failureKinds])}` : ''),
  );
};

const echo = SCENARIOS.has('echo') ? await startServer('echo', ECHO_SCRIPT, 'echo listening', { PORT: '0', HOST: '127.0.0.1' }) : undefined;
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const measured of measuredList.filter(({ shape }) => shape === undefined)) {
      const ledger: Ledger = { accounts: Array.from({ length: ACCOUNTS }, (_, index) => String(index + 1)), hot: '0', deposited: 0n };
      if (round === 0 && WARMUP_SECONDS > 0) await measure(echo!.url, measured.scenario.load(ledger), CONNECTIONS, WARMUP_SECONDS);
      record(measured, await measure(echo!.url, measured.scenario.load(ledger), measured.scenario.connections, SECONDS, undefined, echo!.cpuMs), undefined);
    }
    for (const shape of SHAPES as ShapeName[]) {
      const setupStarted = performance.now();
      const folio = await startFolio(shape, round);
      const setupSeconds = (performance.now() - setupStarted) / 1000;
      const base = folio.server.url;
      const caughtUp = async () => {
        await quiesce(base);
        if (folio.readSide !== undefined) await settle(folio.readSide);
      };
      try {
        // Warm-up: JIT, caches and the first pages of the log, so round 1 is not a cold start.
        if (WARMUP_SECONDS > 0) {
          await measure(base, singleLoad(() => spreadTransfer(folio.ledger)), CONNECTIONS, WARMUP_SECONDS);
          if (SCENARIOS.has('batch')) await measure(base, batchLoad(folio.ledger), 5, 0, 5);
          await caughtUp();
        }
        for (const measured of measuredList.filter((candidate) => candidate.shape === shape)) {
          const { scenario } = measured;
          const load = scenario.load(folio.ledger);
          let amount: number | undefined;
          if (scenario.key === 'batch') {
            // Batches run to a count sized to take about BENCH_SECONDS at the rate seen so far
            // (a probe of one batch per connection the first time), never less than one per connection.
            const rateKey = `${shape} @${scenario.connections}`;
            let batchesPerSecond = batchRates.get(rateKey);
            if (batchesPerSecond === undefined) {
              batchesPerSecond = (await measure(base, load, scenario.connections, 0, scenario.connections)).requestsPerSecond;
              await caughtUp();
            }
            amount = scenario.connections * Math.max(1, Math.round((batchesPerSecond * SECONDS) / scenario.connections));
          }
          const sample = await measure(base, load, scenario.connections, SECONDS, amount, folio.server.cpuMs, folio.readSide?.cpuMs);
          if (scenario.key === 'batch') batchRates.set(`${shape} @${scenario.connections}`, sample.requestsPerSecond);
          await caughtUp();
          record(measured, sample, amount);
        }
        conservation.push(`round ${round + 1}, ${shape}: ${await checkConservation(base, folio.ledger)} (setup ${setupSeconds.toFixed(1)} s)`);
      } finally {
        await folio.stop();
        complaints.push(...folio.server.complaints, ...(folio.readSide?.complaints ?? []));
      }
    }
  }
} finally {
  await echo?.stop();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Report

console.log(
  `\nFolio on the embedded SQLite log, WAL + synchronous=FULL (fsync per commit): all-in-one = standalone/dist/src/main.js; ` +
    `split = command-side/dist/src/main.js + projections/dist/src/main.js on one data directory, the command side measured and loaded, ` +
    `the projections' CPU shown beside it (counted until they caught up). ` +
    `${ACCOUNTS} funded accounts + 1 hot account per round, fresh data directory per round and shape; load generator: autocannon in this process.\n`,
);
console.log(
  '| shape: scenario | connections | requests/s | transfers/s | p50 ms | p99 ms | server CPU µs per transfer | projections process CPU µs per transfer | non-2xx | errors | failed transfers | per round (requests/s; batches: transfers/s) |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
for (const measured of measuredList) {
  const { scenario } = measured;
  const rounds = samples.get(measuredId(measured)) ?? [];
  const of = (pick: (sample: Sample) => number) => rounds.map(pick);
  console.log(
    `| ${measuredName(measured)} | ${scenario.connections} | ${format(median(of((s) => s.requestsPerSecond)), scenario.key === 'batch' ? 2 : 0)} | ` +
      `${scenario.onEcho ? '–' : format(median(of((s) => s.transfersPerSecond)))} | ` +
      `${format(median(of((s) => s.p50)))} | ${format(median(of((s) => s.p99)))} | ${format(median(of((s) => s.cpuMicrosPerTransfer)))} | ` +
      `${format(median(of((s) => s.readSideCpuMicrosPerTransfer)))} | ` +
      `${sum(of((s) => s.non2xx))} | ${sum(of((s) => s.errors))} | ${scenario.onEcho ? '–' : sum(of((s) => s.itemFailures))} | ` +
      `${of((s) => (scenario.key === 'batch' ? s.transfersPerSecond : s.requestsPerSecond))
        .map((rate) => Math.round(rate))
        .join(', ')} |`,
  );
}

const medianOf = (shape: ShapeName | undefined, key: Scenario['key'], pick: (sample: Sample) => number, connections?: number): number => {
  const measured = measuredList.find(
    (candidate) => candidate.shape === shape && candidate.scenario.key === key && (connections === undefined || candidate.scenario.connections === connections),
  );
  return measured === undefined ? Number.NaN : median((samples.get(measuredId(measured)) ?? []).map(pick));
};
const echoRate = medianOf(undefined, 'echo', (s) => s.requestsPerSecond);
const echoCpu = medianOf(undefined, 'echo', (s) => s.cpuMicrosPerTransfer);
const replayed = sum([...samples.values()].flat().map((s) => s.replayed));

for (const shape of SHAPES as ShapeName[]) {
  const singleRate = medianOf(shape, 'single', (s) => s.transfersPerSecond);
  const singleCpu = medianOf(shape, 'single', (s) => s.cpuMicrosPerTransfer);
  const hotRate = medianOf(shape, 'hot', (s) => s.transfersPerSecond);
  console.log(`\n${shape}: single transfers / echo: ${format(singleRate / echoRate, 2)} (goal ≥ 0.5)`);
  console.log(`${shape}: server CPU per single transfer / per echo request: ${format(singleCpu / echoCpu, 1)}× (${format(singleCpu)} µs / ${format(echoCpu)} µs)`);
  console.log(`${shape}: hot-account single transfers / echo: ${format(hotRate / echoRate, 2)} (no goal; contention on one stream)`);
  for (const connections of BATCH_CONNECTIONS) {
    if (!SCENARIOS.has('batch')) break;
    const batchRate = medianOf(shape, 'batch', (s) => s.transfersPerSecond, connections);
    console.log(`${shape}: batch transfers/s @${connections} connections: ${format(batchRate)} (goal ≥ 20,000, durable)`);
  }
}
console.log(`\nload average at the end ${loadavg().map((value) => value.toFixed(1)).join(' / ')} (1 / 5 / 15 min)`);
console.log(`replayed responses (must be 0, every key is fresh): ${replayed}`);
console.log(`money conserved after each round:\n${conservation.map((line) => `  ${line}`).join('\n')}`);
if (complaints.length > 0) {
  // A stuck-movements warning lists every id: the start of each line says what it is.
  const shortened = complaints.slice(0, 3).map((line) => (line.length > 300 ? `${line.slice(0, 300)}…` : line));
  console.log(`server warnings/errors: ${complaints.length}; first: ${shortened.join(' | ')}`);
}

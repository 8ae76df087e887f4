import { mkdtempSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { killHard, startFolioProcess, stopGracefully, type FolioProcess } from './folioProcess.js';
import { call, SOAK_ADMIN_KEY, type Answer } from './httpCall.js';
import { readBooks, transferOutcomeProblems, waitForQuietLog } from './ledgerBooks.js';
import { seededRandom } from './seededRandom.js';
import type { Operation } from './operation.js';
import { createPaymentWorkload } from './paymentWorkload.js';
import { createTransferWorkload } from './transferWorkload.js';

/**
 * `npm run soak -- --minutes N`: a mixed load at a fixed rate against the all-in-one process,
 * which is killed with SIGKILL at random intervals and restarted each time; at the end every
 * invariant of the books is checked against the log, and a summary is printed. Exits non-zero
 * when an invariant is violated.
 */
const options = z
  .object({
    minutes: z.coerce.number().positive().default(5),
    rate: z.coerce.number().int().positive().default(50),
    'kill-min-seconds': z.coerce.number().positive().default(12),
    'kill-max-seconds': z.coerce.number().positive().default(30),
    'max-in-flight': z.coerce.number().int().positive().default(64),
    accounts: z.coerce.number().int().min(3).default(20),
    seed: z.coerce.number().int().nonnegative().default(Date.now() % 2 ** 31),
    'data-dir': z.string().optional(),
  })
  .parse(
    parseArgs({
      options: {
        minutes: { type: 'string' },
        rate: { type: 'string' },
        'kill-min-seconds': { type: 'string' },
        'kill-max-seconds': { type: 'string' },
        'max-in-flight': { type: 'string' },
        accounts: { type: 'string' },
        seed: { type: 'string' },
        'data-dir': { type: 'string' },
      },
    }).values,
  );

const random = seededRandom(options.seed);
const runId = options.seed.toString(36);
const dataDir = options['data-dir'] ?? join(mkdtempSync(join(tmpdir(), 'folio-soak-')), 'data');
const endAt = Date.now() + options.minutes * 60_000;

interface Acknowledged {
  operation: Operation;
  answer: Answer;
}

const latencies = new Map<string, number[]>();
const answers = new Map<string, number>();
const acknowledged: Acknowledged[] = [];
const unexpected: string[] = [];
const lostWhileAlive: string[] = [];
const replayMismatches: string[] = [];
const restartProblems: string[] = [];
let replaysChecked = 0;
let shedByClient = 0;
let shedByServer = 0;
let cutOffTotal = 0;
let kills = 0;
let worstLagSeconds = 0;
const lagSamples: number[] = [];
let highestPosition = -1n;

/** Requests an earlier answer leads to (a created payment's submission), sent before new ones. */
const followUps: Operation[] = [];

const count = (label: string) => answers.set(label, (answers.get(label) ?? 0) + 1);

const acknowledge = (operation: Operation, answer: Answer) => {
  count(`${operation.kind} ${answer.status}`);
  const problem = operation.judge(answer);
  if (problem !== undefined) unexpected.push(problem);
  if (operation.key !== undefined) acknowledged.push({ operation, answer });
  const followUp = operation.followUp?.(answer);
  if (followUp !== undefined) followUps.push(followUp);
  const position: unknown = answer.body?.position;
  if (typeof position === 'string' && BigInt(position) > highestPosition) highestPosition = BigInt(position);
};

/**
 * Sends an operation as a well-behaved client does: a 503 (the server shedding load; nothing was
 * written) is retried after its Retry-After with the same idempotency key, so the answer kept is
 * the definitive one.
 */
const send = async (folio: FolioProcess, operation: Operation): Promise<Answer> => {
  for (let attempt = 0; ; attempt++) {
    const answer = await call(folio.base, operation.method, operation.path, {
      ...(operation.body === undefined ? {} : { body: operation.body }),
      ...(operation.key === undefined ? {} : { key: operation.key }),
    });
    if (answer.status !== 503 || attempt === 60) return answer;
    shedByServer++;
    await new Promise((resolve) => setTimeout(resolve, 1000 * Number(answer.body?.retryAfterSeconds ?? 1)));
  }
};

/**
 * Runs the fixed-rate load for `ms`; then, when `kill` is set, SIGKILLs the process while the
 * load goes on for a moment, so requests are cut off at every stage of their life. Returns them.
 */
const loadThenKill = async (folio: FolioProcess, next: () => Operation, ms: number, kill: boolean): Promise<Operation[]> => {
  const cutOff: Operation[] = [];
  const pending = new Set<Promise<void>>();
  let killed: Promise<void> | undefined;
  const intervalMs = 1000 / options.rate;
  // How far the read models trail the log while the load runs, sampled from /readyz.
  const sampler = setInterval(() => {
    fetch(`${folio.base}/readyz`, { signal: AbortSignal.timeout(2_000) })
      .then(async (response) => (await response.json()) as { checks?: { projections?: { projections?: { lagSeconds: number }[] } } })
      .then((readiness) => {
        const lag = Math.max(0, ...(readiness.checks?.projections?.projections ?? []).map(({ lagSeconds }) => lagSeconds));
        lagSamples.push(lag);
        worstLagSeconds = Math.max(worstLagSeconds, lag);
      })
      .catch(() => undefined);
  }, 1_000);
  const killAt = Date.now() + ms;
  const stopAt = kill ? killAt + 300 : killAt;
  let due = Date.now();
  while (Date.now() < stopAt) {
    if (kill && killed === undefined && Date.now() >= killAt) {
      kills++;
      killed = killHard(folio);
    }
    due += intervalMs;
    if (pending.size >= options['max-in-flight']) {
      shedByClient++;
    } else {
      const operation =
        followUps.shift() ?? (random.next() < 0.05 && acknowledged.length > 0 ? replayOf(random.pick(acknowledged)) : next());
      const started = performance.now();
      const request = send(folio, operation).then(
        (answer) => {
          const took = performance.now() - started;
          latencies.set(operation.kind, [...(latencies.get(operation.kind) ?? []), took]);
          if (!operation.kind.startsWith('replay')) acknowledge(operation, answer);
          else operation.judge(answer);
        },
        (error: unknown) => {
          if (killed === undefined) lostWhileAlive.push(`${operation.kind} ${operation.key ?? operation.path}: ${String(error)}`);
          if (!operation.kind.startsWith('replay')) cutOff.push(operation);
        },
      );
      pending.add(request);
      void request.finally(() => pending.delete(request));
    }
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  clearInterval(sampler);
  await killed;
  await Promise.all(pending);
  return cutOff;
};

/** The same request again: the answer must be the first one, replayed. */
const replayOf = ({ operation, answer }: Acknowledged): Operation => ({
  ...operation,
  kind: `replay ${operation.kind}`,
  judge: (again) => {
    replaysChecked++;
    if (again.status !== answer.status || JSON.stringify(again.body) !== JSON.stringify(answer.body) || !again.replayed) {
      replayMismatches.push(`${operation.key}: first ${answer.status} ${JSON.stringify(answer.body)}; again ${again.status} (replayed ${again.replayed})`);
    }
    return undefined;
  },
});

/**
 * The provider's statement of its traffic so far, imported the way finance imports one: the
 * sandbox writes it in Stripe's format, the upload endpoint imports it (again: a no-op).
 */
const importStatement = async (folio: FolioProcess) => {
  const started = performance.now();
  try {
    const authorization = `Bearer ${SOAK_ADMIN_KEY}`;
    const report = await fetch(`${folio.base}/v1/providers/sandbox/sandbox/settlement-report`, {
      headers: { authorization },
      signal: AbortSignal.timeout(10_000),
    });
    const csv = await report.text();
    const upload = () =>
      fetch(`${folio.base}/v1/statements?provider=sandbox&format=stripe-balance&fileName=sandbox.csv`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv; charset=utf-8', authorization },
        body: csv,
        signal: AbortSignal.timeout(30_000),
      });
    let imported = await upload();
    for (let attempt = 0; imported.status === 503 && attempt < 60; attempt++) {
      shedByServer++;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      imported = await upload();
    }
    const body = await imported.text();
    latencies.set('statement import', [...(latencies.get('statement import') ?? []), performance.now() - started]);
    count(`statement import ${imported.status}`);
    if (report.status !== 200 || (imported.status !== 201 && imported.status !== 200)) {
      unexpected.push(`statement import: report ${report.status}, import ${imported.status} ${body.slice(0, 300)}`);
    }
  } catch (error) {
    lostWhileAlive.push(`statement import: ${String(error)}`);
  }
};

/** After a restart: nothing open in the log, and every cut-off request answered definitively. */
const afterRestart = async (folio: FolioProcess, cutOff: Operation[]) => {
  const books = await readBooks(dataDir);
  if (books.report.openJournals !== 0) restartProblems.push(`restart ${kills}: ${books.report.openJournals} journals open after recovery`);
  for (const violation of books.report.violations) restartProblems.push(`restart ${kills}: ${violation}`);
  cutOffTotal += cutOff.length;
  for (const operation of cutOff) {
    let answer = await send(folio, operation);
    for (let attempt = 0; answer.status === 409 && attempt < 20; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      answer = await send(folio, operation);
    }
    acknowledge(operation, answer);
  }
};

const percentile = (values: number[], p: number) => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

console.log(JSON.stringify({ msg: 'soak starting', ...options, seed: options.seed, dataDir }));
let folio = await startFolioProcess(dataDir);
const transfers = await createTransferWorkload(folio.base, random, runId, options.accounts);
const payments = await createPaymentWorkload(folio.base, random, runId, transfers.accounts.filter((id) => id !== transfers.frozen));
const nextOperation = (): Operation => (random.next() < 0.6 ? transfers.next() : payments.next());
const started = Date.now();
while (Date.now() < endAt) {
  const cycleMs = random.between(options['kill-min-seconds'] * 1000, options['kill-max-seconds'] * 1000);
  const last = Date.now() + cycleMs >= endAt;
  const cutOff = await loadThenKill(folio, nextOperation, Math.min(cycleMs, Math.max(0, endAt - Date.now())), !last);
  if (last) {
    await importStatement(folio);
    break;
  }
  folio = await startFolioProcess(dataDir);
  await afterRestart(folio, cutOff);
  await importStatement(folio);
  console.log(JSON.stringify({ msg: 'killed and restarted', kills, acknowledged: acknowledged.length, cutOff: cutOff.length }));
}

// The provider's last callbacks land, then the read models must reach the last acknowledged
// write and agree with the log.
await waitForQuietLog(dataDir, { quietMs: 3_000, atMostMs: 60_000 });
const readModelProblems: string[] = [];
const books = await readBooks(dataDir);
const paymentProblems = await payments.problems(folio.base, books);
for (const id of [...transfers.accounts, ...payments.merchants]) {
  const expected = books.report.balances.get(id)?.balance ?? 0n;
  // Callbacks keep posting after the last answer: the read model gets a while to show the same.
  let served = await call(folio.base, 'GET', `/v1/accounts/${id}/balance?position=${highestPosition}`);
  for (let attempt = 0; attempt < 50 && BigInt(served.body?.posted ?? -1) !== expected; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    served = await call(folio.base, 'GET', `/v1/accounts/${id}/balance`);
  }
  if (served.status !== 200 || BigInt(served.body?.posted ?? -1) !== expected) {
    readModelProblems.push(`balance of ${id}: read model ${served.status} ${JSON.stringify(served.body)}, log ${expected}`);
  }
}
const exit = await stopGracefully(folio);
const finalBooks = await readBooks(dataDir);
const inTransit = [...finalBooks.report.inTransit].filter(([, amount]) => amount !== 0n);
const transferAcks = acknowledged
  .filter(({ operation }) => operation.kind === 'transfer')
  .map(({ operation, answer }) => ({ key: operation.key!, status: answer.status, answer: answer.body }));
const sentKeys = new Set(acknowledged.filter(({ operation }) => operation.kind === 'transfer').map(({ operation }) => operation.key!));

const invariants = {
  'balanced journals, no overdraft (1, 3)': finalBooks.report.violations,
  'Σ balances + in transit = 0, nothing left open (2)': [
    ...inTransit.map(([currency, amount]) => `${currency} in transit: ${amount}`),
    ...(finalBooks.report.openJournals === 0 ? [] : [`${finalBooks.report.openJournals} journals open`]),
  ],
  'every request had its effect once (4)': [...transferOutcomeProblems(finalBooks, sentKeys, transferAcks), ...replayMismatches],
  'read models equal the log (5)': readModelProblems,
  'payments in legal states, merchants hold Σ captured − Σ refunded': paymentProblems,
  'every hash chain and checkpoint verifies (6)': finalBooks.integrity.problems.map(
    (problem) => `${problem.streamName}@${problem.revision} (position ${problem.position}): ${problem.reason}`,
  ),
  'recovery before listening': restartProblems,
  'answers the books explain': unexpected,
  'nothing lost while the server was up': lostWhileAlive,
  'clean stop on SIGTERM': exit.code === 0 ? [] : [`exit ${JSON.stringify(exit)}`],
};
const violated = Object.values(invariants).some((problems) => problems.length > 0);
const summary = {
  machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  date: new Date().toISOString(),
  seed: options.seed,
  minutes: Math.round(((Date.now() - started) / 60_000) * 10) / 10,
  rate: options.rate,
  kills,
  operations: Object.fromEntries([...answers].sort(([a], [b]) => a.localeCompare(b))),
  replaysChecked,
  cutOffByKills: cutOffTotal,
  shedByClient,
  shedByServer,
  projectionLagSeconds: { p50: percentile(lagSamples, 50), p95: percentile(lagSamples, 95), max: worstLagSeconds },
  eventsInLog: finalBooks.report.eventsChecked,
  latencyMs: Object.fromEntries(
    [...latencies].map(([kind, values]) => [
      kind,
      { n: values.length, p50: Math.round(percentile(values, 50)), p95: Math.round(percentile(values, 95)), p99: Math.round(percentile(values, 99)) },
    ]),
  ),
  invariants: Object.fromEntries(
    Object.entries(invariants).map(([name, problems]) => [name, problems.length === 0 ? 'held' : problems.slice(0, 10)]),
  ),
};
console.log(JSON.stringify(summary, null, 2));
process.exit(violated ? 1 : 0);

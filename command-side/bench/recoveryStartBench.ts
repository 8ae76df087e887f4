/**
 * `npm run bench:recovery`: how long movement recovery takes to be ready (open journals known,
 * interrupted movements handed to the process) on a large embedded log, from the latest recovery
 * checkpoint versus from the start of the log (the baseline: what every start did before
 * checkpoints), measured in the same rounds on the same log. The checkpoint sits before the last
 * BENCH_TAIL transfers, as it would after a crash between two checkpoints. Resuming is stubbed
 * out: it costs the same either way.
 *
 * Environment: BENCH_TRANSFERS (50000, three events each), BENCH_TAIL (3000), BENCH_ROUNDS (3),
 * BENCH_DATA_DIR (the OS temp dir by default).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  accountStream,
  deterministicEventId,
  ledgerCatalog,
  openSqliteEventStore,
  StreamNotFoundError,
  transferStream,
  type EventStore,
  type EventToAppend,
  type LedgerEvent,
  type Movement,
} from '@folio/shared';
import { forEachConcurrently } from '../src/statements/boundedConcurrency.js';
import type { MovementProcess } from '../src/movements/movementProcess.js';
import { createMovementRecovery } from '../src/movements/movementRecovery.js';
import { RECOVERY_CHECKPOINT_STREAM } from '../src/movements/recoveryCheckpoint.js';
import { median, numberFromEnv } from '@folio/shared/testing';

const TRANSFERS = numberFromEnv('BENCH_TRANSFERS', 50_000);
const TAIL = numberFromEnv('BENCH_TAIL', 3_000, 0);
const ROUNDS = numberFromEnv('BENCH_ROUNDS', 3);
const DATA_ROOT = process.env.BENCH_DATA_DIR ?? tmpdir();
const ACCOUNTS = 200;
/** Transfers left with their first leg only: what recovery must find. */
const INTERRUPTED = 5;

const NOW = new Date('2024-06-05T00:00:00Z');
const accountId = (index: number) => (7_400_000_000_000_000_000n + BigInt(index)).toString();
const transferId = (index: number) => (7_400_000_000_000_100_000n + BigInt(index)).toString();

const encode = (event: Omit<LedgerEvent, 'version' | 'metadata'>, key: string): EventToAppend =>
  ledgerCatalog.encodeTrusted({
    ...event,
    id: deterministicEventId('recovery-bench', key),
    version: 1,
    metadata: { $correlationId: key, actor: 'bench', occurredAt: NOW.toISOString() },
  } as LedgerEvent);

/** The three events of transfer `index`, or only its first leg when it was interrupted. */
const transferEvents = (index: number, interrupted: boolean): Array<[string, EventToAppend]> => {
  const id = transferId(index);
  const from = accountId(index % ACCOUNTS);
  const to = accountId((index * 7 + 1) % ACCOUNTS);
  const movement: Movement = { fromAccountId: from, toAccountId: to, amount: 100n, currency: 'EUR', requestedAt: NOW.toISOString() };
  const journal = (leg: 'first' | 'second', counterpartyAccountId: string) => ({ id, kind: 'transfer' as const, leg, counterpartyAccountId });
  const debit: [string, EventToAppend] = [
    accountStream(from),
    encode({ type: 'AccountDebited', data: { accountId: from, journal: journal('first', to), amount: 100n, currency: 'EUR', movement } } as never, `${id}:first`),
  ];
  if (interrupted) return [debit];
  return [
    debit,
    [accountStream(to), encode({ type: 'AccountCredited', data: { accountId: to, journal: journal('second', from), amount: 100n, currency: 'EUR' } } as never, `${id}:second`)],
    [transferStream(id), encode({ type: 'TransferCompleted', data: { ...movement, transferId: id, completedAt: NOW.toISOString() } } as never, `${id}:outcome`)],
  ];
};

/** Appends transfers from `first` to `last` (exclusive), a transfer's events in order, many transfers at once. */
const appendTransfers = async (store: EventStore, first: number, last: number, interruptedFrom: number) => {
  const indexes = Array.from({ length: last - first }, (_, offset) => first + offset);
  await forEachConcurrently(indexes, 64, async (index) => {
    for (const [stream, event] of transferEvents(index, index >= interruptedFrom)) {
      await store.appendToStream(stream, [event], { expectedRevision: 'any' });
    }
  });
};

/** Recovery's view of the store: with or without the checkpoint stream, and never writing to it. */
const storeFor = (store: EventStore, withCheckpoint: boolean): EventStore =>
  new Proxy(store, {
    get(target, property) {
      if (property === 'appendToStream') {
        return (stream: string, events: readonly EventToAppend[], options?: object) =>
          stream === RECOVERY_CHECKPOINT_STREAM
            ? Promise.resolve({ nextExpectedRevision: 0n, position: 0n })
            : target.appendToStream(stream, events, options);
      }
      if (property === 'readStream' && !withCheckpoint) {
        return (stream: string, options?: object) =>
          stream === RECOVERY_CHECKPOINT_STREAM
            ? (async function* () {
                yield* [];
                throw new StreamNotFoundError(stream);
              })()
            : target.readStream(stream, options);
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

const idleProcess = (resumed: string[]) =>
  ({
    isRunning: () => false,
    resume: async (plan: { id: string }) => {
      resumed.push(plan.id);
      return { status: 'completed', endedAt: NOW.toISOString(), position: 0n };
    },
  }) as unknown as MovementProcess;

/** Seconds until recovery is ready, and the movements it handed over. */
const timeStart = async (store: EventStore): Promise<{ seconds: number; resumed: string[] }> => {
  const resumed: string[] = [];
  const recovery = createMovementRecovery({
    eventStore: store,
    process: idleProcess(resumed),
    clock: () => new Date(),
    stuckAfterMs: 3_600_000,
    checkEveryMs: 3_600_000,
    onStuck: () => undefined,
    onError: (error) => console.error(error),
    onWarning: (message, error) => console.error(message, error),
  });
  const started = process.hrtime.bigint();
  await recovery.start();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await recovery.stop();
  return { seconds, resumed };
};

const directory = mkdtempSync(join(DATA_ROOT, 'folio-recovery-bench-'));
const store = openSqliteEventStore({ path: join(directory, 'events.sqlite') });
const results = new Map<string, number[]>();
try {
  const building = process.hrtime.bigint();
  await appendTransfers(store, 0, TRANSFERS - TAIL, TRANSFERS);
  // A recovery that ran to here checkpointed on stop; the tail came after, then the crash.
  await timeStart(store);
  await appendTransfers(store, TRANSFERS - TAIL, TRANSFERS, TRANSFERS - INTERRUPTED);
  const head = await store.headPosition();
  console.error(`log of ${TRANSFERS} transfers (head ${head}) built in ${(Number(process.hrtime.bigint() - building) / 1e9).toFixed(1)} s`);

  const scenarios: Array<[string, EventStore]> = [
    ['from the start of the log (baseline)', storeFor(store, false)],
    [`from a checkpoint ${TAIL} transfers back`, storeFor(store, true)],
  ];
  for (let round = 1; round <= ROUNDS; round += 1) {
    for (const [name, view] of round % 2 === 1 ? scenarios : [...scenarios].reverse()) {
      const { seconds, resumed } = await timeStart(view);
      if (resumed.length !== INTERRUPTED) throw new Error(`${name}: resumed ${resumed.length} movements, expected ${INTERRUPTED}`);
      results.set(name, [...(results.get(name) ?? []), seconds]);
    }
  }
} finally {
  await store.close();
  rmSync(directory, { recursive: true, force: true });
}

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
console.log(`date: ${new Date().toISOString()}; ${TRANSFERS} transfers (${TRANSFERS * 3} events), checkpoint ${TAIL} transfers before the head, ${ROUNDS} rounds\n`);
console.log('| start of movement recovery | seconds until ready (median) | rounds |');
console.log('|---|---:|---|');
for (const [name, values] of results) {
  console.log(`| ${name} | ${median(values).toFixed(3)} | ${values.map((value) => value.toFixed(3)).join(' · ')} |`);
}
const [baseline, checkpointed] = [...results.values()].map(median);
console.log(`\nfrom a checkpoint ÷ from the start: ${(checkpointed! / baseline!).toFixed(3)}`);

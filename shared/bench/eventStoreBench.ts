/**
 * `npm run bench:store`: appends per second of the embedded event store (fsync on) with 1, 10
 * and 100 concurrent single-event writers and with batched appends, beside raw better-sqlite3
 * inserts on the same pragmas measured in the same run. Prints medians of several rounds and the
 * ratios the foundation's goals are stated in.
 *
 * Also the appends of money movements alone: many concurrent movements, each a debit on its
 * source account's stream at the exact expected revision, a credit on a destination's stream and
 * a completion on a stream of its own (the fewest appends a movement across streams takes), with
 * nothing else of a transfer (no HTTP, validation, idempotency or hash chain). It is the ceiling
 * the store puts on transfers per second on this machine.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteEventStore } from '../src/eventStore/sqlite/sqliteEventStore.js';
import { prepareDatabase } from '../src/eventStore/sqlite/schema.js';
import { median, numberFromEnv } from '../src/testing/index.js';

const ROUNDS = numberFromEnv('BENCH_ROUNDS', 3);
const SECONDS = numberFromEnv('BENCH_SECONDS', 2);
const payload = { amount: '1050', currency: 'EUR', reference: 'bench transfer 000000000000' };

const freshPath = (): { path: string; cleanup: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), 'folio-bench-'));
  return { path: join(dir, 'events.sqlite'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
};

/** Raw better-sqlite3 inserts of the same row shape, `perTransaction` rows per commit. */
const rawInserts = (perTransaction: number): number => {
  const { path, cleanup } = freshPath();
  const db = new Database(path);
  prepareDatabase(db, false);
  const insert = db.prepare(
    'INSERT INTO events (position, stream_name, revision, event_id, type, data, metadata, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const commit = db.transaction((first: number) => {
    for (let i = first; i < first + perTransaction; i++) {
      insert.run(BigInt(i), `raw-${i % 100}`, BigInt(i), randomUUID(), 'Bench', JSON.stringify(payload), null, Date.now());
    }
  });
  let rows = 0;
  const started = performance.now();
  while (performance.now() - started < SECONDS * 1000) {
    commit(rows);
    rows += perTransaction;
  }
  const rate = rows / ((performance.now() - started) / 1000);
  db.close();
  cleanup();
  return rate;
};

/** Concurrent writers, each appending `eventsPerAppend` events per call to its own stream. */
const storeAppends = async (writers: number, eventsPerAppend: number): Promise<number> => {
  const { path, cleanup } = freshPath();
  const store = openSqliteEventStore({ path });
  let events = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      let expectedRevision: bigint | 'no_stream' = 'no_stream';
      while (performance.now() < deadline) {
        const batch = Array.from({ length: eventsPerAppend }, () => ({ id: randomUUID(), type: 'Bench', data: payload }));
        const result = await store.appendToStream(`bench-${writer}`, batch, { expectedRevision });
        expectedRevision = result.nextExpectedRevision;
        events += eventsPerAppend;
      }
    }),
  );
  const rate = events / ((performance.now() - started) / 1000);
  await store.close();
  cleanup();
  return rate;
};

/**
 * `movements` concurrent movements, each writer moving money out of an account of its own (so its
 * debit's expected revision is exact and never conflicts) into one of 2,000 destinations. Returns
 * appends per second; a movement is three of them.
 */
const movementAppends = async (movements: number): Promise<number> => {
  const { path, cleanup } = freshPath();
  const store = openSqliteEventStore({ path });
  let appends = 0;
  let destination = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: movements }, async (_, writer) => {
      let sourceRevision: bigint | 'no_stream' = 'no_stream';
      while (performance.now() < deadline) {
        const debited = await store.appendToStream(`account-source-${writer}`, [{ id: randomUUID(), type: 'AccountDebited', data: payload }], {
          expectedRevision: sourceRevision,
        });
        sourceRevision = debited.nextExpectedRevision;
        destination = (destination + 1) % 2_000;
        await store.appendToStream(`account-destination-${destination}`, [{ id: randomUUID(), type: 'AccountCredited', data: payload }]);
        await store.appendToStream(`transfer-${randomUUID()}`, [{ id: randomUUID(), type: 'TransferCompleted', data: payload }], {
          expectedRevision: 'no_stream',
        });
        appends += 3;
      }
    }),
  );
  const rate = appends / ((performance.now() - started) / 1000);
  await store.close();
  cleanup();
  return rate;
};

const scenarios: { name: string; run: () => Promise<number> | number }[] = [
  { name: 'raw better-sqlite3, 1 insert per transaction', run: () => rawInserts(1) },
  { name: 'raw better-sqlite3, 100 inserts per transaction', run: () => rawInserts(100) },
  { name: 'event store, 1 writer, 1 event per append', run: () => storeAppends(1, 1) },
  { name: 'event store, 10 writers, 1 event per append', run: () => storeAppends(10, 1) },
  { name: 'event store, 100 writers, 1 event per append', run: () => storeAppends(100, 1) },
  { name: 'event store, 10 writers, 100 events per append', run: () => storeAppends(10, 100) },
  { name: 'event store, 50 concurrent movements of 3 appends', run: () => movementAppends(50) },
  { name: 'event store, 1,000 concurrent movements of 3 appends', run: () => movementAppends(1_000) },
];

const results = new Map<string, number[]>();
for (let round = 0; round < ROUNDS; round++) {
  // Interleaving rounds spreads the machine's noise over every scenario alike.
  for (const scenario of scenarios) {
    const rate = await scenario.run();
    results.set(scenario.name, [...(results.get(scenario.name) ?? []), rate]);
  }
}

const medianOf = (name: string) => median(results.get(name)!);
const oneWriter = medianOf(scenarios[2]!.name);
const hundredWriters = medianOf(scenarios[4]!.name);
const rawBatched = medianOf(scenarios[1]!.name);

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown cpu'}, node ${process.version}`);
console.log(`date: ${new Date().toISOString()}; ${ROUNDS} rounds of ${SECONDS} s; fsync on (WAL, synchronous=FULL)\n`);
console.log('| scenario | events/s (median) | rounds |');
console.log('|---|---:|---|');
for (const scenario of scenarios) {
  const rates = results.get(scenario.name)!;
  console.log(`| ${scenario.name} | ${Math.round(median(rates))} | ${rates.map((r) => Math.round(r)).join(', ')} |`);
}
console.log(`\n100 writers / 1 writer: ${(hundredWriters / oneWriter).toFixed(1)}x (goal ≥ 10x)`);
console.log(`100 writers / raw batched 100 per transaction: ${(hundredWriters / rawBatched).toFixed(2)} (goal ≥ 0.5)`);
console.log('\nMovements per second the store allows, with nothing else of a transfer (three appends each):');
for (const scenario of scenarios.filter(({ name }) => name.includes('movements'))) {
  console.log(`- ${scenario.name}: ${Math.round(medianOf(scenario.name) / 3)} movements/s`);
}
console.log(`- raw better-sqlite3 inserts batched 100 per transaction, three rows a movement: ${Math.round(rawBatched / 3)} movements/s`);

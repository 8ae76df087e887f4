/**
 * `npm run bench:statements`: how fast a statement file is imported into the embedded store
 * (fsync on), beside two baselines measured in the same rounds: parsing the file alone, and
 * appending one event per row to its own stream with the same concurrency (what any import that
 * keeps a stream per row pays at least). Each round uses a fresh store; rounds interleave the
 * scenarios, and the table shows medians.
 *
 * Environment: BENCH_ROWS (20000), BENCH_ROUNDS (3), BENCH_CONCURRENCY (16, row streams at once), BENCH_DATA_DIR (the OS temp dir by default).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { deterministicEventId, openSqliteEventStore } from '@folio/shared';
import { forEachConcurrently } from '../src/statements/boundedConcurrency.js';
import { stripeBalanceImporter } from '../src/statements/importers/stripeBalanceImporter.js';
import { decodeStatementText } from '../src/statements/importers/statementText.js';
import { createStatementImportService } from '../src/statements/statementImportService.js';
import { median, numberFromEnv } from '@folio/shared/testing';

const ROWS = numberFromEnv('BENCH_ROWS', 20_000);
const ROUNDS = numberFromEnv('BENCH_ROUNDS', 3);
const DATA_ROOT = process.env.BENCH_DATA_DIR ?? tmpdir();
const CONCURRENCY = numberFromEnv('BENCH_CONCURRENCY', 16);

const header = 'balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,reporting_category,charge_id,automatic_payout_id,description';

/** A payout reconciliation report of `ROWS` charges; `variant` changes the bytes, not the rows. */
const stripeFile = (variant: string): Buffer => {
  const lines = [variant === '' ? header : `${header},${variant}`];
  for (let index = 0; index < ROWS; index += 1) {
    const cents = 1000 + (index % 9000);
    const fee = 30 + Math.floor(cents * 0.029);
    const amount = (minor: number) => `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;
    const row = `txn_bench${String(index).padStart(8, '0')},2024-06-03 09:14:05,2024-06-05 00:00:00,eur,${amount(cents)},${amount(fee)},${amount(cents - fee)},charge,ch_bench${index},po_bench,Order ${index}`;
    lines.push(variant === '' ? row : `${row},`);
  }
  return Buffer.from(`${lines.join('\n')}\n`);
};

async function* chunks(bytes: Buffer): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += 64 * 1024) yield bytes.subarray(at, at + 64 * 1024);
}

const timed = async (work: () => Promise<unknown>): Promise<number> => {
  const started = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - started) / 1e9;
};

const context = { correlationId: 'bench', actor: 'bench', now: new Date('2024-06-05T00:00:00Z') };
const file = stripeFile('');
const redelivered = stripeFile('note');
const results = new Map<string, number[]>();
const record = (name: string, seconds: number) => results.set(name, [...(results.get(name) ?? []), ROWS / seconds]);

for (let round = 1; round <= ROUNDS; round += 1) {
  const directory = mkdtempSync(join(DATA_ROOT, 'folio-statements-bench-'));
  const store = openSqliteEventStore({ path: join(directory, 'events.sqlite') });
  const rawStore = openSqliteEventStore({ path: join(directory, 'raw.sqlite') });
  try {
    record(
      'parse only (baseline)',
      await timed(async () => {
        for await (const _item of stripeBalanceImporter.parse(decodeStatementText(chunks(file), 'stripe-balance')));
      }),
    );
    const indexes = Array.from({ length: ROWS }, (_, index) => index);
    record(
      'one append per row stream, no reads (baseline)',
      await timed(() =>
        forEachConcurrently(indexes, CONCURRENCY, async (index) => {
          const stream = `statementrow-bench-${createHash('sha256').update(String(index)).digest('hex').slice(0, 32)}`;
          await rawStore.appendToStream(stream, [{ id: deterministicEventId('bench', String(index)), type: 'Bench', data: { index } }], {
            expectedRevision: 'no_stream',
          });
        }),
      ),
    );
    const service = createStatementImportService({ eventStore: store, concurrency: CONCURRENCY });
    record('import, every row new', await timed(() => service.importStatement({ provider: 'stripe', content: chunks(file) }, context)));
    record('import of the same file again', await timed(() => service.importStatement({ provider: 'stripe', content: chunks(file) }, context)));
    record('import of other bytes, every row unchanged', await timed(() => service.importStatement({ provider: 'stripe', content: chunks(redelivered) }, context)));
  } finally {
    await store.close();
    await rawStore.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
console.log(`date: ${new Date().toISOString()}; ${ROWS} rows (${(file.length / 2 ** 20).toFixed(1)} MiB), ${ROUNDS} rounds, concurrency ${CONCURRENCY}\n`);
console.log('| scenario | rows/s (median) | rounds |');
console.log('|---|---:|---|');
for (const [name, values] of results) {
  console.log(`| ${name} | ${Math.round(median(values)).toLocaleString('en-US')} | ${values.map((value) => Math.round(value).toLocaleString('en-US')).join(' · ')} |`);
}
const rate = (name: string) => median(results.get(name) ?? []);
console.log(`\nfirst import ÷ per-row append baseline: ${(rate('import, every row new') / rate('one append per row stream, no reads (baseline)')).toFixed(2)}`);
console.log(`first import ÷ parse only: ${(rate('import, every row new') / rate('parse only (baseline)')).toFixed(3)}`);

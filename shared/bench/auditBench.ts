/**
 * `npm run bench:audit`: as-of queries on a long account stream and the trial balance over a long
 * log, on the embedded store, beside reading the same events raw in the same run.
 *
 * The log: one customer account funded once, then failed transfers from it (a debit, its
 * reversal, the transfer's failure in its own stream) until the account's stream holds
 * 1,000,000 events; every append goes through the hash chain, and the audit runtime writes the
 * snapshots (every 1000 events of an account) and the checkpoints, as the running system does.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  accountAsOf,
  accountStream,
  BOOKS_SNAPSHOT_STREAM,
  chainEventStore,
  collect,
  createAuditRuntime,
  depositStream,
  generatedSigner,
  ledgerCatalog,
  openSqliteEventStore,
  systemAccountId,
  transferStream,
  trialBalanceAt,
  type EventStore,
  type EventToAppend,
  type LedgerEvent,
} from '../src/index.js';
import { median, numberFromEnv } from '../src/testing/index.js';

const ACCOUNT_EVENTS = numberFromEnv('BENCH_AUDIT_EVENTS', 1_000_000);
const TRIAL_EVENTS = numberFromEnv('BENCH_AUDIT_TRIAL_EVENTS', 1_000_000);
const JOURNALS_PER_BATCH = 1000;
const QUERIES = 25;
const FULL_FOLDS = 3;
const TRIAL_ROUNDS = 3;

const time = async (work: () => Promise<unknown>): Promise<number> => {
  const start = performance.now();
  await work();
  return performance.now() - start;
};

const BANK = systemAccountId({ role: 'bank', currency: 'EUR' });
const CUSTOMER = '3000000001';
const OTHER = '3000000002';
let business = Date.UTC(2026, 0, 1);
const metadata = () => ({ $correlationId: 'bench', actor: 'bench', occurredAt: new Date((business += 1000)).toISOString() });
const encode = (event: Pick<LedgerEvent, 'type' | 'data'>): EventToAppend =>
  ledgerCatalog.encode({ ...event, id: randomUUID(), version: 1, metadata: metadata() } as LedgerEvent);

const open = (accountId: string, kind: 'customer' | 'system') =>
  encode({
    type: 'AccountOpened',
    data: { accountId, ownerId: 'bench', currency: 'EUR', kind, overdraftLimit: 0n, ...(kind === 'system' ? { systemRole: 'bank' as const } : {}) },
  });

const generate = async (store: EventStore) => {
  await store.appendToStream(accountStream(BANK), [open(BANK, 'system')]);
  await store.appendToStream(accountStream(OTHER), [open(OTHER, 'customer')]);
  await store.appendToStream(accountStream(CUSTOMER), [open(CUSTOMER, 'customer')]);
  const funding = { fromAccountId: BANK, toAccountId: CUSTOMER, amount: 1_000_000_000n, currency: 'EUR' as const, requestedAt: new Date(business).toISOString() };
  const depositId = '4000000000';
  await store.appendToStream(accountStream(BANK), [
    encode({ type: 'AccountDebited', data: { accountId: BANK, journal: { id: depositId, kind: 'deposit', leg: 'first', counterpartyAccountId: CUSTOMER }, amount: funding.amount, currency: 'EUR', movement: funding } }),
  ]);
  await store.appendToStream(accountStream(CUSTOMER), [
    encode({ type: 'AccountCredited', data: { accountId: CUSTOMER, journal: { id: depositId, kind: 'deposit', leg: 'second', counterpartyAccountId: BANK }, amount: funding.amount, currency: 'EUR' } }),
  ]);
  await store.appendToStream(depositStream(depositId), [encode({ type: 'DepositCompleted', data: { ...funding, depositId, completedAt: funding.requestedAt } })]);

  let next = 5_000_000_000;
  let accountEvents = 2;
  while (accountEvents < ACCOUNT_EVENTS) {
    const journals = Math.min(JOURNALS_PER_BATCH, Math.ceil((ACCOUNT_EVENTS - accountEvents) / 2));
    const postings: EventToAppend[] = [];
    const failures: [string, EventToAppend][] = [];
    for (let n = 0; n < journals; n++) {
      const id = String(next++);
      const movement = { fromAccountId: CUSTOMER, toAccountId: OTHER, amount: BigInt(1 + (n % 997)), currency: 'EUR' as const, requestedAt: new Date(business).toISOString() };
      const journal = { id, kind: 'transfer' as const, counterpartyAccountId: OTHER };
      postings.push(
        encode({ type: 'AccountDebited', data: { accountId: CUSTOMER, journal: { ...journal, leg: 'first' }, amount: movement.amount, currency: 'EUR', movement } }),
      );
      if (accountEvents + postings.length < ACCOUNT_EVENTS) {
        postings.push(
          encode({ type: 'AccountCredited', data: { accountId: CUSTOMER, journal: { ...journal, leg: 'reversal' }, amount: movement.amount, currency: 'EUR', reason: 'refused' } }),
        );
        failures.push([
          transferStream(id),
          encode({ type: 'TransferFailed', data: { ...movement, transferId: id, failedAt: movement.requestedAt, reason: { type: 'refused', detail: 'refused' } } }),
        ]);
      }
    }
    await store.appendToStream(accountStream(CUSTOMER), postings, { expectedRevision: 'any' });
    // One append per transfer stream, all at once, so the store commits them together.
    await Promise.all(failures.map(([stream, event]) => store.appendToStream(stream, [event], { expectedRevision: 'no_stream' })));
    accountEvents += postings.length;
  }
};

const directory = mkdtempSync(join(tmpdir(), 'folio-bench-audit-'));
const raw = openSqliteEventStore({ path: join(directory, 'events.sqlite') });
const store = chainEventStore(raw);
try {
  const generation = await time(() => generate(store));
  const runtime = createAuditRuntime({ eventStore: store, signer: generatedSigner(), checkpointEvery: 100_000, snapshotEvery: 1000 });
  const snapshotting = await time(() => runtime.runOnce({ force: true }));
  const head = (await raw.headPosition())!;
  const [last] = await collect(raw.readStream(accountStream(CUSTOMER), { direction: 'backwards', maxCount: 1 }));
  const accountEvents = Number(last!.revision) + 1;

  // Query points: positions of random events of the account.
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const points: bigint[] = [];
  for (let n = 0; n < QUERIES; n++) {
    const revision = BigInt(Math.floor(random() * accountEvents));
    const [event] = await collect(raw.readStream(accountStream(CUSTOMER), { fromRevision: revision, maxCount: 1 }));
    points.push(event!.position);
  }
  const withSnapshots: number[] = [];
  const rawWindow: number[] = [];
  for (const position of points) {
    let revision = 0n;
    withSnapshots.push(
      await time(async () => {
        revision = (await accountAsOf(store, CUSTOMER, { position }, { entries: 0 })).revision;
      }),
    );
    // Baseline: reading raw the events a snapshot-based fold reads (the last ≤ 1000 before the point).
    const from = revision - (revision % 1000n);
    rawWindow.push(await time(() => collect(raw.readStream(accountStream(CUSTOMER), { fromRevision: from, maxCount: Number(revision - from) + 1 }))));
  }
  const fullFolds: number[] = [];
  const rawStream: number[] = [];
  for (const position of points.slice(0, FULL_FOLDS)) {
    fullFolds.push(await time(() => accountAsOf(store, CUSTOMER, { position }, { entries: 0, ignoreSnapshots: true })));
    rawStream.push(await time(() => collect(raw.readStream(accountStream(CUSTOMER)))));
  }

  // The trial balance over the first TRIAL_EVENTS events of the log.
  let trialPosition = head;
  let counted = 0;
  for await (const event of raw.readAll()) {
    if (++counted === TRIAL_EVENTS) {
      trialPosition = event.position;
      break;
    }
  }
  // The worst case with books snapshots: just before one, so the fold starts a whole interval back.
  const booksSnapshots = await collect(raw.readStream(BOOKS_SNAPSHOT_STREAM));
  const nextSnapshot = booksSnapshots.find((event) => BigInt(event.data.position as string) > trialPosition) ?? booksSnapshots.at(-1);
  const [beforeSnapshot] =
    nextSnapshot === undefined
      ? []
      : await collect(raw.readAll({ fromPosition: BigInt(nextSnapshot.data.position as string) - 1n, direction: 'backwards', maxCount: 1 }));
  const worstPosition = beforeSnapshot?.position ?? trialPosition;
  const trials: number[] = [];
  const worstTrials: number[] = [];
  const fullTrials: number[] = [];
  const rawLog: number[] = [];
  let balanced = false;
  for (let round = 0; round < TRIAL_ROUNDS; round++) {
    rawLog.push(
      await time(async () => {
        for await (const event of raw.readAll()) if (event.position > trialPosition) break;
      }),
    );
    trials.push(
      await time(async () => {
        balanced = (await trialBalanceAt(store, { position: trialPosition })).balanced;
      }),
    );
    worstTrials.push(await time(() => trialBalanceAt(store, { position: worstPosition })));
    fullTrials.push(
      await time(async () => {
        balanced &&= (await trialBalanceAt(store, { position: trialPosition }, { ignoreSnapshots: true })).balanced;
      }),
    );
  }

  const ms = (value: number) => value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown cpu'}, node ${process.version}`);
  console.log(`date: ${new Date().toISOString()}`);
  console.log(`log: ${counted < TRIAL_EVENTS ? counted : 'over ' + TRIAL_EVENTS} events; account stream: ${accountEvents} events`);
  console.log(`generation (chained appends): ${(generation / 1000).toFixed(1)} s; audit runtime pass (snapshots + checkpoint): ${(snapshotting / 1000).toFixed(1)} s\n`);
  console.log('| measurement | median ms | values |');
  console.log('|---|---:|---|');
  console.log(`| raw read of the events since the nearest snapshot (baseline) | ${ms(median(rawWindow))} | ${QUERIES} points |`);
  console.log(`| as-of balance, ${accountEvents.toLocaleString('en')}-event account, with snapshots | ${ms(median(withSnapshots))} | ${QUERIES} points, max ${ms(Math.max(...withSnapshots))} |`);
  console.log(`| raw read of the whole account stream (baseline) | ${ms(median(rawStream))} | ${rawStream.map(ms).join(' · ')} |`);
  console.log(`| as-of balance, without snapshots | ${ms(median(fullFolds))} | ${fullFolds.map(ms).join(' · ')} |`);
  console.log(`| raw read of the log up to the position (baseline) | ${ms(median(rawLog))} | ${rawLog.map(ms).join(' · ')} |`);
  console.log(`| trial balance at the ${TRIAL_EVENTS.toLocaleString('en')}th event, from the nearest books snapshot | ${ms(median(trials))} | ${trials.map(ms).join(' · ')} |`);
  console.log(`| trial balance just before a books snapshot (worst case: a whole interval folded) | ${ms(median(worstTrials))} | ${worstTrials.map(ms).join(' · ')} |`);
  console.log(`| trial balance over ${TRIAL_EVENTS.toLocaleString('en')} events, no snapshot (full fold) | ${ms(median(fullTrials))} | ${fullTrials.map(ms).join(' · ')} |`);
  console.log(`\ntrial balance balanced: ${balanced}`);
  console.log(`as-of with snapshots: ${ms(median(withSnapshots))} ms (goal ≤ 50 ms); ${(median(withSnapshots) / median(rawWindow)).toFixed(1)}× its raw read`);
  console.log(`trial balance from a books snapshot: ${(median(trials) / 1000).toFixed(2)} s; full fold: ${(median(fullTrials) / 1000).toFixed(2)} s (goal ≤ 10 s), ${(median(fullTrials) / median(rawLog)).toFixed(1)}× the raw read of the log`);
} finally {
  await raw.close();
  rmSync(directory, { recursive: true, force: true });
}

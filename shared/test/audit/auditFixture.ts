import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  accountStream,
  chainEventStore,
  depositStream,
  ledgerCatalog,
  openSqliteEventStore,
  systemAccountId,
  transferStream,
  type EventStore,
  type LedgerEvent,
  type SqliteEventStore,
} from '../../src/index.js';

export const BANK = systemAccountId({ role: 'bank', currency: 'EUR' });

export interface AuditStore {
  directory: string;
  path: string;
  raw: SqliteEventStore;
  store: EventStore;
  /** The commit clock: each reading is a second after the previous one. */
  now(): Date;
  dispose(): Promise<void>;
}

/** A chained SQLite store in a temp directory with a clock that ticks a second per commit. */
export const openAuditStore = (start = Date.UTC(2026, 0, 1)): AuditStore => {
  const directory = mkdtempSync(join(tmpdir(), 'folio-audit-'));
  const path = join(directory, 'events.sqlite');
  let clock = start;
  const now = () => new Date((clock += 1000));
  const raw = openSqliteEventStore({ path, clock: now });
  return {
    directory,
    path,
    raw,
    store: chainEventStore(raw),
    now: () => new Date(clock),
    dispose: async () => {
      await raw.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
};

export interface HistoryOptions {
  accounts: number;
  movements: number;
  seed: number;
  /** Chance that a posting's business time lies before the previous one's (a late posting). */
  backdated?: number;
  /** From this many events written on, every business time lies a year back. */
  yearBackFrom?: number;
}

const seeded = (seed: number) => {
  let state = seed >>> 0 || 1;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
};

/**
 * Ledger history as the write side records it: accounts funded by deposits from the bank system
 * account, transfers leg by leg, some left in transit, some failed and reversed, with business
 * times that sometimes lie in the past. Returns the customer account ids.
 */
export const writeHistory = async (store: EventStore, options: HistoryOptions): Promise<string[]> => {
  const random = seeded(options.seed);
  let business = Date.UTC(2025, 11, 1);
  let written = 0;
  const occurredAt = () => {
    business += 60_000;
    const back = random() < (options.backdated ?? 0.1) ? Math.floor(random() * 30) * 86_400_000 : 0;
    const yearBack = options.yearBackFrom !== undefined && written++ >= options.yearBackFrom ? 365 * 86_400_000 : 0;
    return new Date(business - back - yearBack).toISOString();
  };
  const append = (streamName: string, event: Pick<LedgerEvent, 'type' | 'data'>) =>
    store.appendToStream(
      streamName,
      [
        ledgerCatalog.encode({
          ...event,
          id: randomUUID(),
          version: 1,
          metadata: { $correlationId: 'fixture', actor: 'fixture', occurredAt: occurredAt() },
        } as LedgerEvent),
      ],
      { expectedRevision: 'any' },
    );
  const open = (accountId: string, kind: 'customer' | 'system') =>
    append(accountStream(accountId), {
      type: 'AccountOpened',
      data: {
        accountId,
        ownerId: `owner-${accountId}`,
        currency: 'EUR',
        kind,
        overdraftLimit: 0n,
        ...(kind === 'system' ? { systemRole: 'bank' as const } : {}),
      },
    });
  let nextId = 5_000_000;
  const move = async (kind: 'transfer' | 'deposit', from: string, to: string, amount: bigint, outcome: 'complete' | 'open' | 'fail') => {
    const id = String(nextId++);
    const requestedAt = new Date(business).toISOString();
    const movement = { fromAccountId: from, toAccountId: to, amount, currency: 'EUR' as const, requestedAt };
    const posting = { amount, currency: 'EUR' as const };
    await append(accountStream(from), {
      type: 'AccountDebited',
      data: { accountId: from, journal: { id, kind, leg: 'first', counterpartyAccountId: to }, ...posting, movement },
    });
    if (outcome === 'open') return;
    const stream = kind === 'transfer' ? transferStream(id) : depositStream(id);
    if (outcome === 'fail') {
      await append(accountStream(from), {
        type: 'AccountCredited',
        data: { accountId: from, journal: { id, kind, leg: 'reversal', counterpartyAccountId: to }, ...posting, reason: 'refused' },
      });
      const failure = { ...movement, failedAt: requestedAt, reason: { type: 'refused', detail: 'refused' } };
      await append(stream, kind === 'transfer' ? { type: 'TransferFailed', data: { ...failure, transferId: id } } : { type: 'DepositFailed', data: { ...failure, depositId: id } });
      return;
    }
    await append(accountStream(to), {
      type: 'AccountCredited',
      data: { accountId: to, journal: { id, kind, leg: 'second', counterpartyAccountId: from }, ...posting },
    });
    const completed = { ...movement, completedAt: requestedAt };
    await append(stream, kind === 'transfer' ? { type: 'TransferCompleted', data: { ...completed, transferId: id } } : { type: 'DepositCompleted', data: { ...completed, depositId: id } });
  };

  await open(BANK, 'system');
  const ids = Array.from({ length: options.accounts }, (_, index) => String(1_000_000 + index));
  for (const id of ids) {
    await open(id, 'customer');
    await move('deposit', BANK, id, 100_000n, 'complete');
  }
  for (let n = 0; n < options.movements; n++) {
    const from = ids[Math.floor(random() * ids.length)]!;
    const to = ids[(ids.indexOf(from) + 1 + Math.floor(random() * (ids.length - 1))) % ids.length]!;
    const roll = random();
    await move('transfer', from, to, BigInt(1 + Math.floor(random() * 500)), roll < 0.1 ? 'open' : roll < 0.2 ? 'fail' : 'complete');
  }
  return ids;
};

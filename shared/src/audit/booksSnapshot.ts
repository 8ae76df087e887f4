import { z } from 'zod';
import { collect, type EventStore, type RecordedEvent } from '../eventStore/eventStore.js';
import { StreamNotFoundError } from '../eventStore/errors.js';
import { defineEvent } from '../events/eventDefinition.js';
import { bigintString } from '../events/bigintJson.js';
import { deterministicEventId } from '../ids/eventIds.js';
import { accountKinds } from '../ledger/accountEvents.js';
import { journalKinds } from '../ledger/journal.js';
import { emptyLedgerFold, type LedgerFold } from '../ledger/ledgerFold.js';
import { lastWhere, type PointInTime } from './pointInTime.js';

/**
 * A snapshot of the whole books (every account's figures and the journals still open) after the
 * event at `position`, so a trial balance folds only the log since the nearest one. Journals that
 * have ended are left out: they no longer move money, so the figures are the same; only a rule
 * breach involving an ended journal (posted again, ended twice) goes unseen from a snapshot on,
 * which `verify` and the invariant checks over the whole log still catch.
 */
export const BOOKS_SNAPSHOT_STREAM = 'snapshot-books';

const figures = z.object({
  accountId: z.string(),
  currency: z.string(),
  kind: z.enum(accountKinds),
  overdraftLimit: bigintString,
  debits: bigintString,
  credits: bigintString,
  balance: bigintString,
  postings: z.number().int().nonnegative(),
});

const openJournal = z.object({
  kind: z.enum(journalKinds),
  id: z.string(),
  currency: z.string(),
  net: bigintString,
  legs: z.array(z.string()),
  startedAt: bigintString,
});

export const booksSnapshotted = defineEvent({
  type: 'BooksSnapshotted',
  version: 1,
  schema: z.object({
    position: bigintString,
    recordedAt: z.iso.datetime(),
    eventsFolded: z.number().int().nonnegative(),
    completedJournals: z.number().int().nonnegative(),
    failedJournals: z.number().int().nonnegative(),
    accounts: z.array(figures),
    openJournals: z.array(openJournal),
    /** Holds still open (payouts awaiting the provider): they count against available balances. */
    openHolds: z.array(z.object({ accountId: z.string(), holdId: z.string(), amount: bigintString })).default([]),
  }),
});
export type BooksSnapshot = z.output<typeof booksSnapshotted.schema>;

/** Drops the journals that have ended: what a snapshot keeps, and what bounds a long fold's memory. */
export const forgetEndedJournals = (fold: LedgerFold): void => {
  for (const [key, journal] of fold.journals) if (journal.ended) fold.journals.delete(key);
};

export const foldFromSnapshot = (snapshot: BooksSnapshot): LedgerFold => {
  const fold = emptyLedgerFold();
  for (const account of snapshot.accounts) {
    fold.accounts.set(account.accountId, { ...account });
    fold.totalBalance.set(account.currency, (fold.totalBalance.get(account.currency) ?? 0n) + account.balance);
  }
  for (const journal of snapshot.openJournals) {
    fold.journals.set(`${journal.kind}-${journal.id}`, { ...journal, legs: new Set(journal.legs), ended: false });
  }
  for (const { accountId, holdId, amount } of snapshot.openHolds) {
    fold.holds.set(accountId, (fold.holds.get(accountId) ?? new Map<string, bigint>()).set(holdId, amount));
  }
  fold.eventsFolded = snapshot.eventsFolded;
  fold.completedJournals = snapshot.completedJournals;
  fold.failedJournals = snapshot.failedJournals;
  return fold;
};

export const writeBooksSnapshot = async (
  eventStore: EventStore,
  fold: LedgerFold,
  after: RecordedEvent,
  expectedRevision: bigint | 'no_stream',
): Promise<bigint> => {
  forgetEndedJournals(fold);
  const data = booksSnapshotted.schema.encode({
    position: after.position,
    recordedAt: after.created.toISOString(),
    eventsFolded: fold.eventsFolded,
    completedJournals: fold.completedJournals,
    failedJournals: fold.failedJournals,
    accounts: [...fold.accounts.values()],
    openJournals: [...fold.journals.values()].map((journal) => ({ ...journal, legs: [...journal.legs] })),
    openHolds: [...fold.holds].flatMap(([accountId, holds]) => [...holds].map(([holdId, amount]) => ({ accountId, holdId, amount }))),
  });
  const result = await eventStore.appendToStream(
    BOOKS_SNAPSHOT_STREAM,
    [{ id: deterministicEventId('books-snapshot', after.position.toString()), type: booksSnapshotted.type, data, metadata: { occurredAt: after.created.toISOString() } }],
    { expectedRevision },
  );
  return result.nextExpectedRevision;
};

const readAt = async (eventStore: EventStore, revision: bigint): Promise<BooksSnapshot> => {
  const [event] = await collect(eventStore.readStream(BOOKS_SNAPSHOT_STREAM, { fromRevision: revision, maxCount: 1 }));
  return booksSnapshotted.schema.parse(event!.data);
};

/** The latest books snapshot and its revision in the snapshot stream. */
export const latestBooksSnapshot = async (
  eventStore: EventStore,
): Promise<{ snapshot: BooksSnapshot; revision: bigint } | undefined> => {
  try {
    const [last] = await collect(eventStore.readStream(BOOKS_SNAPSHOT_STREAM, { direction: 'backwards', maxCount: 1 }));
    return last === undefined ? undefined : { snapshot: booksSnapshotted.schema.parse(last.data), revision: last.revision };
  } catch (error) {
    if (error instanceof StreamNotFoundError) return undefined;
    throw error;
  }
};

/** The newest books snapshot recorded by the point (snapshots are written in log order). */
export const booksSnapshotAt = async (eventStore: EventStore, point: PointInTime): Promise<BooksSnapshot | undefined> => {
  const latest = await latestBooksSnapshot(eventStore);
  if (latest === undefined) return undefined;
  const usable = (snapshot: BooksSnapshot) =>
    (point.position === undefined || snapshot.position <= point.position) &&
    (point.asOf === undefined || Date.parse(snapshot.recordedAt) <= point.asOf);
  if (usable(latest.snapshot)) return latest.snapshot;
  const found = await lastWhere(latest.revision, async (revision) => usable(await readAt(eventStore, revision)));
  return found < 0n ? undefined : readAt(eventStore, found);
};

import { z } from 'zod';
import { collect, type EventStore, type RecordedEvent } from '../eventStore/eventStore.js';
import { StreamNotFoundError } from '../eventStore/errors.js';
import { defineEvent } from '../events/eventDefinition.js';
import { bigintString } from '../events/bigintJson.js';
import { deterministicEventId } from '../ids/eventIds.js';
import { accountKinds } from '../ledger/accountEvents.js';
import { journalKinds, type JournalKind } from '../ledger/journal.js';
import { movementOutcomes } from '../ledger/movementEvents.js';
import { emptyLedgerFold, type JournalFacts, type LedgerFold } from '../ledger/ledgerFold.js';
import { lastWhere, type PointInTime } from './pointInTime.js';

/**
 * A snapshot of the whole books after the event at `position`, so a trial balance folds only the
 * log since the nearest one: every account's figures, the accounts closed, the journals still open
 * with the outcome a run chose for each and the account of their later leg (a later leg, outcome
 * event or choice contradicting it is a broken rule, and a replacement of the choice is judged on
 * that account's closure), the holds, the ids of the journals that have ended since the snapshot before (a later posting or
 * outcome on one is a broken rule, not a new movement in transit) and whether the books had broken
 * any rule by then. Listing each ended journal once keeps every snapshot as small as the books'
 * activity between two; folding from one reads the lists of those before it. It keeps no detail of
 * the broken rules or the ended journals: once the books break a rule, before or after the
 * snapshot, a trial balance folds the whole log, so that its answer is always a full replay's.
 *
 * Its `format` is `folio-books-snapshot/4`; a snapshot of an older format is never folded from:
 * format 1 lacks the ended journals, format 2 the chosen outcomes, which it cannot be read as
 * "none chosen" since a journal open there may have had its outcome chosen before it, and format 3
 * the closed accounts and each open journal's second account, without which a justified
 * replacement of a choice after it would be reported as a broken rule.
 */
export const BOOKS_SNAPSHOT_STREAM = 'snapshot-books';
export const BOOKS_SNAPSHOT_FORMAT = 'folio-books-snapshot/4';

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
  /** The outcome a run chose for it (`MovementOutcomeChosen`, the replacement where one stands), `null` while none has. */
  chosen: z.enum(movementOutcomes).nullable(),
  /** The account of its later leg, as its first leg names it; `null` for a journal folded without its first leg. */
  secondAccountId: z.string().nullable(),
});

const endedJournalsSchema = z.partialRecord(z.enum(journalKinds), z.array(z.string()));
type EndedJournals = z.output<typeof endedJournalsSchema>;

export const booksSnapshotted = defineEvent({
  type: 'BooksSnapshotted',
  version: 1,
  schema: z.object({
    format: z.literal(BOOKS_SNAPSHOT_FORMAT),
    position: bigintString,
    recordedAt: z.iso.datetime(),
    eventsFolded: z.number().int().nonnegative(),
    completedJournals: z.number().int().nonnegative(),
    failedJournals: z.number().int().nonnegative(),
    accounts: z.array(figures),
    /** Ids of the accounts closed by `position`. */
    closedAccounts: z.array(z.string()),
    openJournals: z.array(openJournal),
    /** Holds still open (payouts awaiting the provider): they count against available balances. */
    openHolds: z.array(z.object({ accountId: z.string(), holdId: z.string(), amount: bigintString })),
    /** Ids of the journals that ended since the snapshot of this format before (all, in the first), by kind. */
    endedJournals: endedJournalsSchema,
    rulesBroken: z.boolean(),
  }),
});
export type BooksSnapshot = z.output<typeof booksSnapshotted.schema>;

/** A journal that ended, as a snapshot keeps it: only its key matters until it is touched again. */
const endedJournal = (kind: JournalKind, id: string): JournalFacts => ({ kind, id, currency: '', net: 0n, legs: new Set(), ended: true, startedAt: 0n });

/** An ended journal with legs has ended since the fold last kept only that it ended: every posting adds a leg. */
const endedSinceCompacted = (journal: JournalFacts): boolean => journal.ended && journal.legs.size > 0;

/** Keeps only that each ended journal ended: what snapshots keep, and what bounds a long fold's memory. */
const compactEndedJournals = (fold: LedgerFold): void => {
  for (const [key, journal] of fold.journals) if (endedSinceCompacted(journal)) fold.journals.set(key, endedJournal(journal.kind, journal.id));
};

/** The books of a snapshot to fold from, whose `endedJournals` lists every journal ended by its position (see `toFoldFrom`). */
export const foldFromSnapshot = (snapshot: BooksSnapshot): LedgerFold => {
  const fold = emptyLedgerFold();
  for (const account of snapshot.accounts) {
    fold.accounts.set(account.accountId, { ...account });
    fold.totalBalance.set(account.currency, (fold.totalBalance.get(account.currency) ?? 0n) + account.balance);
  }
  for (const accountId of snapshot.closedAccounts) fold.closedAccounts.add(accountId);
  for (const { chosen, secondAccountId, ...journal } of snapshot.openJournals) {
    fold.journals.set(`${journal.kind}-${journal.id}`, {
      ...journal,
      legs: new Set(journal.legs),
      ended: false,
      ...(chosen === null ? {} : { chosen }),
      ...(secondAccountId === null ? {} : { secondAccountId }),
    });
  }
  for (const [kind, ids] of Object.entries(snapshot.endedJournals) as [JournalKind, string[]][]) {
    for (const id of ids) fold.journals.set(`${kind}-${id}`, endedJournal(kind, id));
  }
  for (const { accountId, holdId, amount } of snapshot.openHolds) {
    fold.holds.set(accountId, (fold.holds.get(accountId) ?? new Map<string, bigint>()).set(holdId, amount));
  }
  fold.eventsFolded = snapshot.eventsFolded;
  fold.completedJournals = snapshot.completedJournals;
  fold.failedJournals = snapshot.failedJournals;
  // Which rules were broken only the whole log tells; the fold must still say that some were.
  if (snapshot.rulesBroken) fold.violations.push(`@${snapshot.position}: rules broken by here (a trial balance of the whole log lists them)`);
  return fold;
};

export const writeBooksSnapshot = async (
  eventStore: EventStore,
  fold: LedgerFold,
  after: RecordedEvent,
  expectedRevision: bigint | 'no_stream',
): Promise<bigint> => {
  const journals = [...fold.journals.values()];
  const endedJournals: EndedJournals = {};
  for (const journal of journals) if (endedSinceCompacted(journal)) (endedJournals[journal.kind] ??= []).push(journal.id);
  compactEndedJournals(fold);
  const data = booksSnapshotted.schema.encode({
    format: BOOKS_SNAPSHOT_FORMAT,
    position: after.position,
    recordedAt: after.created.toISOString(),
    eventsFolded: fold.eventsFolded,
    completedJournals: fold.completedJournals,
    failedJournals: fold.failedJournals,
    accounts: [...fold.accounts.values()],
    closedAccounts: [...fold.closedAccounts],
    openJournals: journals
      .filter((journal) => !journal.ended)
      .map(({ kind, id, currency, net, legs, startedAt, chosen, secondAccountId }) => ({
        kind,
        id,
        currency,
        net,
        legs: [...legs],
        startedAt,
        chosen: chosen ?? null,
        secondAccountId: secondAccountId ?? null,
      })),
    openHolds: [...fold.holds].flatMap(([accountId, holds]) => [...holds].map(([holdId, amount]) => ({ accountId, holdId, amount }))),
    endedJournals,
    rulesBroken: fold.violations.length > 0,
  });
  const result = await eventStore.appendToStream(
    BOOKS_SNAPSHOT_STREAM,
    [
      {
        // The format is part of the id: a snapshot replacing an older format's at the same position is another event.
        id: deterministicEventId('books-snapshot', BOOKS_SNAPSHOT_FORMAT, after.position.toString()),
        type: booksSnapshotted.type,
        data,
        metadata: { occurredAt: after.created.toISOString() },
      },
    ],
    { expectedRevision },
  );
  return result.nextExpectedRevision;
};

/** Where a snapshot of any format lies, in its stream and in the log: what finding the one for a point needs. */
const placementSchema = z.object({ position: bigintString, recordedAt: z.iso.datetime() });
const placementOf = (event: RecordedEvent) => ({ ...placementSchema.parse(event.data), revision: event.revision });

const eventAt = async (eventStore: EventStore, revision: bigint): Promise<RecordedEvent> =>
  (await collect(eventStore.readStream(BOOKS_SNAPSHOT_STREAM, { fromRevision: revision, maxCount: 1 })))[0]!;

const latestEvent = async (eventStore: EventStore): Promise<RecordedEvent | undefined> => {
  try {
    return (await collect(eventStore.readStream(BOOKS_SNAPSHOT_STREAM, { direction: 'backwards', maxCount: 1 })))[0];
  } catch (error) {
    if (error instanceof StreamNotFoundError) return undefined;
    throw error;
  }
};

const isCurrentFormat = (event: RecordedEvent): boolean => event.data.format === BOOKS_SNAPSHOT_FORMAT;

/**
 * The snapshot `event` holds, its `endedJournals` completed with those the snapshots of its format
 * before it list; `undefined` for a snapshot of an older format.
 */
const toFoldFrom = async (eventStore: EventStore, event: RecordedEvent): Promise<BooksSnapshot | undefined> => {
  if (!isCurrentFormat(event)) return undefined;
  const endedJournals: EndedJournals = {};
  for await (const earlier of eventStore.readStream(BOOKS_SNAPSHOT_STREAM, { maxCount: Number(event.revision) + 1 })) {
    if (!isCurrentFormat(earlier)) continue;
    for (const [kind, ids] of Object.entries(endedJournalsSchema.parse(earlier.data.endedJournals)) as [JournalKind, string[]][]) {
      const listed = (endedJournals[kind] ??= []);
      for (const id of ids) listed.push(id);
    }
  }
  return { ...booksSnapshotted.schema.parse(event.data), endedJournals };
};

/**
 * The latest books snapshot to fold from (`undefined` when of an older format), and where it lies,
 * whatever its format: the next snapshot goes after it.
 */
export const latestBooksSnapshot = async (
  eventStore: EventStore,
): Promise<{ revision: bigint; position: bigint; snapshot: BooksSnapshot | undefined } | undefined> => {
  const last = await latestEvent(eventStore);
  return last === undefined ? undefined : { ...placementOf(last), snapshot: await toFoldFrom(eventStore, last) };
};

/**
 * The newest books snapshot recorded by the point (snapshots are written in log order), to fold
 * from; `undefined` when there is none, or it is of an older format.
 */
export const booksSnapshotAt = async (eventStore: EventStore, point: PointInTime): Promise<BooksSnapshot | undefined> => {
  const last = await latestEvent(eventStore);
  if (last === undefined) return undefined;
  const usable = (event: RecordedEvent) => {
    const placement = placementOf(event);
    return (
      (point.position === undefined || placement.position <= point.position) &&
      (point.asOf === undefined || Date.parse(placement.recordedAt) <= point.asOf)
    );
  };
  if (usable(last)) return toFoldFrom(eventStore, last);
  const found = await lastWhere(last.revision, async (revision) => usable(await eventAt(eventStore, revision)));
  return found < 0n ? undefined : toFoldFrom(eventStore, await eventAt(eventStore, found));
};

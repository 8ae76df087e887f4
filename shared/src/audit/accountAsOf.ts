import { z } from 'zod';
import { collect, type EventStore, type RecordedEvent } from '../eventStore/eventStore.js';
import { StreamNotFoundError } from '../eventStore/errors.js';
import { defineEvent } from '../events/eventDefinition.js';
import { bigintString } from '../events/bigintJson.js';
import { accountStream } from '../ledger/streams.js';
import { ledgerCatalog, type LedgerEvent } from '../ledger/ledgerCatalog.js';
import { accountKinds } from '../ledger/accountEvents.js';
import { openedAccountFigures, postToFigures, type AccountFigures } from '../ledger/ledgerFold.js';
import type { JournalRef } from '../ledger/journal.js';
import { AccountNotAtPointError } from './auditErrors.js';
import { effectiveBy, lastWhere, occurredAtOf, recordedBy, refuseBeyondHead, type PointInTime } from './pointInTime.js';

/**
 * An account's figures at a point in time, folded from its stream in the event store (never from
 * a read model). A snapshot of the figures is kept every so many events of the account, so a query
 * folds only the events since the nearest snapshot at or before its point; the result is the same
 * with or without snapshots.
 */
export const snapshotStream = (accountId: string): string => `snapshot-account-${accountId}`;

const figuresSchema = z.object({
  accountId: z.string(),
  currency: z.string(),
  kind: z.enum(accountKinds),
  overdraftLimit: bigintString,
  debits: bigintString,
  credits: bigintString,
  balance: bigintString,
  postings: z.number().int().nonnegative(),
});

/** The figures of an account after the event at `revision` (at `position`). */
export const accountSnapshotted = defineEvent({
  type: 'AccountSnapshotted',
  version: 1,
  schema: z.object({
    revision: bigintString,
    position: bigintString,
    /** Recorded time of the event at `revision`. */
    recordedAt: z.iso.datetime(),
    /** The latest business time among the postings covered; absent before any posting. */
    maxOccurredAt: z.iso.datetime().optional(),
    figures: figuresSchema,
  }),
});
export type AccountSnapshot = z.output<typeof accountSnapshotted.schema>;

export interface AccountEntry {
  revision: bigint;
  position: bigint;
  recordedAt: string;
  occurredAt: string;
  side: 'debit' | 'credit';
  amount: bigint;
  currency: string;
  journal: JournalRef;
  /** The account's balance right after this entry, at the queried point. */
  balanceAfter: bigint;
}

export interface AccountAtPoint {
  figures: AccountFigures;
  /** The last event of the account recorded by the point. */
  revision: bigint;
  position: bigint;
  /** Latest postings first, at most the limit asked for. */
  entries: AccountEntry[];
  /** The revision of the snapshot the fold started from, if any. */
  snapshotRevision: bigint | undefined;
}

const eventAt = async (eventStore: EventStore, streamName: string, revision: bigint): Promise<RecordedEvent> => {
  const [event] = await collect(eventStore.readStream(streamName, { fromRevision: revision, maxCount: 1 }));
  if (event === undefined) throw new StreamNotFoundError(streamName);
  return event;
};

const lastRevisionOf = async (eventStore: EventStore, streamName: string): Promise<bigint | undefined> => {
  try {
    const [last] = await collect(eventStore.readStream(streamName, { direction: 'backwards', maxCount: 1 }));
    return last?.revision;
  } catch (error) {
    if (error instanceof StreamNotFoundError) return undefined;
    throw error;
  }
};

/** The last revision of the account recorded by the point (binary search: the stream is in log order). */
const revisionAt = async (eventStore: EventStore, streamName: string, point: PointInTime): Promise<bigint | undefined> => {
  const last = await lastRevisionOf(eventStore, streamName);
  if (last === undefined) return undefined;
  if (point.position === undefined && point.asOf === undefined) return last;
  const found = await lastWhere(last + 1n, async (revision) => recordedBy(await eventAt(eventStore, streamName, revision), point));
  return found < 0n ? undefined : found;
};

const decodeSnapshot = (event: RecordedEvent): AccountSnapshot => accountSnapshotted.schema.parse(event.data);

/** The newest snapshot usable for a fold up to `revision`, effective at the point. */
const snapshotFor = async (
  eventStore: EventStore,
  accountId: string,
  revision: bigint,
  point: PointInTime,
): Promise<AccountSnapshot | undefined> => {
  const streamName = snapshotStream(accountId);
  const last = await lastRevisionOf(eventStore, streamName);
  if (last === undefined) return undefined;
  // Snapshots are written in revision order and `maxOccurredAt` only grows, so both conditions
  // hold for a prefix of the snapshot stream.
  const usable = (snapshot: AccountSnapshot) =>
    snapshot.revision <= revision &&
    (point.effectiveAt === undefined ||
      snapshot.maxOccurredAt === undefined ||
      Date.parse(snapshot.maxOccurredAt) <= point.effectiveAt);
  const found = await lastWhere(last + 1n, async (index) => usable(decodeSnapshot(await eventAt(eventStore, streamName, index))));
  return found < 0n ? undefined : decodeSnapshot(await eventAt(eventStore, streamName, found));
};

export interface FoldState {
  figures: AccountFigures | undefined;
  maxOccurredAt: number | undefined;
}

/** Folds one event of an account stream into its figures, if effective at the point. */
export const foldAccountEvent = (state: FoldState, recorded: RecordedEvent, point: PointInTime): void => {
  if (recorded.type !== 'AccountOpened' && recorded.type !== 'AccountDebited' && recorded.type !== 'AccountCredited') return;
  const event = ledgerCatalog.decode(recorded) as LedgerEvent;
  if (event.type === 'AccountOpened') {
    state.figures = openedAccountFigures(event.data);
    return;
  }
  if ((event.type !== 'AccountDebited' && event.type !== 'AccountCredited') || state.figures === undefined) return;
  const occurredAt = occurredAtOf(recorded);
  state.maxOccurredAt = Math.max(state.maxOccurredAt ?? occurredAt, occurredAt);
  if (effectiveBy(recorded, point)) postToFigures(state.figures, event.type, event.data.amount);
};

export const figuresFromSnapshot = (snapshot: AccountSnapshot): AccountFigures => ({ ...snapshot.figures });

const entriesBefore = async (
  eventStore: EventStore,
  streamName: string,
  revision: bigint,
  figures: AccountFigures,
  point: PointInTime,
  limit: number,
): Promise<AccountEntry[]> => {
  const entries: AccountEntry[] = [];
  if (limit === 0) return entries;
  let balance = figures.balance;
  for await (const recorded of eventStore.readStream(streamName, { fromRevision: revision, direction: 'backwards' })) {
    if (recorded.type !== 'AccountDebited' && recorded.type !== 'AccountCredited') continue;
    if (!effectiveBy(recorded, point)) continue;
    const event = ledgerCatalog.decode(recorded) as LedgerEvent;
    if (event.type !== 'AccountDebited' && event.type !== 'AccountCredited') continue;
    const side = event.type === 'AccountCredited' ? 'credit' : 'debit';
    entries.push({
      revision: recorded.revision,
      position: recorded.position,
      recordedAt: recorded.created.toISOString(),
      occurredAt: new Date(occurredAtOf(recorded)).toISOString(),
      side,
      amount: event.data.amount,
      currency: event.data.currency,
      journal: event.data.journal,
      balanceAfter: balance,
    });
    balance += side === 'credit' ? -event.data.amount : event.data.amount;
    if (entries.length >= limit) break;
  }
  return entries;
};

export interface AccountAsOfOptions {
  /** Fold from the start of the stream even when a snapshot exists. */
  ignoreSnapshots?: boolean;
  /** How many of the latest entries to list (default 50). */
  entries?: number;
}

export const accountAsOf = async (
  eventStore: EventStore,
  accountId: string,
  point: PointInTime,
  options: AccountAsOfOptions = {},
): Promise<AccountAtPoint> => {
  // As the trial balance: an answer "at" a position not written yet would change once it is.
  await refuseBeyondHead(eventStore, point.position);
  const streamName = accountStream(accountId);
  const revision = await revisionAt(eventStore, streamName, point);
  if (revision === undefined) throw new AccountNotAtPointError(accountId);
  const snapshot = options.ignoreSnapshots ? undefined : await snapshotFor(eventStore, accountId, revision, point);
  const state: FoldState = {
    figures: snapshot === undefined ? undefined : figuresFromSnapshot(snapshot),
    maxOccurredAt: snapshot?.maxOccurredAt === undefined ? undefined : Date.parse(snapshot.maxOccurredAt),
  };
  let position = snapshot?.position;
  if (snapshot === undefined || snapshot.revision < revision) {
    const fromRevision = snapshot === undefined ? 0n : snapshot.revision + 1n;
    for await (const recorded of eventStore.readStream(streamName, { fromRevision })) {
      if (recorded.revision > revision) break;
      foldAccountEvent(state, recorded, point);
      position = recorded.position;
    }
  }
  if (state.figures === undefined) throw new AccountNotAtPointError(accountId);
  const entries = await entriesBefore(eventStore, streamName, revision, state.figures, point, options.entries ?? 50);
  return { figures: state.figures, revision, position: position!, entries, snapshotRevision: snapshot?.revision };
};

/** An account's latest snapshot, and the revision of its snapshot stream that holds it. */
export interface LatestAccountSnapshot {
  snapshot: AccountSnapshot;
  streamRevision: bigint;
}

/**
 * Appends the snapshot of an account after the event `last` (of its stream) to the snapshot
 * stream, expected at `expectedRevision`; deterministic ids make a repeat a no-op.
 */
export const appendAccountSnapshot = async (
  eventStore: EventStore,
  accountId: string,
  last: RecordedEvent,
  fold: { figures: AccountFigures; maxOccurredAt: number | undefined },
  expectedRevision: bigint | 'no_stream',
  eventId: (accountId: string, revision: bigint) => string,
): Promise<LatestAccountSnapshot> => {
  const snapshot: AccountSnapshot = {
    revision: last.revision,
    position: last.position,
    recordedAt: last.created.toISOString(),
    ...(fold.maxOccurredAt === undefined ? {} : { maxOccurredAt: new Date(fold.maxOccurredAt).toISOString() }),
    figures: { ...fold.figures },
  };
  const data = accountSnapshotted.schema.encode(snapshot);
  const appended = await eventStore.appendToStream(
    snapshotStream(accountId),
    [{ id: eventId(accountId, last.revision), type: accountSnapshotted.type, data, metadata: { occurredAt: snapshot.recordedAt } }],
    { expectedRevision },
  );
  return { snapshot, streamRevision: appended.nextExpectedRevision };
};

/**
 * Writes the snapshot of an account after `revision` unless one at or after it exists, folding
 * the account's events since its previous snapshot. Safe to repeat: the snapshot stream is
 * appended with an exact expected revision and deterministic ids. Returns the latest snapshot
 * (written or found), or `undefined` when the stream does not reach `revision`.
 */
export const snapshotAccount = async (
  eventStore: EventStore,
  accountId: string,
  revision: bigint,
  eventId: (accountId: string, revision: bigint) => string,
): Promise<LatestAccountSnapshot | undefined> => {
  const latest = await latestAccountSnapshot(eventStore, accountId);
  const previous = latest?.snapshot;
  if (previous !== undefined && previous.revision >= revision) return latest;
  const state: FoldState = {
    figures: previous === undefined ? undefined : figuresFromSnapshot(previous),
    maxOccurredAt: previous?.maxOccurredAt === undefined ? undefined : Date.parse(previous.maxOccurredAt),
  };
  let last: RecordedEvent | undefined;
  for await (const recorded of eventStore.readStream(accountStream(accountId), {
    fromRevision: previous === undefined ? 0n : previous.revision + 1n,
  })) {
    if (recorded.revision > revision) break;
    foldAccountEvent(state, recorded, {});
    last = recorded;
  }
  if (state.figures === undefined || last === undefined || last.revision !== revision) return undefined;
  return appendAccountSnapshot(
    eventStore,
    accountId,
    last,
    { figures: state.figures, maxOccurredAt: state.maxOccurredAt },
    latest === undefined ? 'no_stream' : latest.streamRevision,
    eventId,
  );
};

/** The account's latest snapshot, if it has one. */
export const latestAccountSnapshot = async (eventStore: EventStore, accountId: string): Promise<LatestAccountSnapshot | undefined> => {
  try {
    const [latest] = await collect(eventStore.readStream(snapshotStream(accountId), { direction: 'backwards', maxCount: 1 }));
    return latest === undefined ? undefined : { snapshot: decodeSnapshot(latest), streamRevision: latest.revision };
  } catch (error) {
    if (error instanceof StreamNotFoundError) return undefined;
    throw error;
  }
};

/** The latest business time among the account's postings from revision `from` to `to`, both included. */
export const latestPostingTime = async (
  eventStore: EventStore,
  accountId: string,
  from: bigint,
  to: bigint,
): Promise<number | undefined> => {
  let latest: number | undefined;
  for await (const recorded of eventStore.readStream(accountStream(accountId), { fromRevision: from, maxCount: Number(to - from + 1n) })) {
    if (recorded.type !== 'AccountDebited' && recorded.type !== 'AccountCredited') continue;
    const occurredAt = occurredAtOf(recorded);
    latest = Math.max(latest ?? occurredAt, occurredAt);
  }
  return latest;
};

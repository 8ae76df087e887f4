import type { EventStore, RecordedEvent } from '../eventStore/eventStore.js';
import { emptyLedgerFold, foldLedgerEvent, inTransitOf, type AccountFigures, type LedgerFold } from '../ledger/ledgerFold.js';
import { booksSnapshotAt, foldFromSnapshot, type BooksSnapshot } from './booksSnapshot.js';
import { CHAINED_STREAM_PREFIXES } from './eventHash.js';
import { effectiveBy, recordedBy, refuseBeyondHead, type PointInTime } from './pointInTime.js';

/**
 * The trial balance at a point: every account's figures folded from the log (never from a read
 * model), their sum per currency beside the money in transit (which must sum to zero with it),
 * and the movements in flight there (journals with postings and no outcome yet).
 */
export interface CurrencyTotals {
  currency: string;
  accounts: number;
  /** Σ account balances. */
  balances: bigint;
  inTransit: bigint;
  /** balances + inTransit: zero when the books balance. */
  difference: bigint;
}

export interface MovementInFlight {
  kind: string;
  id: string;
  currency: string;
  inTransit: bigint;
  /** Position of its first posting. */
  startedAt: bigint;
}

export interface TrialBalance {
  /** Position of the last event folded; `undefined` when the books were empty at the point. */
  position: bigint | undefined;
  balanced: boolean;
  currencies: CurrencyTotals[];
  accounts: AccountFigures[];
  inFlight: MovementInFlight[];
  eventsFolded: number;
  violations: string[];
}

const byKey = <T>(key: (item: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

/** The trial balance of a ledger fold. */
export const trialBalanceOf = (fold: LedgerFold, position: bigint | undefined): TrialBalance => {
  const inTransit = inTransitOf(fold);
  const totals = new Map<string, CurrencyTotals>();
  const totalsOf = (currency: string) => {
    let entry = totals.get(currency);
    if (entry === undefined) {
      entry = { currency, accounts: 0, balances: 0n, inTransit: 0n, difference: 0n };
      totals.set(currency, entry);
    }
    return entry;
  };
  for (const account of fold.accounts.values()) {
    const entry = totalsOf(account.currency);
    entry.accounts++;
    entry.balances += account.balance;
  }
  for (const [currency, amount] of inTransit) totalsOf(currency).inTransit = amount;
  for (const entry of totals.values()) entry.difference = entry.balances + entry.inTransit;
  const currencies = [...totals.values()].sort(byKey((entry) => entry.currency));
  const inFlight = [...fold.journals.values()]
    .filter((journal) => !journal.ended)
    .map((journal) => ({ kind: journal.kind, id: journal.id, currency: journal.currency, inTransit: -journal.net, startedAt: journal.startedAt }))
    .sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0));
  return {
    position,
    balanced: currencies.every((entry) => entry.difference === 0n),
    currencies,
    accounts: [...fold.accounts.values()].map((account) => ({ ...account })).sort(byKey((account) => account.accountId)),
    inFlight,
    eventsFolded: fold.eventsFolded,
    violations: [...fold.violations],
  };
};

const isPosting = (event: RecordedEvent): boolean => event.type === 'AccountDebited' || event.type === 'AccountCredited';

/** Folds events of the books in `$all` order up to the point. */
export const foldBooks = (events: Iterable<RecordedEvent>, point: PointInTime = {}): { fold: LedgerFold; position: bigint | undefined } => {
  const fold = emptyLedgerFold();
  let position: bigint | undefined;
  for (const event of events) {
    if (!recordedBy(event, point)) break;
    // Business time selects postings; accounts and outcomes count whenever they were recorded.
    if (!isPosting(event) || effectiveBy(event, point)) foldLedgerEvent(fold, event);
    position = event.position;
  }
  return { fold, position };
};

/** Folds the books from a snapshot (or from the start of the log) up to a recorded point. */
const foldUpTo = async (
  eventStore: EventStore,
  point: Pick<PointInTime, 'position' | 'asOf'>,
  snapshot: BooksSnapshot | undefined,
): Promise<{ fold: LedgerFold; position: bigint | undefined }> => {
  const fold = snapshot === undefined ? emptyLedgerFold() : foldFromSnapshot(snapshot);
  let position = snapshot?.position;
  for await (const event of eventStore.readAll({
    fromPosition: snapshot?.position ?? 'start',
    filter: { streamNamePrefixes: CHAINED_STREAM_PREFIXES },
  })) {
    if (position !== undefined && event.position <= position) continue;
    if (!recordedBy(event, point)) break;
    foldLedgerEvent(fold, event);
    position = event.position;
  }
  return { fold, position };
};

/**
 * The trial balance at a recorded point (`position` and/or `asOf`, never beyond the head), read
 * from the event store: from the nearest books snapshot recorded by then, or from the start of the
 * log. A snapshot keeps no detail of broken rules or ended journals, so once the books have broken
 * a rule, before the snapshot or since, the whole log is folded: the answer is a full replay's.
 */
export const trialBalanceAt = async (
  eventStore: EventStore,
  point: Pick<PointInTime, 'position' | 'asOf'>,
  options: { ignoreSnapshots?: boolean } = {},
): Promise<TrialBalance> => {
  await refuseBeyondHead(eventStore, point.position);
  const snapshot = options.ignoreSnapshots ? undefined : await booksSnapshotAt(eventStore, point);
  if (snapshot !== undefined && !snapshot.rulesBroken) {
    const books = await foldUpTo(eventStore, point, snapshot);
    if (books.fold.violations.length === 0) return trialBalanceOf(books.fold, books.position);
  }
  const books = await foldUpTo(eventStore, point, undefined);
  return trialBalanceOf(books.fold, books.position);
};

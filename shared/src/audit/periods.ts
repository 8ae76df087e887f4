import { z } from 'zod';
import { collect, type EventStore, type RecordedEvent } from '../eventStore/eventStore.js';
import { StreamNotFoundError, WrongExpectedRevisionError } from '../eventStore/errors.js';
import { defineEvent } from '../events/eventDefinition.js';
import { bigintString } from '../events/bigintJson.js';
import { NotFoundError } from '../errors/commonErrors.js';
import { deterministicEventId } from '../ids/eventIds.js';
import { ledgerCatalog, type LedgerEvent } from '../ledger/ledgerCatalog.js';
import { PeriodClosedError } from './auditErrors.js';
import { canonicalJson } from './canonicalJson.js';
import { CHAINED_STREAM_PREFIXES, PERIOD_STREAM } from './eventHash.js';
import { occurredAtOf, refuseBeyondHead } from './pointInTime.js';
import { foldBooks } from './trialBalance.js';

/**
 * Period close: the books of a period (postings with a business time up to `effectiveUntil`) as
 * known at a position are recorded in the chained `audit-periods` stream. A posting dated into a
 * closed period that is recorded after the close is a restatement: the report shows the figures as
 * closed beside the figures as they stand now, and the postings that changed them.
 */
export const periodIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, ".", "_" or "-", at most 64');

const balanceSchema = z.object({ accountId: z.string(), currency: z.string(), balance: bigintString });

export const periodClosed = defineEvent({
  type: 'PeriodClosed',
  version: 1,
  schema: z.object({
    periodId: periodIdSchema,
    effectiveUntil: z.iso.datetime(),
    closedAtPosition: bigintString,
    balances: z.array(balanceSchema),
  }),
});
export type PeriodClose = z.output<typeof periodClosed.schema>;

const readPeriods = async (eventStore: EventStore): Promise<{ close: PeriodClose; event: RecordedEvent }[]> => {
  try {
    const events = await collect(eventStore.readStream(PERIOD_STREAM));
    return events
      .filter((event) => event.type === periodClosed.type)
      .map((event) => ({ close: periodClosed.schema.parse(event.data), event }));
  } catch (error) {
    if (error instanceof StreamNotFoundError) return [];
    throw error;
  }
};

export const listPeriods = async (eventStore: EventStore): Promise<PeriodClose[]> =>
  (await readPeriods(eventStore)).map(({ close }) => close);

const bookEvents = async (eventStore: EventStore): Promise<RecordedEvent[]> =>
  collect(eventStore.readAll({ filter: { streamNamePrefixes: CHAINED_STREAM_PREFIXES } }));

const balancesOf = (events: RecordedEvent[], position: bigint | undefined, effectiveUntil: number) => {
  const { fold } = foldBooks(events, { ...(position === undefined ? {} : { position }), effectiveAt: effectiveUntil });
  return [...fold.accounts.values()]
    .map((account) => ({ accountId: account.accountId, currency: account.currency, balance: account.balance }))
    .sort((a, b) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0));
};

/** `actor` is who closes it, named as events name their actor: the caller's key (`key:<keyId>`) over HTTP. */
export const closePeriod = async (
  eventStore: EventStore,
  request: { periodId: string; effectiveUntil: Date; position?: bigint; actor: string; now: Date },
): Promise<PeriodClose> => {
  const closedAs = (periods: { close: PeriodClose }[]) => periods.find(({ close }) => close.periodId === request.periodId)?.close;
  const existing = await readPeriods(eventStore);
  const earlier = closedAs(existing);
  if (earlier !== undefined) throw new PeriodClosedError(earlier);
  // A close records the figures at its position once and for all: they must not change later.
  await refuseBeyondHead(eventStore, request.position);
  const position = request.position ?? (await eventStore.headPosition()) ?? 0n;
  const events = await bookEvents(eventStore);
  const close: PeriodClose = {
    periodId: request.periodId,
    effectiveUntil: request.effectiveUntil.toISOString(),
    closedAtPosition: position,
    balances: balancesOf(events, position, request.effectiveUntil.getTime()),
  };
  const data = periodClosed.schema.encode(close);
  try {
    await eventStore.appendToStream(
      PERIOD_STREAM,
      [
        {
          id: deterministicEventId('period-close', request.periodId),
          type: periodClosed.type,
          data,
          metadata: { actor: request.actor, occurredAt: request.now.toISOString() },
        },
      ],
      { expectedRevision: existing.length === 0 ? 'no_stream' : existing[existing.length - 1]!.event.revision },
    );
  } catch (error) {
    // Another close came first: of this period (decided below), or of another one (409, to retry).
    if (!(error instanceof WrongExpectedRevisionError) || closedAs(await readPeriods(eventStore)) === undefined) throw error;
  }
  // The event id names the period alone, so that a retry is written once; but the store then
  // also takes a concurrent close of the period with other figures for a retry, and answers it
  // without writing it. What was stored decides: the same figures are the retry's answer, other
  // ones mean this close lost.
  const stored = closedAs(await readPeriods(eventStore))!;
  if (canonicalJson(periodClosed.schema.encode(stored)) !== canonicalJson(data)) throw new PeriodClosedError(stored);
  return stored;
};

export interface Restatement {
  accountId: string;
  currency: string;
  original: bigint;
  restated: bigint;
}

export interface LatePosting {
  accountId: string;
  position: bigint;
  occurredAt: string;
  recordedAt: string;
  side: 'debit' | 'credit';
  amount: bigint;
  currency: string;
  journalId: string;
}

export interface RestatementReport {
  period: PeriodClose;
  restated: boolean;
  accounts: Restatement[];
  latePostings: LatePosting[];
}

export const restatementsOf = async (eventStore: EventStore, periodId: string): Promise<RestatementReport> => {
  const period = (await readPeriods(eventStore)).find(({ close }) => close.periodId === periodId)?.close;
  if (period === undefined) throw new NotFoundError('period', periodId, { type: 'period-not-found' });
  const until = Date.parse(period.effectiveUntil);
  const events = await bookEvents(eventStore);
  const now = new Map(balancesOf(events, undefined, until).map((entry) => [entry.accountId, entry]));
  const original = new Map(period.balances.map((entry) => [entry.accountId, entry]));
  const accounts: Restatement[] = [];
  for (const accountId of new Set([...now.keys(), ...original.keys()])) {
    const before = original.get(accountId);
    const after = now.get(accountId);
    const restatement = {
      accountId,
      currency: (after ?? before)!.currency,
      original: before?.balance ?? 0n,
      restated: after?.balance ?? 0n,
    };
    if (restatement.original !== restatement.restated) accounts.push(restatement);
  }
  accounts.sort((a, b) => (a.accountId < b.accountId ? -1 : 1));
  const latePostings: LatePosting[] = [];
  for (const event of events) {
    if (event.position <= period.closedAtPosition) continue;
    if (event.type !== 'AccountDebited' && event.type !== 'AccountCredited') continue;
    if (occurredAtOf(event) > until) continue;
    const decoded = ledgerCatalog.decode(event) as LedgerEvent;
    if (decoded.type !== 'AccountDebited' && decoded.type !== 'AccountCredited') continue;
    latePostings.push({
      accountId: decoded.data.accountId,
      position: event.position,
      occurredAt: new Date(occurredAtOf(event)).toISOString(),
      recordedAt: event.created.toISOString(),
      side: decoded.type === 'AccountCredited' ? 'credit' : 'debit',
      amount: decoded.data.amount,
      currency: decoded.data.currency,
      journalId: decoded.data.journal.id,
    });
  }
  return { period, restated: accounts.length > 0 || latePostings.length > 0, accounts, latePostings };
};

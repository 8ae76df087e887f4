import { z } from 'zod';
import type { RecordedEvent } from '../eventStore/eventStore.js';
import { SCHEMA_VERSION_KEY } from '../events/envelope.js';
import { InvalidRecordedEventError } from '../events/errors.js';
import { issuesOf } from '../events/eventDefinition.js';
import { snowflakeIdSchema } from '../ids/index.js';
import { currencyCodeSchema } from '../money/index.js';
import { accountKinds, type AccountKind } from './accountEvents.js';
import { journalKinds, journalRefSchema, nonNegativeAmountSchema, positiveAmountSchema, providerJournalKinds, type JournalKind } from './journal.js';
import { movementOutcomes, type MovementOutcomeChoice } from './movementEvents.js';
import { ledgerCatalog } from './ledgerCatalog.js';

/**
 * The books folded from the log in `$all` order: each account's figures, each journal's net
 * effect (what its postings took out of accounts and have not put back yet is in transit), and
 * the breaches of the books' rules met on the way. The invariant checks, the trial balance and the
 * audit exports all fold with this one function.
 */
export interface AccountFigures {
  accountId: string;
  currency: string;
  kind: AccountKind;
  overdraftLimit: bigint;
  debits: bigint;
  credits: bigint;
  /** credits − debits */
  balance: bigint;
  postings: number;
}

export interface JournalFacts {
  kind: JournalKind;
  id: string;
  currency: string;
  /** Σ of its postings' effect on balances: −(money in transit). */
  net: bigint;
  legs: Set<string>;
  ended: boolean;
  /** Position of its first posting. */
  startedAt: bigint;
  /**
   * How a run chose to end it, where one did (see `MovementOutcomeChosen`): no leg may contradict
   * it. A choice to complete becomes one to reverse where a justified replacement says so.
   */
  chosen?: MovementOutcomeChoice;
  /** The account of its later leg, as its first leg names it (`counterpartyAccountId`); unknown without a first leg. */
  secondAccountId?: string;
}

export interface LedgerFold {
  accounts: Map<string, AccountFigures>;
  /** Open holds by account, then by hold id: money pending debits have set aside. */
  holds: Map<string, Map<string, bigint>>;
  journals: Map<string, JournalFacts>;
  /** Accounts closed (`AccountClosed`): none takes a journal's later leg any more, which justifies replacing a choice to complete. */
  closedAccounts: Set<string>;
  totalBalance: Map<string, bigint>;
  completedJournals: number;
  failedJournals: number;
  eventsFolded: number;
  violations: string[];
}

export const LEDGER_EVENT_TYPES: ReadonlySet<string> = new Set(ledgerCatalog.types as readonly string[]);

/**
 * Only the fields the fold uses are validated, each with its event's own schema: over the whole
 * log, a full decode of every event (its movement, its metadata) was most of the fold's cost.
 * What the fold ignores is still checked where it is used, and `verify` checks every event's hash.
 */
const holdSchema = z.object({ accountId: snowflakeIdSchema, holdId: snowflakeIdSchema, amount: positiveAmountSchema });
const foldedData = {
  AccountOpened: z.object({
    accountId: snowflakeIdSchema,
    currency: currencyCodeSchema,
    kind: z.enum(accountKinds),
    overdraftLimit: nonNegativeAmountSchema,
  }),
  AccountClosed: z.object({ accountId: snowflakeIdSchema }),
  AccountFundsHeld: holdSchema,
  AccountHoldReleased: holdSchema,
  AccountDebited: z.object({
    accountId: snowflakeIdSchema,
    journal: journalRefSchema.pick({ id: true, kind: true, leg: true, counterpartyAccountId: true }),
    amount: positiveAmountSchema,
    currency: currencyCodeSchema,
  }),
  TransferCompleted: z.object({ transferId: snowflakeIdSchema }),
  DepositCompleted: z.object({ depositId: snowflakeIdSchema }),
  JournalCompleted: z.object({ kind: z.enum(providerJournalKinds), journalId: snowflakeIdSchema }),
  MovementOutcomeChosen: z.object({
    kind: z.enum(journalKinds),
    journalId: snowflakeIdSchema,
    outcome: z.enum(movementOutcomes),
    replaces: z.enum(movementOutcomes).optional(),
  }),
};
const foldedSchemas: ReadonlyMap<string, z.ZodType> = new Map<string, z.ZodType>([
  ...Object.entries(foldedData),
  ['AccountCredited', foldedData.AccountDebited],
  ['TransferFailed', foldedData.TransferCompleted],
  ['DepositFailed', foldedData.DepositCompleted],
  ['JournalFailed', foldedData.JournalCompleted],
]);

type Folded<T extends keyof typeof foldedData> = z.output<(typeof foldedData)[T]>;
type FoldedEvent =
  | { type: 'AccountOpened'; data: Folded<'AccountOpened'> }
  | { type: 'AccountClosed'; data: Folded<'AccountClosed'> }
  | { type: 'AccountFundsHeld' | 'AccountHoldReleased'; data: Folded<'AccountFundsHeld'> }
  | { type: 'AccountDebited' | 'AccountCredited'; data: Folded<'AccountDebited'> }
  | { type: 'TransferCompleted' | 'TransferFailed'; data: Folded<'TransferCompleted'> }
  | { type: 'DepositCompleted' | 'DepositFailed'; data: Folded<'DepositCompleted'> }
  | { type: 'JournalCompleted' | 'JournalFailed'; data: Folded<'JournalCompleted'> }
  | { type: 'MovementOutcomeChosen'; data: Folded<'MovementOutcomeChosen'> };

/**
 * The fields of an event the fold uses; `undefined` for the books' events it does not fold. An
 * event of an older version is upcast by a full decode first: its data then has the same fields.
 */
const foldedEventOf = (recorded: RecordedEvent): FoldedEvent | undefined => {
  const schema = foldedSchemas.get(recorded.type);
  if (schema === undefined) return undefined;
  const version = ledgerCatalog.definitionOf(recorded.type)?.version;
  if (recorded.metadata?.[SCHEMA_VERSION_KEY] !== version) return ledgerCatalog.decode(recorded) as FoldedEvent;
  const parsed = schema.safeParse(recorded.data);
  if (!parsed.success) {
    throw new InvalidRecordedEventError(recorded.id, recorded.type, version, 'has invalid data', issuesOf(parsed.error, 'data'));
  }
  return { type: recorded.type, data: parsed.data } as FoldedEvent;
};

export const emptyLedgerFold = (): LedgerFold => ({
  accounts: new Map(),
  holds: new Map(),
  journals: new Map(),
  closedAccounts: new Set(),
  totalBalance: new Map(),
  completedJournals: 0,
  failedJournals: 0,
  eventsFolded: 0,
  violations: [],
});

/** A new account's figures: nothing posted yet. */
export const openedAccountFigures = (data: {
  accountId: string;
  currency: string;
  kind: AccountKind;
  overdraftLimit: bigint;
}): AccountFigures => ({
  accountId: data.accountId,
  currency: data.currency,
  kind: data.kind,
  overdraftLimit: data.overdraftLimit,
  debits: 0n,
  credits: 0n,
  balance: 0n,
  postings: 0,
});

/** Applies one posting to an account's figures; returns its effect on the balance. */
export const postToFigures = (figures: AccountFigures, type: 'AccountDebited' | 'AccountCredited', amount: bigint): bigint => {
  figures.postings += 1;
  if (type === 'AccountCredited') {
    figures.credits += amount;
    figures.balance += amount;
    return amount;
  }
  figures.debits += amount;
  figures.balance -= amount;
  return -amount;
};

const add = (totals: Map<string, bigint>, currency: string, amount: bigint) =>
  totals.set(currency, (totals.get(currency) ?? 0n) + amount);

const endJournal = (fold: LedgerFold, key: string, position: bigint, outcome: 'completed' | 'failed') => {
  const journal = fold.journals.get(key);
  if (journal === undefined) {
    fold.violations.push(`@${position}: ${key} ended without any posting`);
    return;
  }
  if (journal.ended) fold.violations.push(`@${position}: ${key} ended twice`);
  const contradicted = outcome === 'completed' ? 'reverse' : 'complete';
  if (journal.chosen === contradicted) fold.violations.push(`@${position}: ${key} ${outcome} though a run chose to ${contradicted} it`);
  journal.ended = true;
  if (journal.net !== 0n) fold.violations.push(`@${position}: ${key} ${outcome} but its postings sum to ${journal.net}`);
  if (outcome === 'completed') fold.completedJournals++;
  else fold.failedJournals++;
};

/**
 * Why a choice replacing the journal's standing one is not justified by what the fold knows;
 * undefined when it is: a choice to complete replaced by one to reverse, after the account of the
 * journal's later leg was closed and before that leg was posted (a closed account never takes it).
 */
const unjustifiedReplacement = (
  fold: LedgerFold,
  journal: JournalFacts,
  outcome: MovementOutcomeChoice,
  replaces: MovementOutcomeChoice,
): string | undefined => {
  if (replaces !== journal.chosen) return `it replaces ${replaces} where ${journal.chosen ?? 'nothing'} was chosen`;
  if (replaces !== 'complete' || outcome !== 'reverse') return `only a choice to complete may be replaced, by one to reverse`;
  const second = journal.secondAccountId;
  if (second === undefined || !fold.closedAccounts.has(second)) return `its second account ${second ?? '(unknown)'} is not closed`;
  if (journal.legs.has(`second:${second}`)) return `its second leg is posted on ${second}`;
  return undefined;
};

const heldOn = (fold: LedgerFold, accountId: string): bigint => {
  let held = 0n;
  for (const amount of fold.holds.get(accountId)?.values() ?? []) held += amount;
  return held;
};

/** Folds one recorded event into the books; events that are not the books' are ignored. */
export const foldLedgerEvent = (fold: LedgerFold, recorded: RecordedEvent): void => {
  if (!LEDGER_EVENT_TYPES.has(recorded.type)) return;
  fold.eventsFolded++;
  const { violations } = fold;
  const at = `@${recorded.position}`;
  const event = foldedEventOf(recorded);
  switch (event?.type) {
    case 'AccountOpened':
      fold.accounts.set(event.data.accountId, openedAccountFigures(event.data));
      break;
    case 'AccountClosed':
      fold.closedAccounts.add(event.data.accountId);
      break;
    case 'AccountFundsHeld': {
      const { accountId, holdId, amount } = event.data;
      const account = fold.accounts.get(accountId);
      if (account === undefined) {
        violations.push(`${at}: hold on unknown account ${accountId}`);
        break;
      }
      const holds = fold.holds.get(accountId) ?? new Map<string, bigint>();
      fold.holds.set(accountId, holds);
      if (holds.has(holdId)) violations.push(`${at}: hold ${holdId} placed twice`);
      holds.set(holdId, amount);
      if (account.kind !== 'system' && account.balance - heldOn(fold, accountId) + account.overdraftLimit < 0n) {
        violations.push(`${at}: hold ${holdId} takes account ${accountId} below its limit`);
      }
      break;
    }
    case 'AccountHoldReleased': {
      const { accountId, holdId, amount } = event.data;
      const holds = fold.holds.get(accountId);
      if (holds?.get(holdId) !== amount) violations.push(`${at}: release of hold ${holdId} that is not open for ${amount}`);
      holds?.delete(holdId);
      if (holds?.size === 0) fold.holds.delete(accountId);
      break;
    }
    case 'AccountDebited':
    case 'AccountCredited': {
      const { accountId, journal, amount, currency } = event.data;
      const account = fold.accounts.get(accountId);
      if (account === undefined) {
        violations.push(`${at}: posting on unknown account ${accountId}`);
        break;
      }
      if (account.currency !== currency) violations.push(`${at}: ${currency} posting on a ${account.currency} account`);
      const effect = postToFigures(account, event.type, amount);
      add(fold.totalBalance, currency, effect);

      const key = `${journal.kind}-${journal.id}`;
      let facts = fold.journals.get(key);
      if (facts === undefined) {
        if (journal.leg !== 'first') violations.push(`${at}: ${journal.leg} leg of ${key} before its first leg`);
        facts = { kind: journal.kind, id: journal.id, currency, net: 0n, legs: new Set(), ended: false, startedAt: recorded.position };
        if (journal.leg === 'first') facts.secondAccountId = journal.counterpartyAccountId;
        fold.journals.set(key, facts);
      }
      if (facts.ended) violations.push(`${at}: posting on ${key} after it ended`);
      const leg = `${journal.leg}:${accountId}`;
      if (facts.legs.has(leg)) violations.push(`${at}: ${journal.leg} leg of ${key} posted twice on ${accountId}`);
      const contradicted = journal.leg === 'second' ? 'reverse' : journal.leg === 'reversal' ? 'complete' : undefined;
      if (contradicted !== undefined && facts.chosen === contradicted) {
        violations.push(`${at}: ${journal.leg} leg of ${key} posted though a run chose to ${contradicted} it`);
      }
      facts.legs.add(leg);
      facts.net += effect;

      const constrained = account.kind !== 'system';
      if (constrained && effect < 0n && journal.leg !== 'reversal' && account.balance - heldOn(fold, accountId) + account.overdraftLimit < 0n) {
        violations.push(`${at}: account ${accountId} overdrawn to ${account.balance} (limit ${account.overdraftLimit})`);
      }
      break;
    }
    case 'TransferCompleted':
      endJournal(fold, `transfer-${event.data.transferId}`, recorded.position, 'completed');
      break;
    case 'TransferFailed':
      endJournal(fold, `transfer-${event.data.transferId}`, recorded.position, 'failed');
      break;
    case 'DepositCompleted':
      endJournal(fold, `deposit-${event.data.depositId}`, recorded.position, 'completed');
      break;
    case 'DepositFailed':
      endJournal(fold, `deposit-${event.data.depositId}`, recorded.position, 'failed');
      break;
    case 'JournalCompleted':
      endJournal(fold, `${event.data.kind}-${event.data.journalId}`, recorded.position, 'completed');
      break;
    case 'JournalFailed':
      endJournal(fold, `${event.data.kind}-${event.data.journalId}`, recorded.position, 'failed');
      break;
    case 'MovementOutcomeChosen': {
      const key = `${event.data.kind}-${event.data.journalId}`;
      const facts = fold.journals.get(key);
      const { outcome, replaces } = event.data;
      if (facts === undefined) violations.push(`${at}: outcome of ${key} chosen without any posting`);
      else if (facts.ended) violations.push(`${at}: outcome of ${key} chosen after it ended`);
      else if (replaces === undefined) {
        if (facts.chosen !== undefined) violations.push(`${at}: outcome of ${key} chosen twice`);
        else facts.chosen = outcome;
      } else {
        // A replacement stands only where the fold itself justifies it; otherwise the choice before stands.
        const unjustified = unjustifiedReplacement(fold, facts, outcome, replaces);
        if (unjustified !== undefined) violations.push(`${at}: outcome of ${key} replaced by ${outcome} though ${unjustified}`);
        else facts.chosen = outcome;
      }
      break;
    }
    default:
      break;
  }
};

/** Money in transit per currency: what the postings of journals still open took out of accounts. */
export const inTransitOf = (fold: LedgerFold): Map<string, bigint> => {
  const inTransit = new Map<string, bigint>();
  for (const journal of fold.journals.values()) {
    if (!journal.ended) add(inTransit, journal.currency, -journal.net);
  }
  return inTransit;
};

import type { RecordedEvent } from '../eventStore/eventStore.js';
import { ledgerCatalog, type LedgerEvent } from './ledgerCatalog.js';

/**
 * Replays the log and checks the books' invariants after every event:
 * 1. every journal with a recorded outcome balances per currency (its postings sum to zero);
 * 2. Σ account balances + money in transit = 0 per currency, where in transit is what open
 *    journals' postings took out of accounts and have not put back yet;
 * 3. no customer or merchant account's available balance goes below zero (its overdraft limit
 *    counts as available, money held for pending debits does not), whatever the order of events;
 * and that no leg of a journal is posted twice and no leg comes without its journal's first leg.
 */
export interface LedgerReport {
  /** Balance (credits − debits) per account. */
  balances: Map<string, { currency: string; balance: bigint }>;
  /** Money in transit per currency at the end of the log. */
  inTransit: Map<string, bigint>;
  openJournals: number;
  completedJournals: number;
  failedJournals: number;
  eventsChecked: number;
  violations: string[];
}

interface AccountFacts {
  currency: string;
  constrained: boolean;
  overdraftLimit: bigint;
  balance: bigint;
  /** Open holds by id: what pending debits have set aside. */
  holds: Map<string, bigint>;
}

const heldOn = (account: AccountFacts): bigint => [...account.holds.values()].reduce((sum, amount) => sum + amount, 0n);

interface JournalFacts {
  currency: string;
  /** Σ of its postings' effect on balances: −(money in transit). */
  net: bigint;
  legs: Set<string>;
  ended: boolean;
}

const LEDGER_TYPES = new Set(ledgerCatalog.types as readonly string[]);

export const checkLedger = (events: Iterable<RecordedEvent>): LedgerReport => {
  const accounts = new Map<string, AccountFacts>();
  const journals = new Map<string, JournalFacts>();
  const violations: string[] = [];
  const totalBalance = new Map<string, bigint>();
  let completed = 0;
  let failed = 0;
  let checked = 0;

  const add = (totals: Map<string, bigint>, currency: string, amount: bigint) =>
    totals.set(currency, (totals.get(currency) ?? 0n) + amount);

  const endJournal = (key: string, position: bigint, outcome: 'completed' | 'failed') => {
    const journal = journals.get(key);
    if (journal === undefined) {
      violations.push(`@${position}: ${key} ended without any posting`);
      return;
    }
    if (journal.ended) violations.push(`@${position}: ${key} ended twice`);
    journal.ended = true;
    if (journal.net !== 0n) violations.push(`@${position}: ${key} ${outcome} but its postings sum to ${journal.net}`);
    if (outcome === 'completed') completed++;
    else failed++;
  };

  for (const recorded of events) {
    if (!LEDGER_TYPES.has(recorded.type)) continue;
    checked++;
    const at = `@${recorded.position}`;
    const event = ledgerCatalog.decode(recorded) as LedgerEvent;
    switch (event.type) {
      case 'AccountOpened':
        accounts.set(event.data.accountId, {
          currency: event.data.currency,
          constrained: event.data.kind !== 'system',
          overdraftLimit: event.data.overdraftLimit,
          balance: 0n,
          holds: new Map(),
        });
        break;
      case 'AccountFundsHeld': {
        const account = accounts.get(event.data.accountId);
        if (account === undefined) {
          violations.push(`${at}: hold on unknown account ${event.data.accountId}`);
          break;
        }
        if (account.holds.has(event.data.holdId)) violations.push(`${at}: hold ${event.data.holdId} placed twice`);
        account.holds.set(event.data.holdId, event.data.amount);
        if (account.constrained && account.balance - heldOn(account) + account.overdraftLimit < 0n) {
          violations.push(`${at}: hold ${event.data.holdId} takes account ${event.data.accountId} below its limit`);
        }
        break;
      }
      case 'AccountHoldReleased': {
        const account = accounts.get(event.data.accountId);
        if (account?.holds.get(event.data.holdId) !== event.data.amount) {
          violations.push(`${at}: release of hold ${event.data.holdId} that is not open for ${event.data.amount}`);
        }
        account?.holds.delete(event.data.holdId);
        break;
      }
      case 'AccountDebited':
      case 'AccountCredited': {
        const { accountId, journal, amount, currency } = event.data;
        const account = accounts.get(accountId);
        if (account === undefined) {
          violations.push(`${at}: posting on unknown account ${accountId}`);
          break;
        }
        if (account.currency !== currency) violations.push(`${at}: ${currency} posting on a ${account.currency} account`);
        const effect = event.type === 'AccountCredited' ? amount : -amount;
        account.balance += effect;
        add(totalBalance, currency, effect);

        const key = `${journal.kind}-${journal.id}`;
        let facts = journals.get(key);
        if (facts === undefined) {
          if (journal.leg !== 'first') violations.push(`${at}: ${journal.leg} leg of ${key} before its first leg`);
          facts = { currency, net: 0n, legs: new Set(), ended: false };
          journals.set(key, facts);
        }
        if (facts.ended) violations.push(`${at}: posting on ${key} after it ended`);
        const leg = `${journal.leg}:${accountId}`;
        if (facts.legs.has(leg)) violations.push(`${at}: ${journal.leg} leg of ${key} posted twice on ${accountId}`);
        facts.legs.add(leg);
        facts.net += effect;

        if (account.constrained && effect < 0n && journal.leg !== 'reversal' && account.balance - heldOn(account) + account.overdraftLimit < 0n) {
          violations.push(`${at}: account ${accountId} overdrawn to ${account.balance} (limit ${account.overdraftLimit})`);
        }
        break;
      }
      case 'TransferCompleted':
        endJournal(`transfer-${event.data.transferId}`, recorded.position, 'completed');
        break;
      case 'TransferFailed':
        endJournal(`transfer-${event.data.transferId}`, recorded.position, 'failed');
        break;
      case 'DepositCompleted':
        endJournal(`deposit-${event.data.depositId}`, recorded.position, 'completed');
        break;
      case 'DepositFailed':
        endJournal(`deposit-${event.data.depositId}`, recorded.position, 'failed');
        break;
      case 'JournalCompleted':
        endJournal(`${event.data.kind}-${event.data.journalId}`, recorded.position, 'completed');
        break;
      case 'JournalFailed':
        endJournal(`${event.data.kind}-${event.data.journalId}`, recorded.position, 'failed');
        break;
      default:
        break;
    }
  }

  // In transit: what the postings of journals still open took out of accounts.
  const inTransit = new Map<string, bigint>();
  for (const journal of journals.values()) {
    if (!journal.ended) add(inTransit, journal.currency, -journal.net);
  }
  for (const [currency, balance] of totalBalance) {
    const transit = inTransit.get(currency) ?? 0n;
    if (balance + transit !== 0n) violations.push(`${currency}: balances ${balance} + in transit ${transit} ≠ 0`);
  }

  return {
    balances: new Map([...accounts].map(([id, account]) => [id, { currency: account.currency, balance: account.balance }])),
    inTransit,
    openJournals: [...journals.values()].filter((journal) => !journal.ended).length,
    completedJournals: completed,
    failedJournals: failed,
    eventsChecked: checked,
    violations,
  };
};

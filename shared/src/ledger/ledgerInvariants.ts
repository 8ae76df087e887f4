import type { RecordedEvent } from '../eventStore/eventStore.js';
import { emptyLedgerFold, foldLedgerEvent, inTransitOf } from './ledgerFold.js';

/**
 * Replays the log and checks the books' invariants after every event:
 * 1. every journal with a recorded outcome balances per currency (its postings sum to zero);
 * 2. Σ account balances + money in transit = 0 per currency, where in transit is what open
 *    journals' postings took out of accounts and have not put back yet;
 * 3. no customer or merchant account's available balance goes below zero (its overdraft limit
 *    counts as available, money held for pending debits does not), whatever the order of events;
 * and that no leg of a journal is posted twice, no leg comes without its journal's first leg, and
 * neither a leg nor the outcome contradicts how a run chose to end the journal.
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

export const checkLedger = (events: Iterable<RecordedEvent>): LedgerReport => {
  const fold = emptyLedgerFold();
  for (const recorded of events) foldLedgerEvent(fold, recorded);
  const { journals, violations, totalBalance } = fold;

  const inTransit = inTransitOf(fold);
  for (const [currency, balance] of totalBalance) {
    const transit = inTransit.get(currency) ?? 0n;
    if (balance + transit !== 0n) violations.push(`${currency}: balances ${balance} + in transit ${transit} ≠ 0`);
  }

  return {
    balances: new Map([...fold.accounts].map(([id, account]) => [id, { currency: account.currency, balance: account.balance }])),
    inTransit,
    openJournals: [...journals.values()].filter((journal) => !journal.ended).length,
    completedJournals: fold.completedJournals,
    failedJournals: fold.failedJournals,
    eventsChecked: fold.eventsFolded,
    violations,
  };
};

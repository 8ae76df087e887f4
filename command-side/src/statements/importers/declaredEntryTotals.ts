import { formatDecimalAmount, type CurrencyCode, type DecimalSeparator } from '@folio/shared';
import type { StatementIssue } from './malformedStatementError.js';

/**
 * Control totals a bank statement declares about its own entries (camt.053 `TxsSummry`, MT940
 * `:90C:`/`:90D:`), held against the entries the file actually carries: a statement cut short
 * or altered disagrees with them, and the file is rejected at the line of the declaration.
 */

export type EntryDirection = 'credit' | 'debit';

/** One figure a statement declares, and where it declares it. */
export interface DeclaredFigure {
  /** A number of entries, their unsigned sum, or the net of all entries (positive when the credits are larger). */
  kind: 'count' | 'sum' | 'net';
  /** The entries a count or a sum is about: one direction, or all of them when absent. */
  direction?: EntryDirection;
  /** The count, or minor units of the totals' currency. */
  value: bigint;
  line: number;
  /** The element or tag that holds the figure. */
  column: string;
  /** What the figure belongs to, as the reason names it: `TtlCdtNtries`, `:90C:`. */
  declaredBy: string;
}

export interface DeclaredEntryTotals {
  /** The currency of the sums and the net. */
  currency: CurrencyCode;
  /** How the format writes amounts, so a reason shows them as the file does. */
  decimalSeparator: DecimalSeparator;
  figures: readonly DeclaredFigure[];
}

/** How the bank booked one entry: `amount` is unsigned, `direction` is the booking's (a reversal counts the way it was booked). */
export interface EntryBooking {
  direction: EntryDirection;
  amount: bigint;
  currency: CurrencyCode;
  /** Where the entry's amount is, for an issue about its currency. */
  line: number;
  column: string;
}

interface DirectionTotal {
  count: bigint;
  amount: bigint;
}

const entries = (count: bigint, direction: EntryDirection | undefined): string =>
  `${count} ${direction === undefined ? '' : `${direction} `}${count === 1n ? 'entry' : 'entries'}`;

/** A statement's entries counted and summed per currency, by the direction each was booked in. */
export class EntryTally {
  private readonly currencies = new Map<CurrencyCode, { credit: DirectionTotal; debit: DirectionTotal; first: { line: number; column: string } }>();

  add(entry: EntryBooking): void {
    let totals = this.currencies.get(entry.currency);
    if (totals === undefined) {
      totals = { credit: { count: 0n, amount: 0n }, debit: { count: 0n, amount: 0n }, first: { line: entry.line, column: entry.column } };
      this.currencies.set(entry.currency, totals);
    }
    totals[entry.direction].count += 1n;
    totals[entry.direction].amount += entry.amount;
  }

  /** The currency of the first entry, if there is one. */
  get firstCurrency(): CurrencyCode | undefined {
    return this.currencies.keys().next().value;
  }

  /** Every declared figure that disagrees with the entries, each naming the declared and the actual figure. */
  disagreements({ currency, decimalSeparator, figures }: DeclaredEntryTotals): StatementIssue[] {
    const issues: StatementIssue[] = [];
    const money = (amount: bigint) => `${formatDecimalAmount(amount, currency, decimalSeparator)} ${currency}`;
    const netOf = (amount: bigint) => (amount === 0n ? money(0n) : `a ${amount > 0n ? 'credit' : 'debit'} of ${money(amount < 0n ? -amount : amount)}`);
    const inCurrency = this.currencies.get(currency) ?? { credit: { count: 0n, amount: 0n }, debit: { count: 0n, amount: 0n } };
    const count = (direction: EntryDirection | undefined) =>
      [...this.currencies.values()].reduce((sum, totals) => sum + (direction === undefined ? totals.credit.count + totals.debit.count : totals[direction].count), 0n);
    const sum = (direction: EntryDirection | undefined) =>
      direction === undefined ? inCurrency.credit.amount + inCurrency.debit.amount : inCurrency[direction].amount;
    const mismatch = (figure: DeclaredFigure, reason: string) =>
      issues.push({ line: figure.line, column: figure.column, reason: `${figure.declaredBy} declares ${reason}: the file is incomplete or altered` });

    // An entry in another currency has no place in the declared sums: they cannot be held against the entries at all.
    if (figures.some((figure) => figure.kind !== 'count')) {
      for (const [other, { first }] of this.currencies) {
        if (other === currency) continue;
        issues.push({ ...first, reason: `the entry is in ${other}, but the statement declares its control sums in ${currency}: they cannot be checked` });
      }
      if (issues.length > 0) return issues;
    }
    for (const figure of figures) {
      const { direction } = figure;
      const which = direction === undefined ? 'entries' : `${direction} entries`;
      if (figure.kind === 'count') {
        const actual = count(direction);
        if (actual !== figure.value) mismatch(figure, `${entries(figure.value, direction)} but the statement has ${actual}`);
      } else if (figure.kind === 'sum') {
        const actual = sum(direction);
        if (actual !== figure.value) mismatch(figure, `that the ${which} add up to ${money(figure.value)}, but the statement's add up to ${money(actual)}`);
      } else {
        const actual = inCurrency.credit.amount - inCurrency.debit.amount;
        if (actual !== figure.value) mismatch(figure, `that the entries net to ${netOf(figure.value)}, but the statement's net to ${netOf(actual)}`);
      }
    }
    return issues;
  }
}

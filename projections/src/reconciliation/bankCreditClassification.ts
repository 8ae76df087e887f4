import { formatDecimalAmount, isCurrencyCode } from '@folio/shared';
import { exponentGap } from './classification.js';
import type { Evidence, Finding } from './discrepancies.js';
import type { MoneyFact } from './reconciliationFacts.js';
import type { ReconciliationRules } from './reconciliationRules.js';
import { instantOf } from './rowMatching.js';

/** A payout the bank should show: a provider's payout row, or Folio's own payout once paid. */
export interface ProviderPayoutFacts {
  provider: string;
  payoutId: string;
  /** Positive: what was sent to the bank. */
  paidOut: MoneyFact;
  date?: string;
  /** The payout id and the references the bank may show for it. */
  references: string[];
  evidence: Evidence;
}

/** One credit on a bank statement, as matching sees it. */
export interface BankCreditFacts {
  provider: string;
  rowKey: string;
  credited: MoneyFact;
  date?: string;
  references: string[];
  evidence: Evidence;
}

const shown = (minorUnits: string | bigint, currency: string): string =>
  isCurrencyCode(currency) ? `${formatDecimalAmount(BigInt(minorUnits), currency)} ${currency}` : `${minorUnits} minor units of ${currency}`;

/**
 * A bank credit against the payout it was matched to (or the payouts that all fit it, or none):
 * the bank holds the money, so the credit is what arrived.
 */
export const classifyBankCredit = (
  credit: BankCreditFacts,
  match: { payout: ProviderPayoutFacts } | { candidates: readonly ProviderPayoutFacts[] },
  rules: ReconciliationRules,
): Finding[] => {
  const { credited } = credit;
  if ('candidates' in match) {
    if (match.candidates.length > 1)
      return [
        {
          code: 'AMBIGUOUS_MATCH',
          explanation: `Bank credit ${credit.rowKey} of ${shown(credited.amount, credited.currency)} fits ${match.candidates.length} provider payouts by amount, currency and date; none was chosen.`,
          detail: { rowKey: credit.rowKey, credited: credited.amount, currency: credited.currency, candidates: match.candidates.map((payout) => payout.payoutId).join(',') },
          evidence: [credit.evidence, ...match.candidates.map((payout) => payout.evidence)],
        },
      ];
    return [
      {
        code: 'PROVIDER_UNMATCHED',
        explanation: `The bank received ${shown(credited.amount, credited.currency)} (row ${credit.rowKey}) that no provider payout explains.`,
        detail: { rowKey: credit.rowKey, credited: credited.amount, currency: credited.currency },
        evidence: [credit.evidence],
      },
    ];
  }
  const { payout } = match;
  const evidence = [credit.evidence, payout.evidence];
  const base = { rowKey: credit.rowKey, payoutId: payout.payoutId, payoutProvider: payout.provider, paidOut: payout.paidOut.amount, credited: credited.amount };
  if (payout.paidOut.currency !== credited.currency)
    return [
      {
        code: 'CURRENCY_MISMATCH',
        explanation: `Payout ${payout.payoutId} of ${payout.provider} was sent in ${payout.paidOut.currency}; the bank credited ${credited.currency}.`,
        detail: { ...base, payoutCurrency: payout.paidOut.currency, bankCurrency: credited.currency },
        evidence,
      },
    ];
  const paidOut = BigInt(payout.paidOut.amount);
  const amount = BigInt(credited.amount);
  const k = exponentGap(amount, paidOut);
  if (k !== undefined)
    return [
      {
        code: 'UNIT_EXPONENT_MISMATCH',
        explanation: `The bank's ${shown(amount, credited.currency)} and payout ${payout.payoutId}'s ${shown(paidOut, credited.currency)} differ by exactly a factor 10^${k}.`,
        detail: { ...base, currency: credited.currency, exponent: String(k) },
        evidence,
      },
    ];
  const difference = amount - paidOut;
  if ((difference < 0n ? -difference : difference) > BigInt(rules.amountToleranceMinorUnits))
    return [
      {
        code: 'AMOUNT_MISMATCH',
        explanation: `The bank credited ${shown(amount, credited.currency)} for payout ${payout.payoutId} of ${payout.provider}, which paid out ${shown(paidOut, credited.currency)}.`,
        detail: { ...base, difference: difference.toString(), currency: credited.currency },
        evidence,
      },
    ];
  return [];
};

/** Payouts a credit can be matched to by amount (within the tolerance), currency and date window. */
export const fittingPayouts = (credit: BankCreditFacts, payouts: readonly ProviderPayoutFacts[], rules: ReconciliationRules): ProviderPayoutFacts[] => {
  const amount = BigInt(credit.credited.amount);
  const tolerance = BigInt(rules.amountToleranceMinorUnits);
  const creditTime = credit.date === undefined ? undefined : instantOf(credit.date);
  return payouts.filter((payout) => {
    if (payout.paidOut.currency !== credit.credited.currency) return false;
    const difference = BigInt(payout.paidOut.amount) - amount;
    if ((difference < 0n ? -difference : difference) > tolerance) return false;
    if (creditTime === undefined || payout.date === undefined) return false;
    return Math.abs(instantOf(payout.date) - creditTime) <= rules.dateWindowMs;
  });
};


/**
 * A payout no bank credit was matched to: missing once the bank has reported its account past the
 * day the payout should have arrived (its date plus the settlement grace period), awaiting before.
 * One that several credits waiting for a payout fit is ambiguous instead: none is chosen.
 */
export const classifyPayoutAtBank = (
  payout: ProviderPayoutFacts,
  matched: boolean,
  bankReportedUntil: string | undefined,
  rules: ReconciliationRules,
  ambiguousCredits: readonly BankCreditFacts[] = [],
): Finding[] => {
  if (!matched && ambiguousCredits.length > 1)
    return [
      {
        code: 'AMBIGUOUS_MATCH',
        explanation: `Payout ${payout.payoutId} of ${payout.provider} sent ${shown(payout.paidOut.amount, payout.paidOut.currency)}; ${ambiguousCredits.length} bank credits waiting under that amount fit it by currency and date, and none was chosen.`,
        detail: {
          payoutId: payout.payoutId,
          paidOut: payout.paidOut.amount,
          currency: payout.paidOut.currency,
          candidates: ambiguousCredits.map((credit) => credit.rowKey).join(','),
        },
        evidence: [payout.evidence, ...ambiguousCredits.map((credit) => credit.evidence)],
      },
    ];
  if (matched || payout.date === undefined || bankReportedUntil === undefined) return [];
  const due = instantOf(payout.date) + rules.settlementGraceMs;
  if (instantOf(bankReportedUntil) < due) return [];
  return [
    {
      code: 'INTERNAL_UNMATCHED',
      explanation: `Payout ${payout.payoutId} of ${payout.provider} sent ${shown(payout.paidOut.amount, payout.paidOut.currency)} on ${payout.date}; the bank has reported its account up to ${bankReportedUntil} with no such credit.`,
      detail: {
        payoutId: payout.payoutId,
        subclass: 'missing_at_bank',
        paidOut: payout.paidOut.amount,
        currency: payout.paidOut.currency,
        payoutDate: payout.date,
        bankReportedUntil,
      },
      evidence: [payout.evidence],
    },
  ];
};

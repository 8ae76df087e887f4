import { formatDecimalAmount, isCurrencyCode, type StatementInfo } from '@folio/shared';
import type { Evidence, Finding } from './discrepancies.js';
import type { PaymentFacts, PayoutFacts, RowFacts } from './reconciliationFacts.js';
import type { ReconciliationRules } from './reconciliationRules.js';

const CAPTURED_STATES = new Set(['PAID', 'SETTLED', 'REFUNDED']);

/** An amount for a person: "7.77 EUR" (details keep minor units). */
const shown = (minorUnits: string | bigint, currency: string): string =>
  isCurrencyCode(currency) ? `${formatDecimalAmount(BigInt(minorUnits), currency)} ${currency}` : `${minorUnits} minor units of ${currency}`;

/** `k` when `larger = smaller × 10^k` for some k ≥ 1, else undefined. */
export const exponentGap = (a: bigint, b: bigint): number | undefined => {
  const [small, large] = (a < 0n ? -a : a) < (b < 0n ? -b : b) ? [a, b] : [b, a];
  if (small === 0n || (small < 0n) !== (large < 0n)) return undefined;
  let scaled = small;
  for (let k = 1; k <= 18; k++) {
    scaled *= 10n;
    if (scaled === large) return k;
    if ((scaled < 0n ? -scaled : scaled) > (large < 0n ? -large : large)) return undefined;
  }
  return undefined;
};

/** Findings about a row on its own: how the provider delivered it, and whether it adds up. */
export const classifyRow = (row: RowFacts, rules: ReconciliationRules): Finding[] => {
  const findings: Finding[] = [];
  if (row.duplicates.length > 0)
    findings.push({
      code: 'DUPLICATE_PROVIDER_ROW',
      explanation: `Row ${row.rowKey} appears ${row.duplicates.length + 1} times in the provider's file.`,
      detail: { rowKey: row.rowKey, repeats: String(row.duplicates.length) },
      evidence: [row.evidence, ...row.duplicates],
    });
  if (row.restated !== undefined)
    findings.push({
      code: 'PROVIDER_ROW_RESTATED',
      explanation: `The provider changed row ${row.rowKey} after delivering it (${row.restated.changedFields.join(', ')}); the latest version counts.`,
      detail: {
        rowKey: row.rowKey,
        changedFields: row.restated.changedFields.join(','),
        ...(row.restated.previousGross === undefined ? {} : { previousGross: row.restated.previousGross.amount }),
        ...(row.gross === undefined ? {} : { gross: row.gross.amount }),
      },
      evidence: [row.restated.previous, row.evidence],
    });
  if (row.gross !== undefined && row.fee !== undefined && row.net !== undefined) {
    const sameCurrency = row.gross.currency === row.fee.currency && row.gross.currency === row.net.currency;
    if (sameCurrency && BigInt(row.gross.amount) - BigInt(row.fee.amount) !== BigInt(row.net.amount))
      findings.push({
        code: 'NET_INCONSISTENT',
        explanation: `Row ${row.rowKey}: gross ${shown(row.gross.amount, row.gross.currency)} − fee ${shown(row.fee.amount, row.fee.currency)} is not the net ${shown(row.net.amount, row.net.currency)}.`,
        detail: { rowKey: row.rowKey, gross: row.gross.amount, fee: row.fee.amount, net: row.net.amount, currency: row.gross.currency },
        evidence: [row.evidence],
      });
  }
  if (row.match === undefined && rules.chargeCategories.includes(row.category)) {
    if (row.ambiguousCandidates !== undefined && row.ambiguousCandidates.length > 1)
      findings.push({
        code: 'AMBIGUOUS_MATCH',
        explanation: `Row ${row.rowKey} fits ${row.ambiguousCandidates.length} payments by amount, currency and date; none was chosen.`,
        detail: { rowKey: row.rowKey, candidates: row.ambiguousCandidates.join(',') },
        evidence: [row.evidence],
      });
    else
      findings.push({
        code: 'PROVIDER_UNMATCHED',
        explanation: `The provider took ${row.gross === undefined ? 'money' : shown(row.gross.amount, row.gross.currency)} (row ${row.rowKey}) for no payment Folio knows.`,
        detail: { rowKey: row.rowKey, ...(row.gross === undefined ? {} : { gross: row.gross.amount, currency: row.gross.currency }) },
        evidence: [row.evidence],
      });
  }
  return findings;
};

/** Whether a row's category is money for a payment, which the ledger's payments are compared with. */
export const isPaymentMoney = (category: string, rules: ReconciliationRules): boolean =>
  rules.chargeCategories.includes(category) ||
  rules.refundCategories.includes(category) ||
  rules.reversalCategories.includes(category) ||
  rules.reversalReversalCategories.includes(category) ||
  rules.captureReversalCategories.includes(category);

/** Σ of the rows' amounts (gross, else net) in `currency`. */
const totalOf = (rows: readonly RowFacts[], currency: string): bigint => {
  let total = 0n;
  for (const row of rows) {
    const amount = row.gross ?? row.net;
    if (amount !== undefined && amount.currency === currency) total += BigInt(amount.amount);
  }
  return total;
};

/** Σ of the rows' amounts (gross, else net), when every one names one in `currency`: else what they amount to is not known. */
const knownTotalOf = (rows: readonly RowFacts[], currency: string): bigint | undefined => {
  let total = 0n;
  for (const row of rows) {
    const amount = row.gross ?? row.net;
    if (amount === undefined || amount.currency !== currency) return undefined;
    total += BigInt(amount.amount);
  }
  return total;
};

/**
 * The charge the payment explains among the charge rows matched to it: the first for what the
 * ledger captured (for a payment not captured, what it was created for), less what the provider
 * released of its capture; else the first matched. It alone is compared with the capture; the
 * others are what the provider charged twice.
 */
const chargeOfPayment = (payment: PaymentFacts, charges: readonly RowFacts[], released: bigint): RowFacts | undefined => {
  const expected = BigInt(payment.captured ?? payment.amount);
  const fits = (row: RowFacts) => row.gross !== undefined && row.gross.currency === payment.currency && BigInt(row.gross.amount) + released === expected;
  return charges.find(fits) ?? charges[0];
};

/** An amount of a finding's detail, with its currency, when it is known. */
const amountDetail = (field: string, amount: bigint | undefined, currency: string): Record<string, string> =>
  amount === undefined ? {} : { [field]: amount.toString(), currency };

/** Whether reversals still hold money that reversals of them did not give back (one of unknown amount holds it all). */
const stillReversed = (reversals: readonly RowFacts[], reversalReversals: readonly RowFacts[]): boolean =>
  reversals.some((row) => {
    const amount = row.gross ?? row.net;
    return amount === undefined || totalOf([...reversals, ...reversalReversals], amount.currency) < 0n;
  });

export interface PaymentClassification {
  findings: Finding[];
  /** The next log time at which the findings can change with no new event (a grace period ends). */
  nextDeadline?: string;
}

/**
 * Findings about a payment against the rows matched to it. Time-dependent findings compare with
 * `now`, the log's own time, so a rebuild finds what the live projection found.
 */
export const classifyPayment = (
  payment: PaymentFacts,
  rows: readonly RowFacts[],
  rules: ReconciliationRules,
  now: string,
): PaymentClassification => {
  const findings: Finding[] = [];
  const charges = rows.filter((row) => rules.chargeCategories.includes(row.category));
  const reversals = rows.filter((row) => rules.reversalCategories.includes(row.category));
  const reversalReversals = rows.filter((row) => rules.reversalReversalCategories.includes(row.category));
  const captureReversals = rows.filter((row) => rules.captureReversalCategories.includes(row.category));
  const ledger = payment.evidence;
  const nowMs = Date.parse(now);
  let nextDeadline: string | undefined;
  const charge = chargeOfPayment(payment, charges, totalOf(captureReversals, payment.currency));

  if (charges.length > 1)
    findings.push({
      code: 'DUPLICATE_CHARGE',
      explanation: `The provider charged payment ${payment.paymentId} ${charges.length} times under different rows.`,
      detail: {
        paymentId: payment.paymentId,
        charges: String(charges.length),
        ...amountDetail('duplicated', knownTotalOf(charges.filter((row) => row !== charge), payment.currency), payment.currency),
      },
      evidence: [...ledger, ...charges.map((row) => row.evidence)],
    });

  if ((payment.state === 'CREATED' || payment.state === 'PENDING') && payment.submittedAt !== undefined) {
    const due = Date.parse(payment.submittedAt) + rules.stalePendingMs;
    if (due <= nowMs)
      findings.push({
        code: 'STALE_PENDING',
        explanation: `Payment ${payment.paymentId} was submitted at ${payment.submittedAt} and has had no outcome since.`,
        detail: { paymentId: payment.paymentId, submittedAt: payment.submittedAt, providerRows: String(charges.length) },
        evidence: [...ledger, ...charges.map((row) => row.evidence)],
      });
    else nextDeadline = new Date(due).toISOString();
  }

  // What the provider captured is its charge's, less what it released; charges beyond it are the duplicate's.
  if (payment.state === 'FAILED' && charge !== undefined)
    findings.push({
      code: 'STATUS_SUPERSEDED',
      explanation: `Folio recorded payment ${payment.paymentId} as failed, but the provider captured it.`,
      detail: {
        paymentId: payment.paymentId,
        ledgerState: payment.state,
        providerOutcome: 'captured',
        ...amountDetail('gross', charge.gross === undefined ? undefined : knownTotalOf([charge, ...captureReversals], payment.currency), payment.currency),
      },
      evidence: [...ledger, ...charges.map((row) => row.evidence)],
    });
  // A reversal the provider reversed again (a dispute won) gave the money back: only what it still holds counts.
  if ((payment.state === 'PAID' || payment.state === 'SETTLED') && stillReversed(reversals, reversalReversals)) {
    const held = knownTotalOf([...reversals, ...reversalReversals], payment.currency);
    findings.push({
      code: 'STATUS_SUPERSEDED',
      explanation: `The provider took back payment ${payment.paymentId} (${reversals[0]!.category}) after Folio recorded it as ${payment.state.toLowerCase()}.`,
      detail: {
        paymentId: payment.paymentId,
        ledgerState: payment.state,
        providerOutcome: reversals[0]!.category,
        ...amountDetail('reversed', held === undefined ? undefined : -held, payment.currency),
      },
      evidence: [...ledger, ...reversals.map((row) => row.evidence), ...reversalReversals.map((row) => row.evidence)],
    });
  }

  if (CAPTURED_STATES.has(payment.state) && payment.captured !== undefined) {
    const ambiguousRows = payment.ambiguousRows ?? [];
    if (charge === undefined && ambiguousRows.length > 1)
      findings.push({
        code: 'AMBIGUOUS_MATCH',
        explanation: `Payment ${payment.paymentId} was captured for ${shown(payment.captured, payment.currency)}; ${ambiguousRows.length} provider rows waiting under that amount fit it, and none was chosen.`,
        detail: { paymentId: payment.paymentId, candidates: ambiguousRows.map((row) => row.rowKey).join(',') },
        evidence: [...ledger, ...ambiguousRows.map((row) => row.evidence)],
      });
    else if (charge === undefined) {
      const due = Date.parse(payment.capturedAt!) + rules.settlementGraceMs;
      if (due <= nowMs)
        findings.push({
          code: 'INTERNAL_UNMATCHED',
          explanation: `Payment ${payment.paymentId} was captured for ${shown(payment.captured, payment.currency)} at ${payment.capturedAt}; the provider has reported no such charge within the grace period.`,
          detail: { paymentId: payment.paymentId, subclass: 'missing', captured: payment.captured, currency: payment.currency, capturedAt: payment.capturedAt! },
          evidence: ledger,
        });
      else nextDeadline = new Date(due).toISOString();
    } else if (charge.gross !== undefined) {
      const evidence = [...ledger, charge.evidence, ...captureReversals.map((row) => row.evidence)];
      const captured = BigInt(payment.captured);
      // What the provider captured: the charge row's gross less what it released of it.
      const gross = BigInt(charge.gross.amount) + totalOf(captureReversals, charge.gross.currency);
      if (charge.gross.currency !== payment.currency)
        findings.push({
          code: 'CURRENCY_MISMATCH',
          explanation: `Payment ${payment.paymentId} is in ${payment.currency}; the provider charged ${charge.gross.currency}.`,
          detail: { paymentId: payment.paymentId, ledgerCurrency: payment.currency, providerCurrency: charge.gross.currency, captured: payment.captured, gross: charge.gross.amount },
          evidence,
        });
      else {
        const difference = gross - captured;
        const k = exponentGap(gross, captured);
        if (k !== undefined)
          findings.push({
            code: 'UNIT_EXPONENT_MISMATCH',
            explanation: `The provider's ${shown(gross, payment.currency)} and the ledger's ${shown(captured, payment.currency)} differ by exactly a factor 10^${k}.`,
            detail: { paymentId: payment.paymentId, captured: payment.captured, gross: gross.toString(), currency: payment.currency, exponent: String(k) },
            evidence,
          });
        else if ((difference < 0n ? -difference : difference) > BigInt(rules.amountToleranceMinorUnits))
          findings.push({
            code: 'AMOUNT_MISMATCH',
            explanation: `The provider charged ${shown(gross, payment.currency)} for payment ${payment.paymentId}; the ledger captured ${shown(captured, payment.currency)}.`,
            detail: { paymentId: payment.paymentId, captured: payment.captured, gross: gross.toString(), difference: difference.toString(), currency: payment.currency },
            evidence,
          });
        if (payment.fee !== undefined && charge.fee !== undefined && charge.fee.currency === payment.currency && BigInt(charge.fee.amount) !== BigInt(payment.fee))
          findings.push({
            code: 'FEE_MISMATCH',
            explanation: `The provider's fee for payment ${payment.paymentId} is ${shown(charge.fee.amount, payment.currency)}; the ledger booked ${shown(payment.fee, payment.currency)}.`,
            detail: { paymentId: payment.paymentId, ledgerFee: payment.fee, providerFee: charge.fee.amount, currency: payment.currency },
            evidence,
          });
      }
    }
  }
  return nextDeadline === undefined ? { findings } : { findings, nextDeadline };
};

/**
 * One-to-many: a payout pays out its lines, so the payout row's net (money leaving the balance,
 * negative) and the lines' nets must cancel out, per currency.
 */
export const classifyPayout = (payout: PayoutFacts): Finding[] => {
  const lines = Object.values(payout.lines);
  if (payout.payout === undefined || lines.length === 0) return [];
  const currency = payout.payout.net.currency;
  const linesTotal = lines.filter((line) => line.currency === currency).reduce((sum, line) => sum + BigInt(line.amount), 0n);
  const paidOut = -BigInt(payout.payout.net.amount);
  const otherCurrencies = lines.some((line) => line.currency !== currency);
  if (linesTotal === paidOut && !otherCurrencies) return [];
  return [
    {
      code: 'PAYOUT_LINES_MISMATCH',
      explanation: `Payout ${payout.payoutId} paid out ${shown(paidOut, currency)}, but its ${lines.length} lines add up to ${shown(linesTotal, currency)}${otherCurrencies ? ' (and some lines are in another currency)' : ''}.`,
      detail: {
        payoutId: payout.payoutId,
        paidOut: paidOut.toString(),
        linesTotal: linesTotal.toString(),
        difference: (paidOut - linesTotal).toString(),
        lines: String(lines.length),
        currency,
      },
      evidence: [payout.payout.evidence, ...payout.lineEvidence],
    },
  ];
};

const OPENING = new Set(['OPBD', 'PRCD', '60F', '60M']);
const CLOSING = new Set(['CLBD', '62F', '62M']);

/** The balance a statement starts from. */
export const openingBalanceOf = (statement: StatementInfo): StatementInfo['balances'][number] | undefined =>
  statement.balances.find((balance) => OPENING.has(balance.type));

/** A statement whose opening balance plus its entries is not its closing balance. */
export const classifyStatement = (statement: StatementInfo, evidence: Evidence): Finding[] => {
  const opening = openingBalanceOf(statement);
  const closing = statement.balances.find((balance) => CLOSING.has(balance.type));
  if (opening === undefined || closing === undefined || opening.currency !== closing.currency) return [];
  const totals = statement.rowTotals.find((total) => total.currency === opening.currency);
  const expected = opening.amount + (totals === undefined ? 0n : totals.credits - totals.debits);
  if (expected === closing.amount) return [];
  return [
    {
      code: 'STATEMENT_BALANCE_BREAK',
      explanation: `Statement ${statement.statementId}: opening ${shown(opening.amount, opening.currency)} + entries ${shown(expected - opening.amount, opening.currency)} = ${shown(expected, opening.currency)}, but the closing balance is ${shown(closing.amount, closing.currency)}.`,
      detail: {
        statementId: statement.statementId,
        opening: opening.amount.toString(),
        entries: (expected - opening.amount).toString(),
        closing: closing.amount.toString(),
        difference: (closing.amount - expected).toString(),
        currency: closing.currency,
      },
      evidence: [evidence],
    },
  ];
};

/** The numbers missing between the lowest and the highest seen. */
export const sequenceGaps = (seen: readonly bigint[]): bigint[] => {
  if (seen.length === 0) return [];
  const present = new Set(seen.map(String));
  const sorted = [...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const missing: bigint[] = [];
  // Capped: a gap that wide is a wrong sequence number, and a thousand findings already say so.
  for (let n = sorted[0]!; n <= sorted[sorted.length - 1]! && missing.length < 1000; n++) if (!present.has(String(n))) missing.push(n);
  return missing;
};

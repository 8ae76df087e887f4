import { formatDecimalAmount } from '@folio/shared';
import type { SandboxCharge } from './sandboxProvider.js';

/** Faults a report can carry, as real ones do; rates are probabilities from 0 to 1. */
export interface ReportFaults {
  /** A row is left out. */
  missingRowRate: number;
  /** A row appears twice. */
  duplicateRowRate: number;
  /** A row's gross (and net) is one minor unit off. */
  amountSkewRate: number;
  /** A row for a charge Folio never saw is added after each real one, at this rate. */
  unknownRowRate: number;
}

/**
 * Faults aimed at chosen charges (by Folio payment id), each giving reconciliation exactly one
 * thing to find, so a check can say which discrepancy each one must cause.
 */
export interface TargetedReportFaults {
  /** The charge row is left out. */
  missing: readonly string[];
  /** The charge row appears twice. */
  duplicated: readonly string[];
  /** Gross and net one minor unit more. */
  amountSkewed: readonly string[];
  /** Gross and net read with two decimals too few: a hundred times too much. */
  scaled: readonly string[];
  /** Reported in another currency (USD for EUR, EUR for anything else). */
  otherCurrency: readonly string[];
  /** Net five minor units more than gross − fee. */
  netBroken: readonly string[];
  /** Fee one minor unit more (and net one less). */
  feeSkewed: readonly string[];
  /** A second charge row, under its own balance transaction. */
  chargedTwice: readonly string[];
  /** The charge row carries no charge, intent or metadata: only amount and date can match it. */
  withoutReferences: readonly string[];
  /** A dispute row takes the charge back. */
  chargedBack: readonly string[];
  /** Charges that failed are reported as captured. */
  capturedDespiteFailure: readonly string[];
  /** Charges (minor units) for no charge Folio knows, in the first charge's currency. */
  ghostCharges: readonly bigint[];
  /** Minor units the payout row pays out beyond its lines. */
  payoutSkew: bigint;
}

const COLUMNS = [
  'automatic_payout_id',
  'automatic_payout_effective_at_utc',
  'balance_transaction_id',
  'created_utc',
  'available_on_utc',
  'currency',
  'gross',
  'fee',
  'net',
  'reporting_category',
  'source_id',
  'charge_id',
  'payment_intent_id',
  'payment_metadata[folio_payment_id]',
  'description',
] as const;

type Row = Record<(typeof COLUMNS)[number], string>;

const utc = (at: Date): string => at.toISOString().slice(0, 19).replace('T', ' ');

const csvField = (value: string): string => (/[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);

/**
 * The Stripe itemized balance report (the columns of `payout_reconciliation.itemized`) for the
 * sandbox's traffic: a `charge` row per captured charge, a `refund` row per refund, amounts in
 * major units, signed (money leaving the balance is negative), `net = gross − fee`. Settled
 * charges carry the payout that paid them out (the one they were paid out in, else this report's).
 * Folio's payment id travels as payment metadata, the join key Stripe carries back. Balance
 * transaction ids derive from the provider's references, so a later report repeats a row as it was.
 */
export const stripeSettlementReport = (
  charges: readonly SandboxCharge[],
  options: {
    payoutId: string;
    effectiveAt: Date;
    faults?: Partial<ReportFaults>;
    targeted?: Partial<TargetedReportFaults>;
    /** Add a payout row per payout: it pays out its lines as reported (each balance transaction once). */
    withPayoutRow?: boolean;
    random?: () => number;
  },
): string => {
  const faults: ReportFaults = {
    missingRowRate: 0,
    duplicateRowRate: 0,
    amountSkewRate: 0,
    unknownRowRate: 0,
    ...options.faults,
  };
  const random = options.random ?? Math.random;
  const chance = (rate: number) => rate > 0 && random() < rate;
  const rows: Row[] = [];
  let unknown = 0;

  const targeted = options.targeted ?? {};
  const aimedAt = (fault: Exclude<keyof TargetedReportFaults, 'ghostCharges' | 'payoutSkew'>, charge: SandboxCharge) =>
    targeted[fault]?.includes(charge.paymentId) ?? false;
  /** Net of each line of the payout as reported, by balance transaction. */
  const payoutLines = new Map<string, { payoutId: string; at: string; net: bigint; currency: string }>();

  const push = (row: Row, gross: bigint, fee: bigint, currency: SandboxCharge['currency'], aimed: { skew?: bigint; netSkew?: bigint } = {}) => {
    if (chance(faults.missingRowRate)) return;
    const skew = (chance(faults.amountSkewRate) ? 1n : 0n) + (aimed.skew ?? 0n);
    const net = gross + skew - fee + (aimed.netSkew ?? 0n);
    const complete: Row = {
      ...row,
      gross: formatDecimalAmount(gross + skew, currency),
      fee: formatDecimalAmount(fee, currency),
      net: formatDecimalAmount(net, currency),
    };
    rows.push(complete);
    if (row.automatic_payout_id !== '')
      payoutLines.set(row.balance_transaction_id, { payoutId: row.automatic_payout_id, at: row.automatic_payout_effective_at_utc, net, currency: row.currency });
    if (chance(faults.duplicateRowRate)) rows.push(complete);
  };

  for (const charge of charges) {
    if (charge.outcome !== 'captured' && !aimedAt('capturedDespiteFailure', charge)) continue;
    const payout =
      charge.settled === undefined
        ? { id: '', at: '' }
        : { id: charge.settled.payoutId ?? options.payoutId, at: utc(charge.settled.paidOutAt ?? options.effectiveAt) };
    const common = {
      automatic_payout_id: payout.id,
      automatic_payout_effective_at_utc: payout.at,
      available_on_utc: payout.at,
      currency: charge.currency.toLowerCase(),
      charge_id: charge.providerRef,
      payment_intent_id: charge.providerRef,
      'payment_metadata[folio_payment_id]': charge.paymentId,
      gross: '',
      fee: '',
      net: '',
    };
    const fee = (charge.settled?.fee ?? 0n) + (aimedAt('feeSkewed', charge) ? 1n : 0n);
    const chargeRow: Row = {
      ...common,
      ...(aimedAt('withoutReferences', charge) ? { charge_id: '', payment_intent_id: '', 'payment_metadata[folio_payment_id]': '' } : {}),
      ...(aimedAt('otherCurrency', charge) ? { currency: charge.currency === 'EUR' ? 'usd' : 'eur' } : {}),
      balance_transaction_id: `txn_${charge.providerRef}`,
      created_utc: utc(charge.createdAt),
      reporting_category: 'charge',
      source_id: aimedAt('withoutReferences', charge) ? `ch_${charge.paymentId}` : charge.providerRef,
      description: charge.description ?? '',
    };
    const gross = aimedAt('scaled', charge) ? charge.amount * 100n : charge.amount;
    const aimed = { skew: aimedAt('amountSkewed', charge) ? 1n : 0n, netSkew: aimedAt('netBroken', charge) ? 5n : 0n };
    if (!aimedAt('missing', charge)) {
      const before = rows.length;
      push(chargeRow, gross, fee, charge.currency, aimed);
      if (aimedAt('duplicated', charge) && rows.length > before) rows.push(rows[before]!);
    }
    if (aimedAt('chargedTwice', charge)) push({ ...chargeRow, balance_transaction_id: `txn_${charge.providerRef}_2` }, gross, fee, charge.currency, aimed);
    if (aimedAt('chargedBack', charge))
      push(
        { ...common, balance_transaction_id: `txn_du_${charge.paymentId}`, created_utc: utc(options.effectiveAt), reporting_category: 'dispute', source_id: `du_${charge.paymentId}`, description: 'Chargeback' },
        -charge.amount,
        0n,
        charge.currency,
      );
    for (const refund of charge.refunds) {
      push(
        {
          ...common,
          balance_transaction_id: `txn_${refund.providerRefundRef}`,
          created_utc: utc(refund.at),
          reporting_category: 'refund',
          source_id: refund.providerRefundRef,
          description: `Refund ${charge.description ?? charge.paymentId}`,
        },
        -refund.amount,
        0n,
        charge.currency,
      );
    }
    if (chance(faults.unknownRowRate)) {
      unknown += 1;
      push(
        {
          ...common,
          balance_transaction_id: `txn_unknown_${unknown}`,
          created_utc: utc(charge.createdAt),
          reporting_category: 'charge',
          source_id: `ch_unknown_${unknown}`,
          charge_id: `ch_unknown_${unknown}`,
          payment_intent_id: `pi_unknown_${unknown}`,
          'payment_metadata[folio_payment_id]': '',
          description: 'a charge Folio never saw',
        },
        charge.amount,
        0n,
        charge.currency,
      );
    }
  }
  const firstCharge = charges.find((charge) => charge.outcome === 'captured');
  for (const [index, amount] of (targeted.ghostCharges ?? []).entries()) {
    if (firstCharge === undefined) break;
    push(
      {
        ...Object.fromEntries(COLUMNS.map((column) => [column, ''])),
        balance_transaction_id: `txn_ghost_${index + 1}`,
        created_utc: utc(firstCharge.createdAt),
        currency: firstCharge.currency.toLowerCase(),
        reporting_category: 'charge',
        source_id: `ch_ghost_${index + 1}`,
        charge_id: `ch_ghost_${index + 1}`,
        payment_intent_id: `pi_ghost_${index + 1}`,
        description: 'a charge Folio never saw',
      } as Row,
      amount,
      0n,
      firstCharge.currency,
    );
  }
  const payoutIds = options.withPayoutRow === true ? new Set([...payoutLines.values()].map((line) => line.payoutId)) : new Set<string>();
  for (const payoutId of payoutIds) {
    const lines = [...payoutLines.values()].filter((line) => line.payoutId === payoutId);
    const { currency: lineCurrency, at } = lines[0]!;
    const currency = lineCurrency.toUpperCase() as SandboxCharge['currency'];
    const skew = payoutId === options.payoutId ? (targeted.payoutSkew ?? 0n) : 0n;
    const paidOut = lines.filter((line) => line.currency === lineCurrency).reduce((sum, line) => sum + line.net, 0n) + skew;
    const amount = formatDecimalAmount(-paidOut, currency);
    rows.push({
      ...(Object.fromEntries(COLUMNS.map((column) => [column, ''])) as Row),
      automatic_payout_id: payoutId,
      automatic_payout_effective_at_utc: at,
      balance_transaction_id: `txn_${payoutId}`,
      created_utc: at,
      available_on_utc: at,
      currency: lineCurrency,
      gross: amount,
      fee: formatDecimalAmount(0n, currency),
      net: amount,
      reporting_category: 'payout',
      source_id: payoutId,
      description: 'Payout to the bank account',
    });
  }
  return [COLUMNS.join(','), ...rows.map((row) => COLUMNS.map((column) => csvField(row[column])).join(','))].join('\n') + '\n';
};

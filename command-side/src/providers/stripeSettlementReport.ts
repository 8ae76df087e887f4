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
 * charges carry the payout that paid them out. Folio's payment id travels as payment metadata,
 * the join key Stripe carries back.
 */
export const stripeSettlementReport = (
  charges: readonly SandboxCharge[],
  options: { payoutId: string; effectiveAt: Date; faults?: Partial<ReportFaults>; random?: () => number },
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
  let serial = 0;
  const transactionId = () => `txn_sbx_${String(++serial).padStart(8, '0')}`;

  const push = (row: Row, gross: bigint, fee: bigint, currency: SandboxCharge['currency']) => {
    if (chance(faults.missingRowRate)) return;
    const skew = chance(faults.amountSkewRate) ? 1n : 0n;
    const complete: Row = {
      ...row,
      gross: formatDecimalAmount(gross + skew, currency),
      fee: formatDecimalAmount(fee, currency),
      net: formatDecimalAmount(gross + skew - fee, currency),
    };
    rows.push(complete);
    if (chance(faults.duplicateRowRate)) rows.push(complete);
  };

  for (const charge of charges) {
    if (charge.outcome !== 'captured') continue;
    const payout = charge.settled === undefined ? { id: '', at: '' } : { id: options.payoutId, at: utc(options.effectiveAt) };
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
    push(
      {
        ...common,
        balance_transaction_id: transactionId(),
        created_utc: utc(charge.createdAt),
        reporting_category: 'charge',
        source_id: charge.providerRef,
        description: charge.description ?? '',
      },
      charge.amount,
      charge.settled?.fee ?? 0n,
      charge.currency,
    );
    for (const refund of charge.refunds) {
      push(
        {
          ...common,
          balance_transaction_id: transactionId(),
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
      push(
        {
          ...common,
          balance_transaction_id: transactionId(),
          created_utc: utc(charge.createdAt),
          reporting_category: 'charge',
          source_id: `ch_unknown_${serial}`,
          charge_id: `ch_unknown_${serial}`,
          payment_intent_id: `pi_unknown_${serial}`,
          'payment_metadata[folio_payment_id]': '',
          description: 'a charge Folio never saw',
        },
        charge.amount,
        0n,
        charge.currency,
      );
    }
  }
  return [COLUMNS.join(','), ...rows.map((row) => COLUMNS.map((column) => csvField(row[column])).join(','))].join('\n') + '\n';
};

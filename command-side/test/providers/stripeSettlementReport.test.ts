import { expect } from 'chai';
import { parseDecimalAmount } from '@folio/shared';
import type { SandboxCharge } from '../../src/providers/sandboxProvider.js';
import { stripeSettlementReport } from '../../src/providers/stripeSettlementReport.js';

const at = new Date('2026-05-01T14:03:11.000Z');
const charge = (overrides: Partial<SandboxCharge>): SandboxCharge => ({
  paymentId: '7400000000000000000',
  providerRef: 'pi_1',
  amount: 10_000n,
  currency: 'USD',
  description: 'Order 1042',
  createdAt: at,
  outcome: 'captured',
  refunds: [],
  ...overrides,
});

const parse = (csv: string) => {
  const [header, ...lines] = csv.trimEnd().split('\n');
  const columns = header!.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((value, index) => [columns[index]!, value])));
};

describe('Stripe settlement report of the sandbox', () => {
  const charges = [
    charge({ settled: { fee: 320n, at }, refunds: [{ providerRefundRef: 're_1', amount: 2_500n, at }] }),
    charge({ paymentId: '7400000000000000004', providerRef: 'pi_2', amount: 1_050n, currency: 'JPY' }),
    charge({ paymentId: '7400000000000000008', providerRef: 'pi_3', outcome: 'failed' }),
  ];

  it('writes a charge row per captured charge and a refund row per refund, signed, in major units', () => {
    const rows = parse(stripeSettlementReport(charges, { payoutId: 'po_1', effectiveAt: at }));
    expect(rows.map((row) => [row.reporting_category, row.currency, row.gross, row.fee, row.net])).to.deep.equal([
      ['charge', 'usd', '100.00', '3.20', '96.80'],
      ['refund', 'usd', '-25.00', '0.00', '-25.00'],
      ['charge', 'jpy', '1050', '0', '1050'],
    ]);
    expect(rows[0]).to.include({
      automatic_payout_id: 'po_1',
      created_utc: '2026-05-01 14:03:11',
      charge_id: 'pi_1',
      'payment_metadata[folio_payment_id]': '7400000000000000000',
    });
    // Only settled charges belong to the payout.
    expect(rows[2]!.automatic_payout_id).to.equal('');
    for (const row of rows) {
      const amount = (text: string) => parseDecimalAmount(text, row.currency!.toUpperCase() as 'USD', { decimalSeparator: '.' });
      expect(amount(row.gross!) - amount(row.fee!)).to.equal(amount(row.net!));
    }
  });

  it('injects the faults asked for: missing, duplicated, skewed and unknown rows', () => {
    expect(
      parse(stripeSettlementReport(charges, { payoutId: 'po_1', effectiveAt: at, faults: { missingRowRate: 1 } })),
    ).to.deep.equal([]);
    expect(
      parse(stripeSettlementReport(charges, { payoutId: 'po_1', effectiveAt: at, faults: { duplicateRowRate: 1 } })),
    ).to.have.length(6);
    const skewed = parse(stripeSettlementReport(charges, { payoutId: 'po_1', effectiveAt: at, faults: { amountSkewRate: 1 } }));
    expect(skewed[0]).to.include({ gross: '100.01', net: '96.81' });
    const unknown = parse(stripeSettlementReport(charges, { payoutId: 'po_1', effectiveAt: at, faults: { unknownRowRate: 1 } }));
    expect(unknown.filter((row) => row['payment_metadata[folio_payment_id]'] === '')).to.have.length(2);
  });

  it('aims faults at chosen charges, each changing only what it names', () => {
    const first = charges[0]!.paymentId;
    const report = (targeted: Parameters<typeof stripeSettlementReport>[1]['targeted']) =>
      parse(stripeSettlementReport(charges, { payoutId: 'po_1', effectiveAt: at, targeted }))[0]!;
    expect(report({ amountSkewed: [first] })).to.include({ gross: '100.01', fee: '3.20', net: '96.81' });
    expect(report({ scaled: [first] })).to.include({ gross: '10000.00', net: '9996.80' });
    expect(report({ otherCurrency: [first] })).to.include({ currency: 'eur' });
    expect(report({ netBroken: [first] })).to.include({ gross: '100.00', fee: '3.20', net: '96.85' });
    expect(report({ feeSkewed: [first] })).to.include({ fee: '3.21', net: '96.79' });
    expect(report({ withoutReferences: [first] })).to.include({ charge_id: '', payment_intent_id: '', 'payment_metadata[folio_payment_id]': '' });
    expect(report({ missing: [first] }).reporting_category).to.equal('refund');
    const all = (targeted: Parameters<typeof stripeSettlementReport>[1]['targeted']) =>
      parse(stripeSettlementReport(charges, { payoutId: 'po_1', effectiveAt: at, targeted }));
    expect(all({ duplicated: [first] }).map((row) => row.balance_transaction_id)).to.deep.equal(['txn_pi_1', 'txn_pi_1', 'txn_re_1', 'txn_pi_2']);
    expect(all({ chargedTwice: [first] }).map((row) => row.balance_transaction_id)).to.deep.equal(['txn_pi_1', 'txn_pi_1_2', 'txn_re_1', 'txn_pi_2']);
    expect(all({ chargedBack: [first] }).map((row) => [row.reporting_category, row.gross])).to.deep.include(['dispute', '-100.00']);
    expect(all({ capturedDespiteFailure: ['7400000000000000008'] }).map((row) => row.payment_intent_id)).to.deep.equal(['pi_1', 'pi_1', 'pi_2', 'pi_3']);
    expect(all({ ghostCharges: [777n] }).at(-1)).to.include({ balance_transaction_id: 'txn_ghost_1', gross: '7.77', 'payment_metadata[folio_payment_id]': '' });
  });

  it('adds a payout row paying out its lines as reported, each balance transaction once, skewed on request', () => {
    const rows = parse(stripeSettlementReport(charges, { payoutId: 'po_1', effectiveAt: at, withPayoutRow: true, targeted: { duplicated: ['7400000000000000000'] } }));
    expect(rows.at(-1)).to.include({ reporting_category: 'payout', automatic_payout_id: 'po_1', source_id: 'po_1', gross: '-71.80', net: '-71.80' });
    const skewed = parse(stripeSettlementReport(charges, { payoutId: 'po_1', effectiveAt: at, withPayoutRow: true, targeted: { payoutSkew: 5n } }));
    expect(skewed.at(-1)).to.include({ net: '-71.85' });
  });

  it('quotes a description that holds a comma or a quote', () => {
    const csv = stripeSettlementReport([charge({ description: 'Order "42", blue' })], { payoutId: 'po_1', effectiveAt: at });
    expect(csv).to.contain('"Order ""42"", blue"');
  });
});

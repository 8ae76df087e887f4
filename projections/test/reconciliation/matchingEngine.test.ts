import { expect } from 'chai';
import fc from 'fast-check';
import { classifyPayment, classifyPayout, classifyRow, exponentGap, sequenceGaps } from '../../src/reconciliation/classification.js';
import type { Evidence } from '../../src/reconciliation/discrepancies.js';
import type { PaymentFacts, RowFacts } from '../../src/reconciliation/reconciliationFacts.js';
import { defaultReconciliationRules as rules } from '../../src/reconciliation/reconciliationRules.js';
import { matchByRules, matchKeysOf } from '../../src/reconciliation/rowMatching.js';

const evidence: Evidence = { kind: 'ledger-event', stream: 'payment-1', position: '1', type: 'PaymentCaptured' };
const rowEvidence: Evidence = { kind: 'statement-row', stream: 'statementrow-x', position: '2', fileHash: 'f'.repeat(64), line: 2, versionHash: 'a'.repeat(64) };

const payment = (overrides: Partial<PaymentFacts> = {}): PaymentFacts => ({
  paymentId: '42',
  provider: 'sandbox',
  currency: 'EUR',
  amount: '1000',
  state: 'PAID',
  captured: '1000',
  capturedAt: '2026-06-01T00:00:00.000Z',
  submittedAt: '2026-06-01T00:00:00.000Z',
  refunded: '0',
  evidence: [evidence],
  ...overrides,
});

const row = (overrides: Partial<RowFacts> = {}): RowFacts => ({
  stream: 'statementrow-x',
  provider: 'sandbox',
  rowKey: 'txn_1',
  category: 'charge',
  gross: { amount: '1000', currency: 'EUR' },
  fee: { amount: '0', currency: 'EUR' },
  net: { amount: '1000', currency: 'EUR' },
  references: [],
  evidence: rowEvidence,
  duplicates: [],
  match: { paymentId: '42', by: 'reference' },
  ...overrides,
});

const codes = (findings: { code: string }[]) => findings.map((finding) => finding.code);
const NOW = '2026-06-01T01:00:00.000Z';

describe('reconciliation matching engine', () => {
  it('finds nothing when the provider row agrees with the payment', () => {
    expect(classifyPayment(payment(), [row()], rules, NOW).findings).to.deep.equal([]);
    expect(classifyRow(row(), rules)).to.deep.equal([]);
  });

  it('tells an amount off by a power of ten from any other difference', () => {
    expect(codes(classifyPayment(payment(), [row({ gross: { amount: '100000', currency: 'EUR' } })], rules, NOW).findings)).to.deep.equal(['UNIT_EXPONENT_MISMATCH']);
    expect(codes(classifyPayment(payment(), [row({ gross: { amount: '10', currency: 'EUR' } })], rules, NOW).findings)).to.deep.equal(['UNIT_EXPONENT_MISMATCH']);
    expect(codes(classifyPayment(payment(), [row({ gross: { amount: '1001', currency: 'EUR' } })], rules, NOW).findings)).to.deep.equal(['AMOUNT_MISMATCH']);
    expect(classifyPayment(payment(), [row({ gross: { amount: '1001', currency: 'EUR' } })], { ...rules, amountToleranceMinorUnits: 1 }, NOW).findings).to.deep.equal([]);
    expect(codes(classifyPayment(payment(), [row({ gross: { amount: '1000', currency: 'USD' } })], rules, NOW).findings)).to.deep.equal(['CURRENCY_MISMATCH']);
  });

  it('exponentGap is k exactly when one amount is the other times 10^k', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 12n }), fc.integer({ min: 1, max: 6 }), (amount, k) => {
        expect(exponentGap(amount, amount * 10n ** BigInt(k))).to.equal(k);
        expect(exponentGap(amount * 10n ** BigInt(k) + 1n, amount)).to.equal(undefined);
      }),
    );
    expect(exponentGap(5n, 5n)).to.equal(undefined);
    expect(exponentGap(-5n, 50n)).to.equal(undefined);
  });

  it('reports a missing provider row only after the grace period, and says when to look again', () => {
    const within = classifyPayment(payment(), [], rules, NOW);
    expect(within.findings).to.deep.equal([]);
    expect(within.nextDeadline).to.equal('2026-06-04T00:00:00.000Z');
    const after = classifyPayment(payment(), [], rules, '2026-06-04T00:00:00.000Z');
    expect(codes(after.findings)).to.deep.equal(['INTERNAL_UNMATCHED']);
    expect(after.findings[0]!.detail.subclass).to.equal('missing');
  });

  it('reports a payment pending past its limit, a failure the provider contradicts and a chargeback after settlement', () => {
    expect(codes(classifyPayment(payment({ state: 'PENDING' }), [], rules, '2026-06-03T00:00:00.000Z').findings)).to.deep.equal(['STALE_PENDING']);
    expect(codes(classifyPayment(payment({ state: 'FAILED' }), [row()], rules, NOW).findings)).to.deep.equal(['STATUS_SUPERSEDED']);
    const dispute = row({ rowKey: 'txn_2', category: 'dispute', gross: { amount: '-1000', currency: 'EUR' }, net: { amount: '-1000', currency: 'EUR' } });
    expect(codes(classifyPayment(payment({ state: 'SETTLED' }), [row(), dispute], rules, NOW).findings)).to.deep.equal(['STATUS_SUPERSEDED']);
  });

  it('counts a reversal the provider reversed again, and a partial capture, at what the provider holds', () => {
    const signed = (rowKey: string, category: string, amount: string) =>
      row({ rowKey, category, gross: { amount, currency: 'EUR' }, fee: { amount: '0', currency: 'EUR' }, net: { amount, currency: 'EUR' } });
    const settled = payment({ state: 'SETTLED' });
    const dispute = signed('txn_du', 'dispute', '-1000');
    expect(classifyPayment(settled, [row(), dispute, signed('txn_dr', 'dispute_reversal', '1000')], rules, NOW).findings).to.deep.equal([]);
    expect(codes(classifyPayment(settled, [row(), dispute, signed('txn_dr', 'dispute_reversal', '400')], rules, NOW).findings)).to.deep.equal(['STATUS_SUPERSEDED']);
    const adyen = [signed('cb', 'Chargeback', '-1000'), signed('cbr', 'ChargebackReversed', '1000')];
    expect(classifyPayment(settled, [row({ category: 'Settled' }), ...adyen], rules, NOW).findings).to.deep.equal([]);
    expect(codes(classifyPayment(settled, [row({ category: 'Settled' }), ...adyen, signed('cb2', 'SecondChargeback', '-1000')], rules, NOW).findings)).to.deep.equal(['STATUS_SUPERSEDED']);

    const partial = payment({ captured: '700' });
    const authorised = row({ net: { amount: '1000', currency: 'EUR' } });
    expect(classifyPayment(partial, [authorised, signed('txn_pcr', 'partial_capture_reversal', '-300')], rules, NOW).findings).to.deep.equal([]);
    const short = classifyPayment(partial, [authorised, signed('txn_pcr', 'partial_capture_reversal', '-200')], rules, NOW).findings;
    expect(codes(short)).to.deep.equal(['AMOUNT_MISMATCH']);
    expect(short[0]!.detail).to.include({ captured: '700', gross: '800', difference: '100' });
    expect(short[0]!.evidence).to.have.length(3);
  });

  it('names what a failure the provider contradicts and a chargeback after settlement put at issue', () => {
    const signed = (rowKey: string, category: string, amount: string) =>
      row({ rowKey, category, gross: { amount, currency: 'EUR' }, fee: { amount: '0', currency: 'EUR' }, net: { amount, currency: 'EUR' } });
    const [failed] = classifyPayment(payment({ state: 'FAILED', captured: undefined }), [row()], rules, NOW).findings;
    expect(failed!.detail).to.deep.equal({ paymentId: '42', ledgerState: 'FAILED', providerOutcome: 'captured', gross: '1000', currency: 'EUR' });
    const partly = classifyPayment(payment({ state: 'FAILED', captured: undefined }), [row(), signed('txn_pcr', 'partial_capture_reversal', '-300')], rules, NOW);
    expect(partly.findings[0]!.detail, 'less what the provider released of its capture').to.include({ gross: '700' });

    const settled = payment({ state: 'SETTLED' });
    const [chargedBack] = classifyPayment(settled, [row(), signed('txn_du', 'dispute', '-1000')], rules, NOW).findings;
    expect(chargedBack!.detail).to.deep.equal({ paymentId: '42', ledgerState: 'SETTLED', providerOutcome: 'dispute', reversed: '1000', currency: 'EUR' });
    const partlyWon = classifyPayment(settled, [row(), signed('txn_du', 'dispute', '-1000'), signed('txn_dr', 'dispute_reversal', '400')], rules, NOW);
    expect(partlyWon.findings[0]!.detail, 'net of what the provider gave back').to.include({ reversed: '600' });
    const unknown = classifyPayment(settled, [row(), row({ rowKey: 'txn_du', category: 'dispute', gross: undefined, net: undefined })], rules, NOW);
    expect(unknown.findings[0]!.detail, 'a reversal without amounts names none').to.not.have.property('reversed');
  });

  it('puts at issue the charges beyond the one for what the ledger captured, and compares only that one with the capture', () => {
    const charged = (rowKey: string, amount: string) => row({ rowKey, gross: { amount, currency: 'EUR' }, net: { amount, currency: 'EUR' } });
    const twice = classifyPayment(payment(), [charged('txn_1', '1000'), charged('txn_2', '1000'), charged('txn_3', '1000')], rules, NOW).findings;
    expect(twice.map((finding) => finding.detail)).to.deep.equal([{ paymentId: '42', charges: '3', duplicated: '2000', currency: 'EUR' }]);
    // The first row is not the payment's charge: the one for the captured 10.00 is.
    const otherFirst = classifyPayment(payment(), [charged('txn_1', '1200'), charged('txn_2', '1000')], rules, NOW).findings;
    expect(codes(otherFirst)).to.deep.equal(['DUPLICATE_CHARGE']);
    expect(otherFirst[0]!.detail).to.include({ duplicated: '1200' });
    // None is for the capture: the first is the payment's, compared with the capture; the others are duplicates.
    const noneFits = classifyPayment(payment(), [charged('txn_1', '1100'), charged('txn_2', '1200')], rules, NOW).findings;
    expect(noneFits.map((finding) => [finding.code, finding.detail.duplicated ?? finding.detail.difference])).to.deep.equal([
      ['DUPLICATE_CHARGE', '1200'],
      ['AMOUNT_MISMATCH', '100'],
    ]);
    // Not captured: the one for what the payment was created for.
    const failedTwice = classifyPayment(payment({ state: 'FAILED', captured: undefined }), [charged('txn_1', '900'), charged('txn_2', '1000')], rules, NOW).findings;
    expect(failedTwice.map((finding) => [finding.code, finding.detail.duplicated ?? finding.detail.gross])).to.deep.equal([
      ['DUPLICATE_CHARGE', '900'],
      ['STATUS_SUPERSEDED', '1000'],
    ]);
    const withoutAmounts = classifyPayment(payment(), [row(), row({ rowKey: 'txn_2', gross: undefined, net: undefined })], rules, NOW).findings;
    expect(withoutAmounts[0]!.detail, 'a duplicate without amounts names none').to.deep.equal({ paymentId: '42', charges: '2' });
  });

  it('reports two charge rows for one payment, a fee the ledger did not book, and a row that does not add up', () => {
    expect(codes(classifyPayment(payment(), [row(), row({ rowKey: 'txn_2' })], rules, NOW).findings)).to.deep.equal(['DUPLICATE_CHARGE']);
    const fee = row({ fee: { amount: '35', currency: 'EUR' }, net: { amount: '965', currency: 'EUR' } });
    expect(codes(classifyPayment(payment({ state: 'SETTLED', fee: '30' }), [fee], rules, NOW).findings)).to.deep.equal(['FEE_MISMATCH']);
    expect(codes(classifyRow(row({ net: { amount: '999', currency: 'EUR' } }), rules))).to.deep.equal(['NET_INCONSISTENT']);
  });

  it('matches by payment id and references first, then by rules within the row\'s provider, and never guesses between candidates', () => {
    const references = [
      { kind: 'charge', value: 'ch_1' },
      { kind: 'payment_intent', value: 'pi_1' },
      { kind: 'payment_metadata:folio_payment_id', value: '42' },
    ];
    expect(matchKeysOf({ references }, rules)).to.deep.equal([
      { by: 'payment_id', value: '42' },
      { by: 'reference', value: 'pi_1' },
      { by: 'reference', value: 'ch_1' },
    ]);
    const candidate = (paymentId: string, capturedAt = '2026-06-01T00:00:00.000Z', provider = 'sandbox') => ({ paymentId, provider, amount: '1000', currency: 'EUR', capturedAt });
    const unmatched = { provider: 'sandbox', gross: { amount: '1000', currency: 'EUR' }, date: '2026-06-02' };
    expect(matchByRules(unmatched, [candidate('1')], rules)).to.deep.equal({ kind: 'one', paymentId: '1' });
    expect(matchByRules(unmatched, [candidate('2'), candidate('1')], rules)).to.deep.equal({ kind: 'ambiguous', paymentIds: ['1', '2'] });
    expect(matchByRules(unmatched, [candidate('1', '2026-05-01T00:00:00.000Z')], rules)).to.deep.equal({ kind: 'none' });
    expect(matchByRules({ ...unmatched, gross: { amount: '1000', currency: 'USD' } }, [candidate('1')], rules)).to.deep.equal({ kind: 'none' });
    expect(matchByRules(unmatched, [candidate('1', undefined, 'stripe')], rules)).to.deep.equal({ kind: 'none' });
    expect(matchByRules(unmatched, [candidate('2', undefined, 'stripe'), candidate('1')], rules)).to.deep.equal({ kind: 'one', paymentId: '1' });
  });

  it('checks a payout against the lines it pays out', () => {
    const payout = (net: string, lines: Record<string, { amount: string; currency: string }>) =>
      classifyPayout({ provider: 'stripe', payoutId: 'po_1', lines, lineEvidence: [rowEvidence], payout: { net: { amount: net, currency: 'EUR' }, evidence: rowEvidence } });
    const lines = { a: { amount: '970', currency: 'EUR' }, b: { amount: '-100', currency: 'EUR' } };
    expect(payout('-870', lines)).to.deep.equal([]);
    expect(codes(payout('-880', lines))).to.deep.equal(['PAYOUT_LINES_MISMATCH']);
    expect(payout('-880', lines)[0]!.detail).to.include({ paidOut: '880', linesTotal: '870', difference: '10' });
    expect(codes(payout('-870', { ...lines, c: { amount: '0', currency: 'USD' } }))).to.deep.equal(['PAYOUT_LINES_MISMATCH']);
    expect(classifyPayout({ provider: 'stripe', payoutId: 'po_1', lines, lineEvidence: [] })).to.deep.equal([]);
  });

  it('finds every missing number of a statement sequence', () => {
    expect(sequenceGaps([1n, 4n, 2n])).to.deep.equal([3n]);
    expect(sequenceGaps([7n])).to.deep.equal([]);
  });

  it('reports a repeated and a restated row with both versions as evidence', () => {
    expect(codes(classifyRow(row({ duplicates: [rowEvidence] }), rules))).to.deep.equal(['DUPLICATE_PROVIDER_ROW']);
    const restated = classifyRow(row({ restated: { changedFields: ['gross'], previous: rowEvidence, previousGross: { amount: '999', currency: 'EUR' } } }), rules);
    expect(codes(restated)).to.deep.equal(['PROVIDER_ROW_RESTATED']);
    expect(restated[0]!.evidence).to.have.length(2);
    const { match: _, ...unmatched } = row();
    expect(codes(classifyRow(unmatched, rules))).to.deep.equal(['PROVIDER_UNMATCHED']);
    expect(codes(classifyRow({ ...unmatched, ambiguousCandidates: ['1', '2'] }, rules))).to.deep.equal(['AMBIGUOUS_MATCH']);
  });
});

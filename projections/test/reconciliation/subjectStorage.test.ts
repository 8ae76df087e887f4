import { expect } from 'chai';
import fc from 'fast-check';
import type { Document } from '@folio/shared';
import type { Evidence } from '../../src/reconciliation/discrepancies.js';
import type { Contribution, PaymentSubject, RowSubject, Subject } from '../../src/reconciliation/reconciliationDocuments.js';
import type { MoneyFact, PaymentFacts, RowFacts } from '../../src/reconciliation/reconciliationFacts.js';
import { subjectCodec } from '../../src/reconciliation/subjectStorage.js';

/** What the store gives back: the encoded document through JSON. */
const stored = (subject: Subject): Document => JSON.parse(JSON.stringify(subjectCodec.encode(subject as unknown as Document))) as Document;
const roundTrip = (subject: Subject): unknown => subjectCodec.decode(stored(subject));

/** An object without the keys whose value is undefined, as the handlers build facts. */
const defined = <T extends object>(value: T): T => Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;

const digits = fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }).map(String);
const position = fc.bigInt({ min: 0n, max: 10n ** 15n }).map(String);
const word = fc.stringMatching(/^[A-Za-z0-9_:.-]{1,16}$/);
const instant = fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((date) => date.toISOString());
const hash = fc.stringMatching(/^[0-9a-f]{64}$/);
const money: fc.Arbitrary<MoneyFact> = fc.record({ amount: digits, currency: fc.constantFrom('EUR', 'JPY', 'BHD', 'XTS') });
const findings = fc.dictionary(fc.stringMatching(/^[0-9a-f]{32}$/), fc.constantFrom('AMOUNT_MISMATCH' as const, 'STALE_PENDING' as const), { maxKeys: 2 });

const paymentSubject: fc.Arbitrary<PaymentSubject> = fc
  .record({
    paymentId: fc.stringMatching(/^[0-9]{1,19}$/),
    provider: word,
    currency: fc.constantFrom('EUR', 'USD'),
    amount: digits,
    state: fc.constantFrom('CREATED' as const, 'PENDING' as const, 'PAID' as const, 'SETTLED' as const, 'FAILED' as const, 'REFUNDED' as const),
    providerRef: fc.option(word, { nil: undefined }),
    submittedAt: fc.option(instant, { nil: undefined }),
    captured: fc.option(digits, { nil: undefined }),
    capturedAt: fc.option(instant, { nil: undefined }),
    fee: fc.option(digits, { nil: undefined }),
    refunded: fc.oneof(fc.constant('0'), digits),
    ledger: fc.array(fc.record({ position, type: fc.constantFrom('PaymentCreated', 'PaymentCaptured'), elsewhere: fc.option(word, { nil: undefined }) }), { minLength: 1, maxLength: 4 }),
    at: position,
    findings,
    rows: fc.array(word.map((key) => `row:statementrow-${key}`), { maxLength: 2 }),
    ambiguousFor: fc.option(fc.array(word.map((key) => `row:statementrow-${key}`), { minLength: 1, maxLength: 3 }), { nil: undefined }),
    counted: fc.option(fc.tuple(fc.nat(1), fc.nat(1), fc.nat(1), digits), { nil: undefined }),
    ambiguousRows: fc.option(
      fc.array(fc.record({ key: word, position, fileHash: hash, line: fc.integer({ min: 1, max: 10 ** 6 }), versionHash: hash }), { minLength: 2, maxLength: 3 }),
      { nil: undefined },
    ),
  })
  .map(({ ledger, at, findings, rows, counted, ambiguousRows, ambiguousFor, ...fields }) => {
    const evidence: Evidence[] = ledger.map(({ position, type, elsewhere }) => ({
      kind: 'ledger-event',
      stream: elsewhere === undefined ? `payment-${fields.paymentId}` : `elsewhere-${elsewhere}`,
      position,
      type,
    }));
    const facts = defined<PaymentFacts>({
      ...fields,
      evidence,
      ambiguousRows: ambiguousRows?.map(({ key, ...version }) => ({
        rowKey: key,
        evidence: { kind: 'statement-row', stream: `statementrow-${key}`, ...version },
      })),
    });
    const subject: PaymentSubject = { _id: `payment:${fields.paymentId}`, kind: 'payment', sortableLastPosition: at.padStart(20, '0'), findings, rows, facts };
    if (ambiguousFor !== undefined) subject.ambiguousFor = ambiguousFor;
    if (counted !== undefined) {
      const [payments, matched, awaitingSettlement, ledgerTotal] = counted;
      subject.contribution = {
        key: `${fields.provider}:${fields.currency}`,
        provider: fields.provider,
        currency: fields.currency,
        payments,
        matched,
        awaitingSettlement,
        ledger: ledgerTotal,
        rows: 0,
        statement: '0',
      };
    }
    return subject;
  });

const rowSubject: fc.Arbitrary<RowSubject> = fc
  .record({
    key: word,
    provider: word,
    account: fc.option(word, { nil: undefined }),
    rowKey: word,
    category: fc.constantFrom('charge', 'refund', 'payout'),
    gross: fc.option(money, { nil: undefined }),
    fee: fc.option(money, { nil: undefined }),
    net: fc.option(money, { nil: undefined }),
    payoutId: fc.option(word, { nil: undefined }),
    date: fc.option(instant, { nil: undefined }),
    references: fc.array(fc.record({ kind: word, value: word }), { maxLength: 3 }),
    versions: fc.array(fc.record({ position, fileHash: hash, line: fc.integer({ min: 1, max: 10 ** 6 }), versionHash: hash }), { minLength: 3, maxLength: 5 }),
    duplicates: fc.nat(2),
    restated: fc.option(fc.record({ changedFields: fc.array(word, { maxLength: 2 }), previousGross: fc.option(money, { nil: undefined }), previousFee: fc.option(money, { nil: undefined }) }), { nil: undefined }),
    match: fc.option(fc.record({ paymentId: word, by: fc.constantFrom('reference' as const, 'payment_id' as const, 'rule' as const) }), { nil: undefined }),
    ambiguousCandidates: fc.option(fc.array(word, { minLength: 2, maxLength: 3 }), { nil: undefined }),
    at: position,
    findings,
    counted: fc.option(fc.tuple(fc.constantFrom('EUR', 'USD'), digits), { nil: undefined }),
    ambiguousFor: fc.option(fc.array(fc.stringMatching(/^[0-9]{1,19}$/), { minLength: 1, maxLength: 3 }), { nil: undefined }),
  })
  .map(({ key, versions, duplicates, restated, at, findings, counted, ambiguousFor, ...fields }) => {
    const stream = `statementrow-${key}`;
    const [current, previous, ...others] = versions.map((version): Evidence => ({ kind: 'statement-row', stream, ...version }));
    const facts = defined<RowFacts>({
      stream,
      ...fields,
      evidence: current!,
      duplicates: others.slice(0, duplicates),
      restated: restated === undefined ? undefined : defined({ changedFields: restated.changedFields, previous: previous!, previousGross: restated.previousGross, previousFee: restated.previousFee }),
    });
    const subject: RowSubject = { _id: `row:${stream}`, kind: 'row', sortableLastPosition: at.padStart(20, '0'), findings, facts };
    if (ambiguousFor !== undefined) subject.ambiguousFor = ambiguousFor;
    if (counted !== undefined) {
      const contribution: Contribution = {
        key: `${fields.provider}:${counted[0]}`,
        provider: fields.provider,
        currency: counted[0],
        payments: 0,
        matched: 0,
        awaitingSettlement: 0,
        ledger: '0',
        rows: 1,
        statement: counted[1],
      };
      subject.contribution = contribution;
    }
    return subject;
  });

describe('reconciliation subject storage', () => {
  it('gives back every payment and row subject exactly as it was stored', () => {
    fc.assert(fc.property(fc.oneof(paymentSubject, rowSubject), (subject) => {
        const back = roundTrip(subject) as Subject;
        expect(back).to.deep.equal(subject);
        // Evidence goes into discrepancies as it is: its fields keep their order too.
        const evidenceOf = (of: Subject) => JSON.stringify(of.kind === 'payment' ? of.facts.evidence : of.kind === 'row' ? [of.facts.evidence, ...of.facts.duplicates, of.facts.restated] : []);
        expect(evidenceOf(back)).to.equal(evidenceOf(subject));
      }));
  });

  it('stores a captured and matched payment in about half its bytes', () => {
    const payment: PaymentSubject = {
      _id: 'payment:1002438656',
      kind: 'payment',
      sortableLastPosition: '00000000000000237179',
      findings: {},
      rows: ['row:statementrow-sandbox-497cb8f42ed9c84043ff4f6b4fa65735'],
      facts: {
        paymentId: '1002438656',
        provider: 'sandbox',
        currency: 'EUR',
        amount: '84822',
        state: 'PAID',
        refunded: '0',
        evidence: (['PaymentCreated', 'PaymentSubmitted', 'PaymentCaptured'] as const).map((type, n) => ({
          kind: 'ledger-event' as const,
          stream: 'payment-1002438656',
          position: String(236613 + n * 283),
          type,
        })),
        providerRef: 'pi_1002438656',
        submittedAt: '2026-11-26T08:06:03.044Z',
        captured: '84822',
        capturedAt: '2026-11-26T08:06:03.044Z',
      },
      contribution: { key: 'sandbox:EUR', provider: 'sandbox', currency: 'EUR', payments: 1, matched: 1, awaitingSettlement: 0, ledger: '84822', rows: 0, statement: '0' },
    };
    expect(JSON.stringify(stored(payment)).length).to.be.below(JSON.stringify(payment).length * 0.55);
    expect(roundTrip(payment)).to.deep.equal(payment);
  });

  it('stores subjects it cannot shorten as they are', () => {
    const statement: Subject = { _id: 'statement:sandbox:f:1', kind: 'statement', sortableLastPosition: '00000000000000000007', findings: {} };
    expect(roundTrip(statement)).to.deep.equal(statement);
    const foreign: RowSubject = {
      _id: 'row:statementrow-a',
      kind: 'row',
      sortableLastPosition: '00000000000000000009',
      findings: {},
      facts: {
        stream: 'statementrow-a',
        provider: 'sandbox',
        rowKey: 'a',
        category: 'charge',
        references: [],
        evidence: { kind: 'statement-row', stream: 'statementrow-b', position: '9', fileHash: 'f'.repeat(64), line: 1, versionHash: 'a'.repeat(64) },
        duplicates: [],
      },
    };
    expect(stored(foreign)).to.deep.equal(JSON.parse(JSON.stringify(foreign)));
    expect(roundTrip(foreign)).to.deep.equal(foreign);
  });
});

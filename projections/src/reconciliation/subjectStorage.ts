/**
 * How subjects are stored. A catch-up writes a payment and a row subject for every payment, so
 * their documents are kept small: evidence as positions (the stream and kind follow from the
 * subject), money as "amount currency", the share of the summaries as the few numbers that vary,
 * and empty parts left out. Other subjects are few and stored as they are.
 */
import type { Document } from '@folio/shared';
import type { DiscrepancyCode, Evidence } from './discrepancies.js';
import type { Contribution, PaymentSubject, RowSubject, Subject } from './reconciliationDocuments.js';
import type { MoneyFact, PaymentFacts, RowFacts } from './reconciliationFacts.js';

/** A ledger event of a payment: "position type", and " stream" when not the payment's own. */
type StoredLedgerEvidence = string;
/** A version of a row: position, file hash, line, version hash. */
type StoredRowEvidence = [string, string, number, string];
/** "amount currency". */
type StoredMoney = string;

interface StoredPayment {
  _id: string;
  kind: 'payment';
  at: string;
  findings?: Record<string, DiscrepancyCode>;
  rows?: string[];
  ambiguousFor?: string[];
  facts: {
    provider: string;
    currency: string;
    amount: string;
    state: PaymentFacts['state'];
    providerRef?: string;
    submittedAt?: string;
    captured?: string;
    capturedAt?: string;
    fee?: string;
    refunded?: string;
    ledger: StoredLedgerEvidence[];
    /** Row key, row stream, version. */
    ambiguousRows?: [string, string, StoredRowEvidence][];
  };
  /** Payments, matched, awaiting settlement, ledger total. */
  counted?: [number, number, number, string];
}

interface StoredRow {
  _id: string;
  kind: 'row';
  at: string;
  ambiguousFor?: string[];
  findings?: Record<string, DiscrepancyCode>;
  facts: {
    provider: string;
    account?: string;
    rowKey: string;
    category: string;
    gross?: StoredMoney;
    fee?: StoredMoney;
    net?: StoredMoney;
    payoutId?: string;
    date?: string;
    references: [string, string][];
    version: StoredRowEvidence;
    restated?: { changedFields: string[]; previousGross?: StoredMoney; previousFee?: StoredMoney; previous: StoredRowEvidence };
    duplicates?: StoredRowEvidence[];
    match?: NonNullable<RowFacts['match']>;
    ambiguousCandidates?: string[];
  };
  /** Currency and statement total. */
  counted?: [string, string];
}

const PAYMENT_PREFIX = 'payment:';
const ROW_PREFIX = 'row:';
const LEDGER_STREAM_PREFIX = 'payment-';

const isEmpty = (record: Record<string, unknown>): boolean => {
  for (const _ in record) return false;
  return true;
};

const moneyOut = (money: MoneyFact): StoredMoney => `${money.amount} ${money.currency}`;
const moneyIn = (stored: StoredMoney): MoneyFact => {
  const space = stored.indexOf(' ');
  return { amount: stored.slice(0, space), currency: stored.slice(space + 1) };
};

type LedgerEvidence = Extract<Evidence, { kind: 'ledger-event' }>;
type RowEvidence = Extract<Evidence, { kind: 'statement-row' }>;

const ledgerOut = (evidence: LedgerEvidence, ownStream: string): StoredLedgerEvidence =>
  evidence.stream === ownStream ? `${evidence.position} ${evidence.type}` : `${evidence.position} ${evidence.type} ${evidence.stream}`;
const ledgerIn = (stored: StoredLedgerEvidence, ownStream: string): Evidence => {
  const first = stored.indexOf(' ');
  const second = stored.indexOf(' ', first + 1);
  return {
    kind: 'ledger-event',
    stream: second === -1 ? ownStream : stored.slice(second + 1),
    position: stored.slice(0, first),
    type: second === -1 ? stored.slice(first + 1) : stored.slice(first + 1, second),
  };
};

const rowEvidenceOut = (evidence: Evidence): StoredRowEvidence => {
  const { position, fileHash, line, versionHash } = evidence as RowEvidence;
  return [position, fileHash, line, versionHash];
};
const rowEvidenceIn = ([position, fileHash, line, versionHash]: StoredRowEvidence, stream: string): Evidence => ({
  kind: 'statement-row',
  stream,
  position,
  fileHash,
  line,
  versionHash,
});

const encodePayment = (payment: PaymentSubject): StoredPayment => {
  const { facts } = payment;
  const ownStream = LEDGER_STREAM_PREFIX + facts.paymentId;
  const stored: StoredPayment = {
    _id: payment._id,
    kind: 'payment',
    at: payment.sortableLastPosition,
    facts: {
      provider: facts.provider,
      currency: facts.currency,
      amount: facts.amount,
      state: facts.state,
      ledger: facts.evidence.map((evidence) => ledgerOut(evidence as LedgerEvidence, ownStream)),
    },
  };
  if (!isEmpty(payment.findings)) stored.findings = payment.findings;
  if (payment.rows.length > 0) stored.rows = payment.rows;
  if (payment.ambiguousFor !== undefined) stored.ambiguousFor = payment.ambiguousFor;
  if (facts.providerRef !== undefined) stored.facts.providerRef = facts.providerRef;
  if (facts.submittedAt !== undefined) stored.facts.submittedAt = facts.submittedAt;
  if (facts.captured !== undefined) stored.facts.captured = facts.captured;
  if (facts.capturedAt !== undefined) stored.facts.capturedAt = facts.capturedAt;
  if (facts.fee !== undefined) stored.facts.fee = facts.fee;
  if (facts.refunded !== '0') stored.facts.refunded = facts.refunded;
  if (facts.ambiguousRows !== undefined) stored.facts.ambiguousRows = facts.ambiguousRows.map((row) => [row.rowKey, (row.evidence as RowEvidence).stream, rowEvidenceOut(row.evidence)]);
  const counted = payment.contribution;
  if (counted !== undefined) stored.counted = [counted.payments, counted.matched, counted.awaitingSettlement, counted.ledger];
  return stored;
};

const decodePayment = (stored: StoredPayment): PaymentSubject => {
  const paymentId = stored._id.slice(PAYMENT_PREFIX.length);
  const ownStream = LEDGER_STREAM_PREFIX + paymentId;
  const { facts } = stored;
  const decoded: PaymentFacts = {
    paymentId,
    provider: facts.provider,
    currency: facts.currency,
    amount: facts.amount,
    state: facts.state,
    refunded: facts.refunded ?? '0',
    evidence: facts.ledger.map((evidence) => ledgerIn(evidence, ownStream)),
  };
  if (facts.providerRef !== undefined) decoded.providerRef = facts.providerRef;
  if (facts.submittedAt !== undefined) decoded.submittedAt = facts.submittedAt;
  if (facts.captured !== undefined) decoded.captured = facts.captured;
  if (facts.capturedAt !== undefined) decoded.capturedAt = facts.capturedAt;
  if (facts.fee !== undefined) decoded.fee = facts.fee;
  if (facts.ambiguousRows !== undefined) decoded.ambiguousRows = facts.ambiguousRows.map(([rowKey, stream, evidence]) => ({ rowKey, evidence: rowEvidenceIn(evidence, stream) }));
  const payment: PaymentSubject = {
    _id: stored._id,
    kind: 'payment',
    sortableLastPosition: stored.at,
    findings: stored.findings ?? {},
    rows: stored.rows ?? [],
    facts: decoded,
  };
  if (stored.ambiguousFor !== undefined) payment.ambiguousFor = stored.ambiguousFor;
  if (stored.counted !== undefined) {
    const [payments, matched, awaitingSettlement, ledger] = stored.counted;
    payment.contribution = {
      key: `${facts.provider}:${facts.currency}`,
      provider: facts.provider,
      currency: facts.currency,
      payments,
      matched,
      awaitingSettlement,
      ledger,
      rows: 0,
      statement: '0',
    };
  }
  return payment;
};

const encodeRow = (row: RowSubject): StoredRow => {
  const { facts } = row;
  const stored: StoredRow = {
    _id: row._id,
    kind: 'row',
    at: row.sortableLastPosition,
    facts: {
      provider: facts.provider,
      rowKey: facts.rowKey,
      category: facts.category,
      references: facts.references.map((reference): [string, string] => [reference.kind, reference.value]),
      version: rowEvidenceOut(facts.evidence),
    },
  };
  if (!isEmpty(row.findings)) stored.findings = row.findings;
  if (row.ambiguousFor !== undefined) stored.ambiguousFor = row.ambiguousFor;
  if (facts.account !== undefined) stored.facts.account = facts.account;
  if (facts.gross !== undefined) stored.facts.gross = moneyOut(facts.gross);
  if (facts.fee !== undefined) stored.facts.fee = moneyOut(facts.fee);
  if (facts.net !== undefined) stored.facts.net = moneyOut(facts.net);
  if (facts.payoutId !== undefined) stored.facts.payoutId = facts.payoutId;
  if (facts.date !== undefined) stored.facts.date = facts.date;
  if (facts.restated !== undefined) {
    const { changedFields, previousGross, previousFee, previous } = facts.restated;
    stored.facts.restated = { changedFields, previous: rowEvidenceOut(previous) };
    if (previousGross !== undefined) stored.facts.restated.previousGross = moneyOut(previousGross);
    if (previousFee !== undefined) stored.facts.restated.previousFee = moneyOut(previousFee);
  }
  if (facts.duplicates.length > 0) stored.facts.duplicates = facts.duplicates.map(rowEvidenceOut);
  if (facts.match !== undefined) stored.facts.match = facts.match;
  if (facts.ambiguousCandidates !== undefined) stored.facts.ambiguousCandidates = facts.ambiguousCandidates;
  if (row.contribution !== undefined) stored.counted = [row.contribution.currency, row.contribution.statement];
  return stored;
};

const decodeRow = (stored: StoredRow): RowSubject => {
  const stream = stored._id.slice(ROW_PREFIX.length);
  const { facts } = stored;
  const decoded: RowFacts = {
    stream,
    provider: facts.provider,
    rowKey: facts.rowKey,
    category: facts.category,
    references: facts.references.map(([kind, value]) => ({ kind, value })),
    evidence: rowEvidenceIn(facts.version, stream),
    duplicates: (facts.duplicates ?? []).map((evidence) => rowEvidenceIn(evidence, stream)),
  };
  if (facts.account !== undefined) decoded.account = facts.account;
  if (facts.gross !== undefined) decoded.gross = moneyIn(facts.gross);
  if (facts.fee !== undefined) decoded.fee = moneyIn(facts.fee);
  if (facts.net !== undefined) decoded.net = moneyIn(facts.net);
  if (facts.date !== undefined) decoded.date = facts.date;
  if (facts.payoutId !== undefined) decoded.payoutId = facts.payoutId;
  if (facts.restated !== undefined) {
    const { changedFields, previousGross, previousFee, previous } = facts.restated;
    decoded.restated = { changedFields, previous: rowEvidenceIn(previous, stream) };
    if (previousGross !== undefined) decoded.restated.previousGross = moneyIn(previousGross);
    if (previousFee !== undefined) decoded.restated.previousFee = moneyIn(previousFee);
  }
  if (facts.match !== undefined) decoded.match = facts.match;
  if (facts.ambiguousCandidates !== undefined) decoded.ambiguousCandidates = facts.ambiguousCandidates;
  const row: RowSubject = { _id: stored._id, kind: 'row', sortableLastPosition: stored.at, findings: stored.findings ?? {}, facts: decoded };
  if (stored.ambiguousFor !== undefined) row.ambiguousFor = stored.ambiguousFor;
  if (stored.counted !== undefined) {
    const [currency, statement] = stored.counted;
    const contribution: Contribution = {
      key: `${facts.provider}:${currency}`,
      provider: facts.provider,
      currency,
      payments: 0,
      matched: 0,
      awaitingSettlement: 0,
      ledger: '0',
      rows: 1,
      statement,
    };
    row.contribution = contribution;
  }
  return row;
};

/**
 * Whether a subject can be stored compactly: its evidence is of its own streams, as the event
 * handlers make it. Anything else is stored as it is.
 */
const compactable = (subject: Subject): boolean => {
  const counted = subject.contribution;
  if (subject.kind === 'payment') {
    const { facts } = subject;
    return (
      subject._id === PAYMENT_PREFIX + facts.paymentId &&
      facts.evidence.every((evidence) => evidence.kind === 'ledger-event' && !evidence.type.includes(' ')) &&
      (counted === undefined ||
        (counted.provider === facts.provider && counted.currency === facts.currency && counted.rows === 0 && counted.statement === '0'))
    );
  }
  if (subject.kind !== 'row') return false;
  const { facts } = subject;
  const own = (evidence: Evidence) => evidence.kind === 'statement-row' && evidence.stream === facts.stream;
  return (
    subject._id === ROW_PREFIX + facts.stream &&
    (counted === undefined ||
      (counted.provider === facts.provider &&
        counted.payments === 0 &&
        counted.matched === 0 &&
        counted.awaitingSettlement === 0 &&
        counted.ledger === '0' &&
        counted.rows === 1)) &&
    own(facts.evidence) &&
    facts.duplicates.every(own) &&
    (facts.restated === undefined || own(facts.restated.previous))
  );
};

export const subjectCodec = {
  encode: (document: Document): Document => {
    const subject = document as unknown as Subject;
    if (!compactable(subject)) return document;
    return (subject.kind === 'payment' ? encodePayment(subject) : encodeRow(subject as RowSubject)) as unknown as Document;
  },
  decode: (stored: Document): Document => {
    // Compact subjects keep their position as `at`; subjects stored as they are, as `sortableLastPosition`.
    if (stored.at === undefined) return stored;
    const kind = stored.kind;
    return (kind === 'payment' ? decodePayment(stored as unknown as StoredPayment) : decodeRow(stored as unknown as StoredRow)) as unknown as Document;
  },
};

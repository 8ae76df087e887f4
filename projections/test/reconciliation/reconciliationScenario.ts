import { createHash } from 'node:crypto';
import { expect } from 'chai';
import {
  openSqliteDocumentStore,
  openSqliteEventStore,
  statementRowStream,
  type DocumentStore,
  type SqliteEventStore,
  type StatementFormat,
  type StatementRow,
} from '@folio/shared';
import { reconciliationProjection } from '../../src/reconciliation/reconciliationProjection.js';
import { liveCollections } from '../../src/runtime/projection.js';
import { createProjector } from '../../src/runtime/projector.js';
import { tempPath } from '../fixtures/ledgerFixture.js';
import {
  appendPayment,
  appendRowDuplicated,
  appendRowRecorded,
  appendRowRestated,
  appendStatementImported,
  chargeRow,
  paymentIdOf,
  statementEvent,
  type RowScript,
} from '@folio/shared/testing';

export const LOG_START = Date.UTC(2026, 5, 1);
const DAY = 24 * 3_600_000;

/** A log whose recorded time is a clock the test moves: one second per append. */
export const openScenarioLog = (): { log: SqliteEventStore; advance: (ms: number) => void } => {
  let now = LOG_START;
  const log = openSqliteEventStore({
    path: tempPath('folio-recon-', 'events.sqlite'),
    clock: () => new Date((now += 1000)),
  });
  return { log, advance: (ms) => (now += ms) };
};

/**
 * A scenario log and a fresh read-model store for each test of the suite that calls it (its own
 * `beforeEach` and `afterEach`); read them from the returned object inside the tests.
 */
export const useScenarioStores = (prefix: string): { log: SqliteEventStore; documents: DocumentStore } => {
  const stores = {} as { log: SqliteEventStore; documents: DocumentStore };
  beforeEach(() => {
    stores.log = openScenarioLog().log;
    stores.documents = openSqliteDocumentStore({ path: tempPath(prefix, 'readmodels.sqlite') });
  });
  afterEach(async () => {
    await stores.documents.close();
    await stores.log.close();
  });
  return stores;
};

/** Runs the reconciliation projection over the log until it has caught up, then stops it. */
export const catchUpReconciliation = async ({ log, documents }: { log: SqliteEventStore; documents: DocumentStore }): Promise<void> => {
  const projector = createProjector({
    eventStore: log,
    documents,
    definition: reconciliationProjection,
    collections: liveCollections(reconciliationProjection),
    checkpointId: 'reconciliation',
  });
  await projector.start();
  await projector.stop();
};

/**
 * Catches the projection up again at each batch size, into collections of its own: each must equal
 * the read model `catchUpReconciliation` built, whatever the batch boundaries fell on.
 */
export const expectSameAtBatchSizes = async ({ log, documents }: { log: SqliteEventStore; documents: DocumentStore }, sizes = [1, 20_000]): Promise<void> => {
  const live = liveCollections(reconciliationProjection);
  for (const size of sizes) {
    const collections = Object.fromEntries(Object.entries(live).map(([role, name]) => [role, `${name}_batch${size}`]));
    const projector = createProjector({
      eventStore: log,
      documents,
      definition: reconciliationProjection,
      collections,
      checkpointId: `reconciliation_batch${size}`,
      catchUpBatchSize: size,
      batchSize: size,
    });
    await projector.start();
    await projector.stop();
    for (const role of reconciliationProjection.roles) expect(await documents.checksum(collections[role]!), `${role} at batch size ${size}`).to.equal(await documents.checksum(live[role]!));
  }
};

const iso = (ms: number) => new Date(ms).toISOString();

const hashOf = (text: string) => createHash('sha256').update(text).digest('hex');

/** Records a row as the importer of `format` would, for providers and formats the fixtures' Stripe-like rows do not cover. */
export const appendFormatRow = (log: SqliteEventStore, provider: string, format: StatementFormat, rowKey: string, row: StatementRow) =>
  log.appendToStream(statementRowStream(provider, rowKey), [
    statementEvent(
      {
        type: 'StatementRowRecorded',
        data: {
          provider,
          format,
          fileHash: hashOf(`${provider}-${rowKey}`),
          rowKey,
          versionHash: hashOf(JSON.stringify(row, (_, value) => (typeof value === 'bigint' ? value.toString() : value))),
          row,
        },
      },
      iso(LOG_START),
    ),
  ]);

/**
 * One payment (or statement) per discrepancy class, plus clean ones, and what reconciliation
 * must find: `<code> <payment id | row key | statement>` for every open discrepancy.
 */
export const writeScenario = async (log: SqliteEventStore): Promise<string[]> => {
  const recent = iso(LOG_START);
  const old = iso(LOG_START - 10 * DAY);
  const row = (rowKey: string, r: RowScript['row'], file = 'report-1'): RowScript => ({ rowKey, file, row: r });

  // Clean: captured, settled with its fee, and the provider's row agrees.
  await appendPayment(log, { n: 1, amount: 1000n, at: recent, until: 'settled', fee: 30n });
  await appendRowRecorded(log, row('txn_1', chargeRow(1, 1000n, { fee: 30n })), recent);
  // A charge the provider took for no payment.
  await appendRowRecorded(log, row('txn_ghost', { ...chargeRow(2, 777n), references: [{ kind: 'charge', value: 'ch_ghost' }] }), recent);
  // Captured long ago, never reported by the provider.
  await appendPayment(log, { n: 3, amount: 300n, at: old, until: 'captured' });
  // Captured just now: awaiting its row, not a discrepancy.
  await appendPayment(log, { n: 4, amount: 400n, at: recent, until: 'captured' });
  // The same row twice in one file.
  await appendPayment(log, { n: 5, amount: 500n, at: recent, until: 'captured' });
  await appendRowRecorded(log, row('txn_5', chargeRow(5, 500n)), recent);
  await appendRowDuplicated(log, row('txn_5', chargeRow(5, 500n, { line: 99 })), 6, recent);
  // A later file corrects a wrong amount: the correction wins, the restatement is reported.
  await appendPayment(log, { n: 6, amount: 600n, at: recent, until: 'captured' });
  await appendRowRecorded(log, row('txn_6', chargeRow(6, 601n)), recent);
  await appendRowRestated(log, row('txn_6', chargeRow(6, 600n), 'report-2'), row('txn_6', chargeRow(6, 601n)), ['gross', 'net'], recent);
  // Charged twice.
  await appendPayment(log, { n: 7, amount: 700n, at: recent, until: 'captured' });
  await appendRowRecorded(log, row('txn_7a', chargeRow(7, 700n)), recent);
  await appendRowRecorded(log, row('txn_7b', chargeRow(7, 700n)), recent);
  // Amounts.
  await appendPayment(log, { n: 8, amount: 800n, at: recent, until: 'captured' });
  await appendRowRecorded(log, row('txn_8', chargeRow(8, 801n)), recent);
  await appendPayment(log, { n: 9, amount: 900n, at: recent, until: 'captured' });
  await appendRowRecorded(log, row('txn_9', chargeRow(9, 90000n)), recent);
  await appendPayment(log, { n: 10, amount: 1000n, at: recent, until: 'captured' });
  await appendRowRecorded(log, row('txn_10', chargeRow(10, 1000n, { currency: 'USD' })), recent);
  await appendPayment(log, { n: 11, amount: 1100n, at: recent, until: 'captured' });
  await appendRowRecorded(log, row('txn_11', chargeRow(11, 1100n, { fee: 30n, net: 1000n })), recent);
  await appendPayment(log, { n: 12, amount: 1200n, at: recent, until: 'settled', fee: 30n });
  await appendRowRecorded(log, row('txn_12', chargeRow(12, 1200n, { fee: 35n })), recent);
  // Failed in the ledger, captured at the provider.
  await appendPayment(log, { n: 13, amount: 1300n, at: recent, until: 'failed' });
  await appendRowRecorded(log, row('txn_13', chargeRow(13, 1300n)), recent);
  // Submitted two days ago, no outcome since.
  await appendPayment(log, { n: 14, amount: 1400n, at: iso(LOG_START - 2 * DAY), until: 'submitted' });
  // Two payments fit a row without references.
  await appendPayment(log, { n: 15, amount: 1500n, at: recent, until: 'captured' });
  await appendPayment(log, { n: 16, amount: 1500n, at: recent, until: 'captured' });
  await appendRowRecorded(log, row('txn_15', chargeRow(15, 1500n, { withReferences: false, date: recent })), recent);
  // One payment fits a row without references: matched by the rules.
  await appendPayment(log, { n: 17, amount: 1700n, at: recent, until: 'captured' });
  await appendRowRecorded(log, row('txn_17', chargeRow(17, 1700n, { withReferences: false, date: recent })), recent);
  // The row arrives before its payment.
  await appendRowRecorded(log, row('txn_20', chargeRow(20, 2000n)), recent);
  await appendPayment(log, { n: 20, amount: 2000n, at: recent, until: 'captured' });
  // A payout whose payout row does not equal its two lines.
  await appendPayment(log, { n: 30, amount: 3000n, at: recent, until: 'captured' });
  await appendPayment(log, { n: 31, amount: 3100n, at: recent, until: 'captured' });
  await appendRowRecorded(log, row('txn_30', { ...chargeRow(30, 3000n), payoutId: 'po_1' }), recent);
  await appendRowRecorded(log, row('txn_31', { ...chargeRow(31, 3100n), payoutId: 'po_1' }), recent);
  await appendRowRecorded(
    log,
    row('txn_po_1', {
      line: 50,
      category: 'payout',
      gross: { amount: -6099n, currency: 'EUR' },
      net: { amount: -6099n, currency: 'EUR' },
      references: [{ kind: 'source', value: 'po_1' }],
      payoutId: 'po_1',
    }),
    recent,
  );
  // Bank statements: one that does not add up, and a sequence with a hole.
  const balances = (opening: bigint, closing: bigint) => [
    { type: 'OPBD', amount: opening, currency: 'EUR' as const },
    { type: 'CLBD', amount: closing, currency: 'EUR' as const },
  ];
  const totals = (credits: bigint) => [{ currency: 'EUR' as const, count: 1, credits, debits: 0n }];
  await appendStatementImported(
    log,
    'camt-1',
    [{ statementId: 'S1', account: 'DE01', currency: 'EUR', sequenceNumber: 1n, balances: balances(1000n, 1500n), rowTotals: totals(400n) }],
    recent,
  );
  await appendStatementImported(
    log,
    'camt-3',
    [{ statementId: 'S3', account: 'DE01', currency: 'EUR', sequenceNumber: 3n, balances: balances(1500n, 1600n), rowTotals: totals(100n) }],
    recent,
  );

  return [
    'PROVIDER_UNMATCHED txn_ghost',
    `INTERNAL_UNMATCHED ${paymentIdOf(3)}`,
    'DUPLICATE_PROVIDER_ROW txn_5',
    'PROVIDER_ROW_RESTATED txn_6',
    `DUPLICATE_CHARGE ${paymentIdOf(7)}`,
    `AMOUNT_MISMATCH ${paymentIdOf(8)}`,
    `UNIT_EXPONENT_MISMATCH ${paymentIdOf(9)}`,
    `CURRENCY_MISMATCH ${paymentIdOf(10)}`,
    'NET_INCONSISTENT txn_11',
    `FEE_MISMATCH ${paymentIdOf(12)}`,
    `STATUS_SUPERSEDED ${paymentIdOf(13)}`,
    `STALE_PENDING ${paymentIdOf(14)}`,
    'AMBIGUOUS_MATCH txn_15',
    'STATEMENT_BALANCE_BREAK S1',
    'STATEMENT_GAP 2',
    'PAYOUT_LINES_MISMATCH po_1',
  ].sort();
};

/** How a discrepancy names what it is about, for comparing with the scenario's list. */
export const labelOf = (discrepancy: { code: string; detail: Record<string, string> }): string =>
  `${discrepancy.code} ${
    discrepancy.detail.paymentId ?? discrepancy.detail.rowKey ?? discrepancy.detail.payoutId ?? discrepancy.detail.statementId ?? discrepancy.detail.missingSequenceNumber ?? '?'
  }`;

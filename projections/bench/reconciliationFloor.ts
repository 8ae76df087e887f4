/**
 * The least any reconciliation of the bench's log has to do, as a baseline for the projection:
 * read every event its filter admits, decode it with the catalogs (events read back are
 * validated), match each charge row to its payment by the row's charge reference in an
 * in-memory map, and write one record per payment and per row that changed, in one SQLite
 * transaction per batch of events.
 *
 * Everything a real reconciliation also does is left out on purpose: no state read back from a
 * store (every payment stays in memory), no idempotency guards, rules, candidate lists,
 * evidence, summaries, discrepancy classes or checkpoints. Its time is a floor, not a target.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { paymentCatalog, reconciliationCatalog, statementCatalog, type EventStore, type EventFilter } from '@folio/shared';

interface FloorPayment {
  paymentId: string;
  amount: bigint;
  currency: string;
  captured?: bigint;
  providerRef?: string;
  rowKey?: string;
}

interface FloorRow {
  rowKey: string;
  paymentId?: string;
  amountMatches: boolean;
}

export interface FloorOutcome {
  events: number;
  matched: number;
  amountsOff: number;
  unmatchedRows: number;
}

const BATCH_EVENTS = 20_000;

const recordOf = (value: FloorPayment | FloorRow): string =>
  JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item));

export const reconciliationFloor = async (store: EventStore, filter: EventFilter, directory: string): Promise<FloorOutcome> => {
  const db = new Database(join(directory, 'floor.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE payments (id TEXT PRIMARY KEY, record TEXT NOT NULL) WITHOUT ROWID;
           CREATE TABLE rows (id TEXT PRIMARY KEY, record TEXT NOT NULL) WITHOUT ROWID;`);
  const putPayment = db.prepare('INSERT OR REPLACE INTO payments (id, record) VALUES (?, ?)');
  const putRow = db.prepare('INSERT OR REPLACE INTO rows (id, record) VALUES (?, ?)');
  const payments = new Map<string, FloorPayment>();
  const byReference = new Map<string, FloorPayment>();
  let changedPayments = new Map<string, FloorPayment>();
  let changedRows: FloorRow[] = [];
  const write = db.transaction(() => {
    for (const payment of changedPayments.values()) putPayment.run(payment.paymentId, recordOf(payment));
    for (const row of changedRows) putRow.run(row.rowKey, recordOf(row));
  });
  const flush = () => {
    write();
    changedPayments = new Map();
    changedRows = [];
  };

  const outcome: FloorOutcome = { events: 0, matched: 0, amountsOff: 0, unmatchedRows: 0 };
  for await (const recorded of store.readAll({ filter })) {
    outcome.events += 1;
    if (recorded.streamName.startsWith('payment-')) {
      const event = paymentCatalog.decode(recorded);
      if (event.type === 'PaymentCreated') {
        const payment = { paymentId: event.data.paymentId, amount: event.data.amount, currency: event.data.currency };
        payments.set(payment.paymentId, payment);
        changedPayments.set(payment.paymentId, payment);
      } else if (event.type === 'PaymentSubmitted' || event.type === 'PaymentCaptured') {
        const payment = payments.get(event.data.paymentId);
        if (payment === undefined) continue;
        if (event.type === 'PaymentSubmitted') {
          payment.providerRef = event.data.providerRef;
          byReference.set(event.data.providerRef, payment);
        } else {
          payment.captured = event.data.amount;
        }
        changedPayments.set(payment.paymentId, payment);
      }
    } else if (recorded.streamName.startsWith('reconciliation-')) {
      reconciliationCatalog.decode(recorded);
    } else {
      const event = statementCatalog.decode(recorded);
      if (event.type !== 'StatementRowRecorded') continue;
      const reference = event.data.row.references.find(({ kind }) => kind === 'charge')?.value;
      const payment = reference === undefined ? undefined : byReference.get(reference);
      const amountMatches = payment !== undefined && payment.captured === event.data.row.gross?.amount;
      if (payment === undefined) outcome.unmatchedRows += 1;
      else {
        payment.rowKey = event.data.rowKey;
        changedPayments.set(payment.paymentId, payment);
        if (amountMatches) outcome.matched += 1;
        else outcome.amountsOff += 1;
      }
      changedRows.push({ rowKey: event.data.rowKey, paymentId: payment?.paymentId, amountMatches });
    }
    if (outcome.events % BATCH_EVENTS === 0) flush();
  }
  flush();
  db.close();
  return outcome;
};

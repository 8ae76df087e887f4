/**
 * The least the ledger's read models need from a catch-up, as a baseline for the projections:
 * read every event, decode it with the ledger catalog, fold each account's posted balance, and
 * write per batch of events, in one SQLite transaction: the accounts touched, one balance point
 * per posting, and each transaction changed with its filter columns (both accounts, type,
 * status, currency, amount, time) and, once, its words (reference, description, metadata values,
 * both accounts) into an FTS5 table. The filter indexes are built once at the end, as a load
 * into an empty index allows.
 *
 * Everything else the read models do is left out on purpose: no pending or available amounts,
 * idempotency guards, checkpoints, document validation, separate document store, prefix
 * indexes, payments, or a second thread. Its time is a floor, not a target.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { ledgerCatalog, type EventStore } from '@folio/shared';

interface FloorTransaction {
  id: string;
  type: string;
  status: string;
  currency: string;
  amount: bigint;
  requestedAt: string;
  from: string;
  to: string;
}

const BATCH_EVENTS = 20_000;

const FILTER_INDEXES = `
  CREATE INDEX transactions_from ON transactions (from_account, requested_at);
  CREATE INDEX transactions_to ON transactions (to_account, requested_at);
  CREATE INDEX transactions_amount ON transactions (amount);
  CREATE INDEX transactions_status ON transactions (status, currency, requested_at);
  CREATE INDEX transactions_time ON transactions (requested_at);`;

export const projectionsFloor = async (store: EventStore, directory: string): Promise<number> => {
  const db = new Database(join(directory, 'floor.sqlite'));
  db.pragma('page_size = 16384');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`
    CREATE TABLE accounts (id TEXT PRIMARY KEY, currency TEXT NOT NULL, posted TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE points (account TEXT, position INTEGER, at TEXT NOT NULL, posted TEXT NOT NULL, PRIMARY KEY (account, position)) WITHOUT ROWID;
    CREATE TABLE transactions (
      row INTEGER PRIMARY KEY, id TEXT NOT NULL, type TEXT NOT NULL, status TEXT NOT NULL, currency TEXT NOT NULL,
      amount INTEGER NOT NULL, requested_at TEXT NOT NULL, from_account TEXT NOT NULL, to_account TEXT NOT NULL);
    CREATE VIRTUAL TABLE words USING fts5(text, content='', detail=none);`);
  const putAccount = db.prepare('INSERT OR REPLACE INTO accounts (id, currency, posted) VALUES (?, ?, ?)');
  const putPoint = db.prepare('INSERT INTO points (account, position, at, posted) VALUES (?, ?, ?, ?)');
  const putTransaction = db.prepare('INSERT OR REPLACE INTO transactions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const putWords = db.prepare('INSERT INTO words (rowid, text) VALUES (?, ?)');

  const accounts = new Map<string, { currency: string; posted: bigint }>();
  /** Transactions not yet ended, by id, with their row number. */
  const open = new Map<string, { row: number; transaction: FloorTransaction }>();
  let rows = 0;
  let touched = new Set<string>();
  let points: [string, bigint, string, bigint][] = [];
  let changed = new Map<number, FloorTransaction>();
  let words: [number, string][] = [];
  const write = db.transaction(() => {
    for (const id of touched) {
      const account = accounts.get(id)!;
      putAccount.run(id, account.currency, account.posted.toString());
    }
    for (const [account, position, at, posted] of points) putPoint.run(account, position, at, posted.toString());
    for (const [row, t] of changed) putTransaction.run(row, t.id, t.type, t.status, t.currency, t.amount, t.requestedAt, t.from, t.to);
    for (const [row, text] of words) putWords.run(row, text);
  });
  const flush = () => {
    write();
    touched = new Set();
    points = [];
    changed = new Map();
    words = [];
  };
  const track = (transaction: FloorTransaction, text: (string | undefined)[]) => {
    rows += 1;
    open.set(transaction.id, { row: rows, transaction });
    changed.set(rows, transaction);
    words.push([rows, [...text, transaction.from, transaction.to].filter((word) => word !== undefined).join(' ')]);
  };

  let events = 0;
  db.defaultSafeIntegers(true);
  for await (const recorded of store.readAll()) {
    events += 1;
    const event = ledgerCatalog.decode(recorded);
    switch (event.type) {
      case 'AccountOpened':
        accounts.set(event.data.accountId, { currency: event.data.currency, posted: 0n });
        touched.add(event.data.accountId);
        break;
      case 'AccountCredited':
      case 'AccountDebited': {
        const { accountId, amount, journal } = event.data;
        const account = accounts.get(accountId)!;
        account.posted += event.type === 'AccountCredited' ? amount : -amount;
        touched.add(accountId);
        points.push([accountId, recorded.position, recorded.created.toISOString(), account.posted]);
        const movement = 'movement' in event.data ? event.data.movement : undefined;
        if (movement !== undefined && !open.has(journal.id)) {
          track(
            {
              id: journal.id,
              type: journal.kind,
              status: 'pending',
              currency: event.data.currency,
              amount,
              requestedAt: movement.requestedAt,
              from: movement.fromAccountId,
              to: movement.toAccountId,
            },
            [movement.reference, movement.description],
          );
        }
        break;
      }
      case 'TransferCompleted':
      case 'TransferFailed':
      case 'DepositCompleted':
      case 'DepositFailed': {
        const id = 'transferId' in event.data ? event.data.transferId : event.data.depositId;
        const status = event.type.endsWith('Completed') ? 'completed' : 'failed';
        const known = open.get(id);
        if (known === undefined) {
          track(
            {
              id,
              type: event.type.startsWith('Deposit') ? 'deposit' : 'transfer',
              status,
              currency: event.data.currency,
              amount: event.data.amount,
              requestedAt: event.data.requestedAt,
              from: event.data.fromAccountId,
              to: event.data.toAccountId,
            },
            [event.data.reference, event.data.description, ...Object.values(event.data.metadata ?? {})],
          );
        } else {
          known.transaction.status = status;
          changed.set(known.row, known.transaction);
        }
        open.delete(id);
        break;
      }
      default:
        break;
    }
    if (events % BATCH_EVENTS === 0) flush();
  }
  flush();
  db.exec(FILTER_INDEXES);
  db.close();
  return events;
};

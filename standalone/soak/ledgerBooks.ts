import { join } from 'node:path';
import {
  checkLedger,
  checkpointOf,
  CHECKPOINT_STREAM,
  collect,
  createLogVerifier,
  ledgerCatalog,
  openSqliteEventStore,
  type LedgerEvent,
  type LedgerReport,
  type RecordedEvent,
  type VerificationReport,
} from '@folio/shared';

/** What the log of a data directory says, read independently of the server that wrote it. */
export interface Books {
  report: LedgerReport;
  /** Outcome event types per transfer id. */
  outcomes: Map<string, string[]>;
  /** Transfer ids per reference (load generators use the idempotency key as reference). */
  transfersByReference: Map<string, Set<string>>;
  /** Balances folded from completed movements only: what the books must show if nothing doubled. */
  balancesFromOutcomes: Map<string, bigint>;
  /** Global position of the last event. */
  head: bigint | undefined;
  /** Every hash chain and signed checkpoint of the log, recomputed (invariant 6). */
  integrity: VerificationReport;
}

const verifyIntegrity = (events: readonly RecordedEvent[]): VerificationReport => {
  const checkpoints = events.flatMap((event) => {
    const checkpoint = event.streamName === CHECKPOINT_STREAM ? checkpointOf(event.data) : undefined;
    return checkpoint === undefined ? [] : [{ checkpoint, event }];
  });
  const verifier = createLogVerifier(checkpoints);
  for (const event of events) verifier.add(event);
  return verifier.finish();
};

const LEDGER_TYPES = new Set<string>(ledgerCatalog.types);

/** Reads the embedded log of `dataDir` read-only (the server may be running) and checks the books. */
/**
 * Resolves once the log has taken no event for `quietMs` (or `atMostMs` passed): the provider's
 * callbacks keep arriving after the last answer (each after its own delay, a capture before its
 * settlement, failed deliveries retried), and books read before the last of them would not show
 * money the read models and the payments already do.
 */
export const waitForQuietLog = async (dataDir: string, { quietMs, atMostMs }: { quietMs: number; atMostMs: number }): Promise<void> => {
  const headOf = async () => {
    const store = openSqliteEventStore({ path: join(dataDir, 'events.sqlite'), readonly: true });
    try {
      return await store.headPosition();
    } finally {
      await store.close();
    }
  };
  const deadline = Date.now() + atMostMs;
  let head = await headOf();
  let quietSince = Date.now();
  while (Date.now() - quietSince < quietMs && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = await headOf();
    if (now !== head) {
      head = now;
      quietSince = Date.now();
    }
  }
};

export const readBooks = async (dataDir: string): Promise<Books> => {
  const store = openSqliteEventStore({ path: join(dataDir, 'events.sqlite'), readonly: true });
  let events: RecordedEvent[];
  try {
    events = await collect(store.readAll());
  } finally {
    await store.close();
  }
  const outcomes = new Map<string, string[]>();
  const transfersByReference = new Map<string, Set<string>>();
  const balancesFromOutcomes = new Map<string, bigint>();
  const noteReference = (reference: string | undefined, transferId: string) => {
    const key = reference ?? '(none)';
    transfersByReference.set(key, (transfersByReference.get(key) ?? new Set()).add(transferId));
  };
  const move = (accountId: string, amount: bigint) =>
    balancesFromOutcomes.set(accountId, (balancesFromOutcomes.get(accountId) ?? 0n) + amount);
  for (const recorded of events) {
    if (!LEDGER_TYPES.has(recorded.type)) continue;
    const event = ledgerCatalog.decode(recorded) as LedgerEvent;
    switch (event.type) {
      case 'AccountDebited':
      case 'AccountCredited':
        if (event.data.journal.kind === 'transfer' && event.data.journal.leg === 'first') {
          noteReference(event.data.movement?.reference, event.data.journal.id);
        }
        break;
      case 'TransferCompleted':
      case 'TransferFailed':
        outcomes.set(event.data.transferId, [...(outcomes.get(event.data.transferId) ?? []), event.type]);
        noteReference(event.data.reference, event.data.transferId);
        if (event.type === 'TransferCompleted') {
          move(event.data.fromAccountId, -event.data.amount);
          move(event.data.toAccountId, event.data.amount);
        }
        break;
      case 'DepositCompleted':
        move(event.data.toAccountId, event.data.amount);
        move(event.data.fromAccountId, -event.data.amount);
        break;
      default:
        break;
    }
  }
  return {
    report: checkLedger(events),
    outcomes,
    transfersByReference,
    balancesFromOutcomes,
    head: events.at(-1)?.position,
    integrity: verifyIntegrity(events),
  };
};

/** Problems with "every acknowledged transfer ended exactly once, and no request made two". */
export const transferOutcomeProblems = (
  books: Books,
  sentKeys: ReadonlySet<string>,
  acknowledged: readonly { key: string; status: number; answer: any }[],
): string[] => {
  const { outcomes, transfersByReference } = books;
  const problems: string[] = [];
  for (const [id, types] of outcomes) if (types.length !== 1) problems.push(`transfer ${id} has outcomes ${types.join(', ')}`);
  for (const [reference, ids] of transfersByReference) {
    if (!sentKeys.has(reference)) problems.push(`transfer(s) ${[...ids].join(', ')} with unknown reference ${reference}`);
    if (ids.size > 1) problems.push(`request ${reference} made ${ids.size} transfers: ${[...ids].join(', ')}`);
  }
  for (const ack of acknowledged) {
    const made = transfersByReference.get(ack.key);
    if (ack.status === 201) {
      const ended = outcomes.get(ack.answer.id) ?? [];
      const expected = ack.answer.status === 'completed' ? 'TransferCompleted' : 'TransferFailed';
      if (ended.length !== 1 || ended[0] !== expected) {
        problems.push(`${ack.key}: answered ${ack.answer.status} (${ack.answer.id}), log has [${ended.join(', ')}]`);
      }
      if (made === undefined || made.size !== 1 || !made.has(ack.answer.id)) {
        problems.push(`${ack.key}: answered transfer ${ack.answer.id}, log has [${[...(made ?? [])].join(', ')}]`);
      }
    } else if (made !== undefined) {
      problems.push(`${ack.key}: answered ${ack.status} but the log has transfer(s) ${[...made].join(', ')}`);
    }
  }
  return problems;
};

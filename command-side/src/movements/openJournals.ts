import { z } from 'zod';
import {
  bigintString,
  journalRefSchema,
  ledgerCatalog,
  type GlobalPosition,
  type JournalKind,
  type LedgerEvent,
  type Movement,
  type RecordedEvent,
} from '@folio/shared';

/** A journal whose first leg is posted and whose outcome is not recorded yet. */
export interface OpenJournal {
  kind: JournalKind;
  id: string;
  movement: Movement;
  firstLegPosition: GlobalPosition;
  /** When its first leg was committed. */
  openedAt: Date;
  /**
   * Money of this journal not on any account: what its posted legs took out minus what they put
   * in. Σ account balances + Σ in transit = 0 per currency.
   */
  inTransit: bigint;
}

/** What a later leg contributes: its journal and amount (the full decode is for first legs). */
const laterLegSchema = z.object({ journal: journalRefSchema, amount: bigintString });

const TRACKED_TYPES = new Set([
  'AccountDebited',
  'AccountCredited',
  'TransferCompleted',
  'TransferFailed',
  'DepositCompleted',
  'DepositFailed',
  'JournalCompleted',
  'JournalFailed',
]);

/**
 * Folds the log into the set of open journals (money in transit). Fed with `$all` in order, it is
 * what recovery resumes and what stuck-movement reports list.
 */
export const createOpenJournals = () => {
  const open = new Map<string, OpenJournal>();
  const keyOf = (kind: string, id: string) => `${kind}-${id}`;

  return {
    apply(recorded: RecordedEvent): void {
      if (!TRACKED_TYPES.has(recorded.type)) return;
      const leg = (recorded.data.journal as { leg?: unknown } | undefined)?.leg;
      if (leg === 'second' || leg === 'reversal') {
        // Most of the log; only its journal and amount matter here.
        const { journal, amount } = laterLegSchema.parse(recorded.data);
        const journalState = open.get(keyOf(journal.kind, journal.id));
        if (journalState !== undefined) journalState.inTransit += recorded.type === 'AccountDebited' ? amount : -amount;
        return;
      }
      const event = ledgerCatalog.decode(recorded) as LedgerEvent;
      switch (event.type) {
        case 'AccountDebited':
        case 'AccountCredited': {
          const { journal, movement, amount } = event.data;
          const key = keyOf(journal.kind, journal.id);
          const effect = event.type === 'AccountDebited' ? amount : -amount;
          if (journal.leg === 'first' && movement !== undefined) {
            open.set(key, {
              kind: journal.kind,
              id: journal.id,
              movement,
              firstLegPosition: recorded.position,
              openedAt: recorded.created,
              inTransit: effect,
            });
          } else {
            const journalState = open.get(key);
            if (journalState !== undefined) journalState.inTransit += effect;
          }
          return;
        }
        case 'TransferCompleted':
        case 'TransferFailed':
          open.delete(keyOf('transfer', event.data.transferId));
          return;
        case 'DepositCompleted':
        case 'DepositFailed':
          open.delete(keyOf('deposit', event.data.depositId));
          return;
        case 'JournalCompleted':
        case 'JournalFailed':
          open.delete(keyOf(event.data.kind, event.data.journalId));
          return;
        default:
          return;
      }
    },
    list: (): OpenJournal[] => [...open.values()],
  };
};

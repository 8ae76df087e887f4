import { z } from 'zod';
import {
  bigintString,
  journalRefSchema,
  ledgerCatalog,
  movementSchema,
  providerJournalKinds,
  SCHEMA_VERSION_KEY,
  snowflakeIdSchema,
  type GlobalPosition,
  type JournalKind,
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

/**
 * Only the fields this fold uses are validated (a posting's journal and amount, a first leg's
 * movement, an outcome's id): following the whole log, that is most of its cost.
 */
const postingSchema = z.object({
  journal: journalRefSchema.pick({ id: true, kind: true, leg: true }),
  amount: bigintString,
  movement: movementSchema.optional(),
});
const transferOutcomeSchema = z.object({ transferId: snowflakeIdSchema });
const depositOutcomeSchema = z.object({ depositId: snowflakeIdSchema });
const journalOutcomeSchema = z.object({ kind: z.enum(providerJournalKinds), journalId: snowflakeIdSchema });

const TRACKED_TYPES: ReadonlySet<string> = new Set([
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
 * The fields of a recorded event: current-version data through the partial schema; an older
 * version is upcast by a full decode first, whose data has the same fields.
 */
const read = <T>(recorded: RecordedEvent, schema: z.ZodType<T>): T =>
  recorded.metadata?.[SCHEMA_VERSION_KEY] === ledgerCatalog.definitionOf(recorded.type)?.version
    ? schema.parse(recorded.data)
    : (ledgerCatalog.decode(recorded).data as T);

/**
 * The version of what the fold below tracks, kept in every recovery checkpoint: a checkpoint of
 * another version could lack journals this one opens, so it is not trusted. Bump it whenever the
 * fold starts tracking another event, journal kind or field.
 */
export const OPEN_JOURNALS_FOLD_VERSION = 1;

/**
 * Folds the log into the set of open journals (money in transit). Fed with `$all` in order, it is
 * what recovery resumes and what stuck-movement reports list. `seed` is the set as it was after
 * some position (a recovery checkpoint): then it is fed the log after that position only.
 */
export const createOpenJournals = (seed: readonly OpenJournal[] = []) => {
  const keyOf = (kind: string, id: string) => `${kind}-${id}`;
  const open = new Map<string, OpenJournal>(seed.map((journal) => [keyOf(journal.kind, journal.id), { ...journal }]));

  return {
    apply(recorded: RecordedEvent): void {
      if (!TRACKED_TYPES.has(recorded.type)) return;
      switch (recorded.type) {
        case 'AccountDebited':
        case 'AccountCredited': {
          const { journal, movement, amount } = read(recorded, postingSchema);
          const key = keyOf(journal.kind, journal.id);
          const effect = recorded.type === 'AccountDebited' ? amount : -amount;
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
          open.delete(keyOf('transfer', read(recorded, transferOutcomeSchema).transferId));
          return;
        case 'JournalCompleted':
        case 'JournalFailed':
        {
          const { kind, journalId } = read(recorded, journalOutcomeSchema);
          open.delete(keyOf(kind, journalId));
        }
          return;
        default:
          open.delete(keyOf('deposit', read(recorded, depositOutcomeSchema).depositId));
          return;
      }
    },
    list: (): OpenJournal[] => [...open.values()],
  };
};

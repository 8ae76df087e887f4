/**
 * A recovery checkpoint: the open journals after the event at `position`, so that a restart folds
 * only the log after it instead of the whole log. It lives on a stream of its own that no ledger,
 * audit chain or projection reads (none of their stream-name prefixes matches it).
 */
import {
  bigintString,
  createEventCatalog,
  defineEvent,
  deterministicEventId,
  journalKinds,
  movementSchema,
  toTrustedEventToAppend,
  type EventToAppend,
  type GlobalPosition,
  type RecordedEvent,
} from '@folio/shared';
import { z } from 'zod';
import { OPEN_JOURNALS_FOLD_VERSION, type OpenJournal } from './openJournals.js';

export const RECOVERY_CHECKPOINT_STREAM = 'movement-recovery-checkpoints';

const isoDate = z.codec(z.iso.datetime(), z.date(), {
  decode: (text) => new Date(text),
  encode: (date) => date.toISOString(),
});

const openJournalSchema = z.object({
  kind: z.enum(journalKinds),
  id: z.string().min(1),
  movement: movementSchema,
  firstLegPosition: bigintString,
  openedAt: isoDate,
  inTransit: bigintString,
});

export const openJournalsCheckpointed = defineEvent({
  type: 'OpenJournalsCheckpointed',
  version: 1,
  schema: z.object({
    /** The last event folded into `journals`: a restart follows the log after it. */
    position: bigintString,
    /** `OPEN_JOURNALS_FOLD_VERSION` of the fold that wrote it. */
    fold: z.number().int().positive(),
    journals: z.array(openJournalSchema),
  }),
});

export const recoveryCheckpointCatalog = createEventCatalog([openJournalsCheckpointed]);

export interface RecoveryCheckpoint {
  position: GlobalPosition;
  journals: OpenJournal[];
}

/**
 * The checkpoint event, encoded on the trusted path: the journals are this process's own fold of
 * events it validated as it read them, and a zod pass over every open journal (tens of thousands
 * under a load of batches) cost more than the rest of recovery. Only the dates are turned into
 * their stored form by hand; the result is what the schema encodes (tested), and reading a
 * checkpoint back still validates it in full.
 */
export const encodeRecoveryCheckpoint = (checkpoint: RecoveryCheckpoint, recordedAt: Date): EventToAppend =>
  toTrustedEventToAppend(
    {
      type: openJournalsCheckpointed.type,
      // Two processes checkpointing the same position write the same event: the store keeps one.
      id: deterministicEventId(RECOVERY_CHECKPOINT_STREAM, checkpoint.position.toString()),
      version: openJournalsCheckpointed.version,
      data: {
        position: checkpoint.position,
        fold: OPEN_JOURNALS_FOLD_VERSION,
        journals: checkpoint.journals.map((journal) => ({ ...journal, openedAt: journal.openedAt.toISOString() })),
      },
      metadata: { $correlationId: 'movement-recovery', actor: 'folio:movement-recovery', occurredAt: recordedAt.toISOString() },
    },
    openJournalsCheckpointed,
  );

/** Throws on anything but a well-formed checkpoint: a bad one must never seed recovery. */
export const decodeRecoveryCheckpoint = (recorded: RecordedEvent): RecoveryCheckpoint => {
  const { data } = recoveryCheckpointCatalog.decode(recorded);
  if (data.fold !== OPEN_JOURNALS_FOLD_VERSION) {
    throw new Error(`recovery checkpoint of open-journals fold ${data.fold}, this one is ${OPEN_JOURNALS_FOLD_VERSION}`);
  }
  return { position: data.position, journals: data.journals };
};

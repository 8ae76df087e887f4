import { collect, type EventStore, type RecordedEvent } from '../eventStore/eventStore.js';
import { StreamNotFoundError } from '../eventStore/errors.js';
import { CHECKPOINT_STREAM } from './eventHash.js';
import { checkpointOf, createLogVerifier, type VerificationReport } from './logVerifier.js';
import type { Checkpoint } from './checkpoints.js';

/** Every readable checkpoint the store holds, with the event carrying it (the verifier reports the others as it meets them in the log). */
export const readCheckpoints = async (eventStore: EventStore): Promise<{ checkpoint: Checkpoint; event: RecordedEvent }[]> => {
  let events: RecordedEvent[];
  try {
    events = await collect(eventStore.readStream(CHECKPOINT_STREAM));
  } catch (error) {
    if (error instanceof StreamNotFoundError) return [];
    throw error;
  }
  return events.flatMap((event) => {
    const checkpoint = checkpointOf(event.data);
    return checkpoint === undefined ? [] : [{ checkpoint, event }];
  });
};

/**
 * Verifies the whole log of an event store: every chain, every checkpoint (see `logVerifier.ts`).
 * `upTo` stops at a position (checkpoints beyond it are not checked).
 */
export const verifyEventStore = async (
  eventStore: EventStore,
  options: { trustedKeyId?: string; upTo?: bigint } = {},
): Promise<VerificationReport> => {
  const checkpoints = (await readCheckpoints(eventStore)).filter(
    ({ checkpoint }) => options.upTo === undefined || BigInt(checkpoint.payload.position) <= options.upTo,
  );
  const verifier = createLogVerifier(checkpoints, options.trustedKeyId);
  for await (const event of eventStore.readAll()) {
    if (options.upTo !== undefined && event.position > options.upTo) break;
    verifier.add(event);
  }
  return verifier.finish();
};

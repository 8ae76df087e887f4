import type { EventStore, RecordedEvent } from '../eventStore/eventStore.js';
import { PositionBeyondHeadError } from './auditErrors.js';

/**
 * A point in the books' history, on two axes:
 * - what was recorded by then: up to a global `position` and/or a recorded time `asOf`
 *   (the store's commit time, which never decreases along the log);
 * - what it was effective for: postings whose business time (`occurredAt`) is at or before
 *   `effectiveAt`.
 * "The books at position P, effective at T" is what was known at P about the moment T.
 */
export interface PointInTime {
  position?: bigint;
  /** Milliseconds since the epoch. */
  asOf?: number;
  /** Milliseconds since the epoch. */
  effectiveAt?: number;
}

/** Refuses a position past the head of the log (an empty log's head is 0): what it names may still change. */
export const refuseBeyondHead = async (eventStore: Pick<EventStore, 'headPosition'>, position: bigint | undefined): Promise<void> => {
  if (position === undefined) return;
  const head = (await eventStore.headPosition()) ?? 0n;
  if (position > head) throw new PositionBeyondHeadError(position, head);
};

/** Whether the log had recorded `event` by the point (the recorded axis only). */
export const recordedBy = (event: Pick<RecordedEvent, 'position' | 'created'>, point: PointInTime): boolean =>
  (point.position === undefined || event.position <= point.position) &&
  (point.asOf === undefined || event.created.getTime() <= point.asOf);

/** Business time of an event: its `occurredAt`, or when it was recorded for events without one. */
export const occurredAtOf = (event: Pick<RecordedEvent, 'metadata' | 'created'>): number => {
  const occurredAt = event.metadata?.occurredAt;
  if (typeof occurredAt === 'string') {
    const ms = Date.parse(occurredAt);
    if (!Number.isNaN(ms)) return ms;
  }
  return event.created.getTime();
};

export const effectiveBy = (event: Pick<RecordedEvent, 'metadata' | 'created'>, point: PointInTime): boolean =>
  point.effectiveAt === undefined || occurredAtOf(event) <= point.effectiveAt;

/** The largest index in [0, count) where `holds` is true, for a predicate true then false; -1 when none. */
export const lastWhere = async (count: bigint, holds: (index: bigint) => Promise<boolean>): Promise<bigint> => {
  let low = 0n;
  let high = count - 1n;
  let found = -1n;
  while (low <= high) {
    const middle = (low + high) / 2n;
    if (await holds(middle)) {
      found = middle;
      low = middle + 1n;
    } else {
      high = middle - 1n;
    }
  }
  return found;
};

import type { GlobalPosition, JsonObject, RecordedEvent } from '../eventStore.js';

/**
 * The columns of an `events` row in the order a raw read returns them. Reads of `$all` take rows
 * as arrays (better-sqlite3's `raw()`), which costs far less than an object per row, and decode
 * only the rows a filter admits: a reader that wants a few streams never parses the others' JSON.
 */
export const EVENT_COLUMNS = 'position, stream_name, revision, event_id, type, data, metadata, created';

export type EventRowValues = readonly [
  position: GlobalPosition,
  streamName: string,
  revision: bigint,
  eventId: string,
  type: string,
  data: string,
  metadata: string | null,
  created: bigint,
];

export const positionOfRow = (row: EventRowValues): GlobalPosition => row[0];
export const streamNameOfRow = (row: EventRowValues): string => row[1];
export const typeOfRow = (row: EventRowValues): string => row[4];

export const recordedEventOfRow = (row: EventRowValues): RecordedEvent => ({
  streamName: row[1],
  id: row[3],
  type: row[4],
  revision: row[2],
  position: row[0],
  created: new Date(Number(row[7])),
  data: JSON.parse(row[5]) as JsonObject,
  metadata: row[6] === null ? undefined : (JSON.parse(row[6]) as JsonObject),
});

import { validate as isUuid } from 'uuid';
import { InvalidArgumentError } from './errors.js';
import type { EventToAppend, ExpectedRevision, JsonObject } from './eventStore.js';

/**
 * The checks every adapter runs on its arguments before any I/O, so both reject the same inputs
 * with the same errors and nothing is written.
 */

const MAX_UINT64 = 2n ** 64n - 1n;

/** An event whose data and metadata are already JSON text: what goes to the store unchanged. */
export interface SerializedEvent {
  id: string;
  type: string;
  data: string;
  metadata: string | null;
}

export const requireStreamName = (streamName: unknown): string => {
  if (typeof streamName !== 'string' || streamName.length === 0) {
    throw new InvalidArgumentError('stream name must be a non-empty string');
  }
  return streamName;
};

export const requireInRange = (value: bigint, what: string): bigint => {
  if (value < 0n || value > MAX_UINT64) throw new InvalidArgumentError(`${what} ${value} is out of range`);
  return value;
};

/**
 * Revisions are signed 64-bit on EventStoreDB's side: a larger one would wrap (2^64 - 1 becomes
 * -1, "no stream") or fail there, so it is refused here, by every adapter alike.
 */
const MAX_REVISION = 2n ** 63n - 1n;

export const requireRevision = (value: bigint, what = 'revision'): bigint => {
  if (value < 0n || value > MAX_REVISION) throw new InvalidArgumentError(`${what} ${value} is out of range`);
  return value;
};

export const requireExpectedRevision = (expected: ExpectedRevision | undefined): ExpectedRevision => {
  if (expected === undefined) return 'any';
  if (expected === 'any' || expected === 'no_stream' || expected === 'stream_exists') return expected;
  // EventStoreDB clients turn -1 into a huge unsigned revision (KurrentDB-Client-NodeJS#348).
  if (typeof expected !== 'bigint' || expected < 0n || expected > MAX_REVISION) {
    throw new InvalidArgumentError(
      `expected revision ${String(expected)} is invalid (use 'any', 'no_stream', 'stream_exists' or a revision >= 0)`,
    );
  }
  return expected;
};

export const requireMaxCount = (maxCount: number | undefined): number => {
  if (maxCount === undefined) return Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(maxCount) || maxCount < 0) {
    throw new InvalidArgumentError(`maxCount must be a non-negative integer, got ${String(maxCount)}`);
  }
  return maxCount;
};

export const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);

/** Serialized now, so a bigint fails before any I/O and later changes by the caller are not stored. */
const serializeJsonObject = (value: unknown, what: string): string => {
  if (!isJsonObject(value)) throw new InvalidArgumentError(`${what} must be a JSON object`);
  try {
    return JSON.stringify(value);
  } catch (error) {
    throw new InvalidArgumentError(`${what} is not serializable as JSON: ${(error as Error).message}`, { cause: error });
  }
};

export const serializeEvents = (events: readonly EventToAppend[]): SerializedEvent[] => {
  if (!Array.isArray(events) || events.length === 0) {
    throw new InvalidArgumentError('an append needs at least one event');
  }
  return events.map((event, index) => {
    if (typeof event.id !== 'string' || !isUuid(event.id)) {
      throw new InvalidArgumentError(`event ${index} has an invalid id (a UUID is required)`);
    }
    if (typeof event.type !== 'string' || event.type.length === 0) {
      throw new InvalidArgumentError(`event ${index} needs a non-empty type`);
    }
    return {
      id: event.id,
      type: event.type,
      data: serializeJsonObject(event.data, `data of event ${index}`),
      metadata: event.metadata === undefined ? null : serializeJsonObject(event.metadata, `metadata of event ${index}`),
    };
  });
};

export const requireCheckpointInterval = (interval: number | undefined, fallback: number): number => {
  const checked = interval ?? fallback;
  if (!Number.isSafeInteger(checked) || checked < 1) {
    throw new InvalidArgumentError(`checkpointInterval must be a positive integer, got ${String(checked)}`);
  }
  return checked;
};

import type { JsonObject, StreamMetadata } from './eventStore.js';
import { InvalidArgumentError } from './errors.js';

/** Stream metadata is stored in EventStoreDB's own shape, so the log reads the same in both stores. */
export const toStoredMetadata = (metadata: StreamMetadata): JsonObject => {
  const stored: JsonObject = {};
  for (const key of Object.keys(metadata.custom ?? {})) {
    if (key.startsWith('$')) throw new InvalidArgumentError(`custom metadata key ${key} is reserved`);
  }
  const { maxCount, maxAge, truncateBefore } = metadata;
  if (maxCount !== undefined && (!Number.isSafeInteger(maxCount) || maxCount < 1)) {
    throw new InvalidArgumentError(`maxCount must be a positive integer, got ${String(maxCount)}`);
  }
  if (maxAge !== undefined && (!Number.isSafeInteger(maxAge) || maxAge < 1)) {
    throw new InvalidArgumentError(`maxAge must be a positive number of seconds, got ${String(maxAge)}`);
  }
  if (truncateBefore !== undefined && (truncateBefore < 0n || truncateBefore > BigInt(Number.MAX_SAFE_INTEGER))) {
    throw new InvalidArgumentError(`truncateBefore ${truncateBefore} is out of range`);
  }
  Object.assign(stored, metadata.custom);
  if (metadata.maxCount !== undefined) stored.$maxCount = metadata.maxCount;
  if (metadata.maxAge !== undefined) stored.$maxAge = metadata.maxAge;
  if (metadata.truncateBefore !== undefined) stored.$tb = Number(metadata.truncateBefore);
  return stored;
};

export const fromStoredMetadata = (stored: JsonObject): StreamMetadata => {
  const metadata: StreamMetadata = {};
  const custom: JsonObject = {};
  for (const [key, value] of Object.entries(stored)) {
    if (key === '$maxCount' && typeof value === 'number') metadata.maxCount = value;
    else if (key === '$maxAge' && typeof value === 'number') metadata.maxAge = value;
    else if (key === '$tb' && typeof value === 'number') metadata.truncateBefore = BigInt(value);
    else if (!key.startsWith('$')) custom[key] = value;
  }
  if (Object.keys(custom).length > 0) metadata.custom = custom;
  return metadata;
};

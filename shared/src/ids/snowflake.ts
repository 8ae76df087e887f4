/**
 * 64-bit time-sortable Snowflake ids for transactions, payments, transfers and accounts.
 *
 * Layout, most significant bit first: 1 sign bit (always 0, so ids fit a signed 64-bit integer
 * in every store), 41 bits of milliseconds since `SNOWFLAKE_EPOCH_MS`, 10 bits of node id,
 * 12 bits of sequence. 41 bits of milliseconds last about 69 years: until 2093-09-06.
 *
 * The wire form is the decimal string without leading zeros. Decimal strings of different
 * lengths do not sort like the numbers they spell (ids grow from 18 to 19 digits in July 2031),
 * so order ids with `compareSnowflakeIds` or as `bigint`s, never with a plain string sort.
 */
import { z } from 'zod';
import { ValidationError } from '../errors/folioError.js';

/** The project epoch, 2024-01-01T00:00:00Z, in milliseconds since the Unix epoch. */
export const SNOWFLAKE_EPOCH_MS = Date.UTC(2024, 0, 1);

const TIMESTAMP_BITS = 41n;
const NODE_ID_BITS = 10n;
const SEQUENCE_BITS = 12n;

export const MAX_NODE_ID = Number((1n << NODE_ID_BITS) - 1n);
const MAX_SEQUENCE = Number((1n << SEQUENCE_BITS) - 1n);
const MAX_TIMESTAMP = Number((1n << TIMESTAMP_BITS) - 1n);
export const MAX_SNOWFLAKE_ID = (1n << 63n) - 1n;

const NODE_ID_SHIFT = SEQUENCE_BITS;
const TIMESTAMP_SHIFT = SEQUENCE_BITS + NODE_ID_BITS;

const CANONICAL_DIGITS = /^(0|[1-9][0-9]*)$/;
const MAX_ID_TEXT = MAX_SNOWFLAKE_ID.toString();
const MAX_DIGITS = MAX_ID_TEXT.length;

export interface SnowflakeGeneratorOptions {
  /** Which generator this is, 0–1023; two live generators must never share one. */
  nodeId: number;
  /** Milliseconds since the Unix epoch (`Date.now` in production). */
  clock: () => number;
}

export interface SnowflakeGenerator {
  readonly nodeId: number;
  /** The next id; strictly greater than every id this generator returned before. */
  next(): bigint;
  /** `next()` in its wire form, a decimal string. */
  nextId(): string;
  /**
   * Reserves `count` consecutive ids (1–4096) and returns the first: `first + i` is a valid id of
   * this generator for every `i < count`, so a batch's items can be derived from one id.
   */
  reserve(count: number): bigint;
}

export interface SnowflakeParts {
  /** Milliseconds since the Unix epoch. */
  timestamp: number;
  nodeId: number;
  sequence: number;
}

export const createSnowflakeGenerator = (options: SnowflakeGeneratorOptions): SnowflakeGenerator => {
  const { nodeId, clock } = options;
  if (!Number.isInteger(nodeId) || nodeId < 0 || nodeId > MAX_NODE_ID) {
    throw new RangeError(`snowflake node id must be an integer from 0 to ${MAX_NODE_ID}, got ${nodeId}`);
  }
  const nodeBits = BigInt(nodeId) << NODE_ID_SHIFT;

  // Logical time: never behind the last id issued, so a clock that steps back (NTP, VM resume)
  // cannot produce a smaller id; it may run ahead of the clock after a sequence overflow.
  let lastTimestamp = -1;
  let sequence = 0;

  const next = (): bigint => {
    const reading = clock();
    if (!Number.isFinite(reading)) {
      throw new RangeError(`snowflake clock returned ${reading}`);
    }
    const now = Math.floor(reading) - SNOWFLAKE_EPOCH_MS;
    if (now > lastTimestamp) {
      if (now > MAX_TIMESTAMP) {
        throw new RangeError(`snowflake clock ${reading} is past the end of the 41-bit timestamp range`);
      }
      lastTimestamp = now;
      sequence = 0;
    } else if (lastTimestamp < 0) {
      throw new RangeError(`snowflake clock ${reading} is before the project epoch ${SNOWFLAKE_EPOCH_MS}`);
    } else if (sequence < MAX_SEQUENCE) {
      sequence += 1;
    } else {
      // Borrowing the next millisecond keeps ids increasing without waiting for the clock.
      if (lastTimestamp >= MAX_TIMESTAMP) {
        throw new RangeError('snowflake timestamp range exhausted');
      }
      lastTimestamp += 1;
      sequence = 0;
    }
    return (BigInt(lastTimestamp) << TIMESTAMP_SHIFT) | nodeBits | BigInt(sequence);
  };

  const reserve = (count: number): bigint => {
    if (!Number.isInteger(count) || count < 1 || count > MAX_SEQUENCE + 1) {
      throw new RangeError(`a snowflake reservation is 1 to ${MAX_SEQUENCE + 1} ids, got ${count}`);
    }
    next();
    if (sequence + count - 1 > MAX_SEQUENCE) {
      if (lastTimestamp >= MAX_TIMESTAMP) throw new RangeError('snowflake timestamp range exhausted');
      lastTimestamp += 1;
      sequence = 0;
    }
    const first = (BigInt(lastTimestamp) << TIMESTAMP_SHIFT) | nodeBits | BigInt(sequence);
    sequence += count - 1;
    return first;
  };

  return { nodeId, next, nextId: () => next().toString(), reserve };
};

/** Parses the wire form: decimal digits, no sign, no leading zeros, at most 2^63-1. */
export const parseSnowflakeId = (text: string): bigint => {
  const problem = snowflakeIdProblem(text);
  if (problem !== undefined) {
    throw new ValidationError(`invalid snowflake id ${JSON.stringify(text)}: ${problem}`, [
      { path: '', message: problem },
    ]);
  }
  return BigInt(text);
};

const snowflakeIdProblem = (text: string): string | undefined => {
  if (typeof text !== 'string') return 'expected a string of decimal digits';
  if (!CANONICAL_DIGITS.test(text)) {
    return 'expected decimal digits only, without sign, spaces or leading zeros';
  }
  // Canonical digits of the same length compare as text the way they compare as numbers: no
  // bigint is made for the ids of every event read.
  if (text.length > MAX_DIGITS || (text.length === MAX_DIGITS && text > MAX_ID_TEXT)) {
    return `must not exceed ${MAX_SNOWFLAKE_ID}`;
  }
  return undefined;
};

const toSnowflakeBigint = (id: bigint | string): bigint => {
  if (typeof id === 'string') return parseSnowflakeId(id);
  if (id < 0n || id > MAX_SNOWFLAKE_ID) {
    throw new ValidationError(`invalid snowflake id ${id}: must be from 0 to ${MAX_SNOWFLAKE_ID}`);
  }
  return id;
};

export const decomposeSnowflake = (id: bigint | string): SnowflakeParts => {
  const value = toSnowflakeBigint(id);
  return {
    timestamp: Number(value >> TIMESTAMP_SHIFT) + SNOWFLAKE_EPOCH_MS,
    nodeId: Number((value >> NODE_ID_SHIFT) & BigInt(MAX_NODE_ID)),
    sequence: Number(value & BigInt(MAX_SEQUENCE)),
  };
};

/** When the id was generated, in milliseconds since the Unix epoch. */
export const snowflakeTimestamp = (id: bigint | string): number => decomposeSnowflake(id).timestamp;

/** Orders wire-form ids numerically (shorter first, then digit by digit). */
export const compareSnowflakeIds = (a: string, b: string): number => {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
};

/**
 * The wire form of a Snowflake id; the parsed value stays a string. A plain check rather than
 * `superRefine`, which allocates an issue-adding closure on every parse: an event carries several
 * ids, and every event read back is parsed.
 */
export const snowflakeIdSchema = z.string().check((payload) => {
  const problem = snowflakeIdProblem(payload.value);
  if (problem !== undefined) payload.issues.push({ code: 'custom', message: `invalid snowflake id: ${problem}`, input: payload.value });
});

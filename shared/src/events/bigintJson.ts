/**
 * JSON cannot hold a `bigint`, so inside event data one travels as its decimal string. Only the
 * canonical spelling is accepted ("-12", "0", "1050"; not "01", "+1", "1.0", " 1", "-0", "1e3"),
 * so every value has exactly one stored form and hashes of events stay stable.
 */
import { z } from 'zod';

const CANONICAL_INTEGER = /^(0|-?[1-9][0-9]*)$/;

/**
 * A codec for event schemas: decoding (`parse`) turns the stored string into a `bigint`,
 * encoding (`z.encode`) turns the `bigint` back into the string. Chain `.refine` for ranges.
 */
export const bigintString = z.codec(
  z.string().regex(CANONICAL_INTEGER, {
    error: 'expected an integer as a canonical decimal string (no sign "+", leading zeros, spaces or decimals)',
  }),
  z.bigint(),
  {
    decode: (text) => BigInt(text),
    encode: (value) => value.toString(),
  },
);

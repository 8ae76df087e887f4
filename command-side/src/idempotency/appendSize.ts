import { Buffer } from 'node:buffer';
import type { EventToAppend } from '@folio/shared';

/**
 * What EventStoreDB counts of one event against its `MaxAppendSize` (a bound on a whole append,
 * all its events together): the data, the metadata and the type as they travel, JSON in UTF-8.
 * Older servers count the data only; counting all three is right for both.
 */
export const appendedBytes = (event: EventToAppend): number =>
  Buffer.byteLength(event.type) +
  Buffer.byteLength(JSON.stringify(event.data)) +
  (event.metadata === undefined ? 0 : Buffer.byteLength(JSON.stringify(event.metadata)));

/** The most one UTF-16 code unit takes inside a JSON string: `\uXXXX`. */
const MAX_ENCODED_UNIT_BYTES = 6;

const encodedBytes = (text: string): number => Buffer.byteLength(JSON.stringify(text)) - 2;

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;

/**
 * `text` cut into consecutive slices whose encodings as JSON strings take at most `maxBytes` each,
 * so that each fits in an event of known overhead; joined, they are `text` again. A slice never
 * ends between the two halves of a surrogate pair when it can end before them.
 */
export const sliceForEncoding = (text: string, maxBytes: number): string[] => {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < MAX_ENCODED_UNIT_BYTES) {
    throw new RangeError(`a slice needs room for at least ${MAX_ENCODED_UNIT_BYTES} bytes, got ${maxBytes}`);
  }
  const slices: string[] = [];
  let start = 0;
  while (start < text.length) {
    // Most text encodes to about one byte a unit: try the whole budget, then shrink in proportion.
    let end = Math.min(text.length, start + maxBytes);
    for (;;) {
      if (end < text.length && end - start > 1 && isHighSurrogate(text.charCodeAt(end - 1))) end--;
      const bytes = encodedBytes(text.slice(start, end));
      if (bytes <= maxBytes) break;
      end = start + Math.max(1, Math.floor(((end - start) * maxBytes) / bytes));
    }
    slices.push(text.slice(start, end));
    start = end;
  }
  return slices;
};

/**
 * Strings in code point order, which is UTF-8 byte order: how SQLite (BINARY) and MongoDB compare
 * text, and so how a prefix becomes a range a store can walk.
 */

/** In `u` mode a surrogate pair is one code point, so this matches only unpaired halves. */
export const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * The least string above every string that starts with `prefix`, in code point order: the prefix
 * with its last code point raised by one. `undefined` when every code point is already the last
 * one (U+10FFFF).
 */
export const prefixUpperBound = (prefix: string): string | undefined => {
  // From the end, one code point at a time: spreading them all as arguments would overflow the
  // stack for a long prefix.
  for (let end = prefix.length; end > 0; ) {
    const start = end >= 2 && prefix.codePointAt(end - 2)! > 0xffff ? end - 2 : end - 1;
    const last = prefix.codePointAt(start)!;
    if (last < 0x10ffff) return prefix.slice(0, start) + String.fromCodePoint(last + 1 === 0xd800 ? 0xe000 : last + 1);
    end = start;
  }
  return undefined;
};

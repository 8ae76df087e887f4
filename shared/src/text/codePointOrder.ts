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
  const points = Array.from(prefix, (character) => character.codePointAt(0)!);
  while (points.length > 0) {
    const last = points.pop()!;
    if (last < 0x10ffff) return String.fromCodePoint(...points, last + 1 === 0xd800 ? 0xe000 : last + 1);
  }
  return undefined;
};

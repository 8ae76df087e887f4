import type { JsonValue } from '../eventStore/eventStore.js';

/**
 * The one spelling of a JSON value that hashes and signatures are computed over (the JSON
 * Canonicalization Scheme of RFC 8785 for the values Folio stores): object members sorted by key
 * in UTF-16 code unit order, no whitespace, strings escaped as `JSON.stringify` escapes them,
 * numbers in ECMAScript's shortest round-trip form. Money and ids are decimal strings in event
 * data, so no number a hash depends on is ever rounded.
 */
export const canonicalJson = (value: JsonValue): string => {
  switch (typeof value) {
    case 'string':
      return quoted(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${value} has no canonical JSON form`);
      return JSON.stringify(value);
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    let text = '[';
    for (let index = 0; index < value.length; index++) text += (index === 0 ? '' : ',') + canonicalJson(value[index]!);
    return `${text}]`;
  }
  return canonicalObject(value, undefined);
};

/**
 * Characters `JSON.stringify` escapes (quote, backslash, controls) and surrogates (it escapes the
 * lone ones): a string without any is quoted as it is, which is most of an event's keys and values.
 */
const NEEDS_ESCAPING = /["\\\u0000-\u001f\ud800-\udfff]/;

const quoted = (text: string): string => (NEEDS_ESCAPING.test(text) ? JSON.stringify(text) : `"${text}"`);

/** True when the keys are already in canonical order: objects built in that order skip the sort. */
const isSorted = (keys: string[]): boolean => {
  for (let index = 1; index < keys.length; index++) if (keys[index - 1]! > keys[index]!) return false;
  return true;
};

/**
 * An object's canonical JSON; with `omit`, as if the members it names were absent (no copy is
 * made of the object to drop them). `<` on strings compares UTF-16 code units, as `sort()` does.
 */
export const canonicalObject = (value: { [key: string]: JsonValue | undefined }, omit: ReadonlySet<string> | undefined): string => {
  const keys = Object.keys(value);
  if (!isSorted(keys)) keys.sort();
  let text = '{';
  let first = true;
  for (const key of keys) {
    const member = value[key];
    if (member === undefined || omit?.has(key)) continue;
    text += `${first ? '' : ','}${quoted(key)}:${canonicalJson(member)}`;
    first = false;
  }
  return `${text}}`;
};

import type { JsonValue } from '../eventStore/eventStore.js';

/**
 * The one spelling of a JSON value that hashes and signatures are computed over (the JSON
 * Canonicalization Scheme of RFC 8785 for the values Folio stores): object members sorted by key
 * in UTF-16 code unit order, no whitespace, strings escaped as `JSON.stringify` escapes them,
 * numbers in ECMAScript's shortest round-trip form. Money and ids are decimal strings in event
 * data, so no number a hash depends on is ever rounded.
 */
export const canonicalJson = (value: JsonValue): string => {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`${value} has no canonical JSON form`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const members: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const member = value[key];
    if (member !== undefined) members.push(`${JSON.stringify(key)}:${canonicalJson(member)}`);
  }
  return `{${members.join(',')}}`;
};

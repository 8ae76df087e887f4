/**
 * What makes two requests "the same" for an idempotency key: method, path and the parsed body.
 * The body is compared as a value, not as text, so key order and whitespace do not matter while
 * any difference in a value does.
 */
import { createHash } from 'node:crypto';

const isPlainObject = (value: object): value is Record<string, unknown> => {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
};

/**
 * JSON of `value` with object keys sorted at every depth: one spelling per value. Written into one
 * string without intermediate arrays: a batch body holds a thousand objects.
 */
export const canonicalJson = (value: unknown): string => {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`${value} is not a JSON number`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    let text = '[';
    for (let index = 0; index < value.length; index++) text += (index === 0 ? '' : ',') + canonicalJson(value[index]);
    return `${text}]`;
  }
  if (typeof value === 'object' && isPlainObject(value)) {
    let text = '{';
    for (const key of Object.keys(value).sort()) {
      const member = value[key];
      if (member === undefined) continue;
      text += `${text.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalJson(member)}`;
    }
    return `${text}}`;
  }
  throw new TypeError(`a ${typeof value} is not a parsed JSON value`);
};

/** Hex sha256 of the request; an absent body counts as `null`. */
export const fingerprintRequest = (method: string, path: string, body: unknown): string =>
  createHash('sha256')
    // A JSON array keeps the part boundaries unambiguous.
    .update(JSON.stringify([method.toUpperCase(), path, canonicalJson(body)]))
    .digest('hex');

/**
 * What both search adapters share about schemas and documents: the rules a name, a schema or a
 * document must follow, the exact "wire" form a document is stored in (amounts as decimal
 * strings, keys sorted), and the checksum over that form. Sharing them is what makes the two
 * adapters accept the same inputs and compute equal checksums for equal contents.
 */
import { createHash, type Hash } from 'node:crypto';
import { ValidationError } from '../errors/folioError.js';
import { MAX_MINOR_UNITS } from '../money/money.js';
import { describeValue } from '../money/describeValue.js';
import type { EnsureIndexOptions, SearchDocument, SearchFieldType, SearchFieldValue, SearchHit, SearchSchema } from './searchIndex.js';

/** A field value as stored: an amount is its decimal string, never a JSON number. */
export type WireValue = string | string[] | null;
export type WireFields = Record<string, WireValue>;

/** A validated document in stored form. */
export interface PreparedDocument {
  id: string;
  version: bigint;
  fields: WireFields;
  /** `JSON.stringify(fields)`, keys sorted: what both the SQLite row and the checksum use. */
  fieldsJson: string;
}

const FIELD_TYPES: readonly SearchFieldType[] = ['keyword', 'text', 'amount', 'date'];
/** Field names become Elasticsearch paths and SQL string values, so no dots, quotes or spaces. */
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/** Lower case and no leading `_`, `-` or `+`: what Elasticsearch accepts as index and alias names. */
const INDEX_NAME = /^[a-z0-9][a-z0-9_-]{0,199}$/;
/** Elasticsearch refuses `_id`s longer than this many UTF-8 bytes. */
const MAX_ID_BYTES = 512;
/** Far below Lucene's 32 KiB term limit; keywords are ids, codes and references. */
const MAX_KEYWORD_BYTES = 4096;
const MAX_VALUES_PER_FIELD = 1000;
/** Lone surrogates do not survive UTF-8, so such a string would not read back as written. */
const LONE_SURROGATE = /\p{Cs}/u;
/** The UTC timestamps both Elasticsearch (`strict_date_optional_time`) and SQLite agree on, to the millisecond. */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.(\d{1,3}))?Z$/;
const MAX_VERSION = 2n ** 63n - 1n;

/** The schema's type of a field; `undefined` for any other name, `toString` and the like included. */
export const fieldTypeOf = (schema: SearchSchema, name: string): SearchFieldType | undefined =>
  Object.hasOwn(schema.fields, name) ? schema.fields[name] : undefined;

export const invalid = (path: string, message: string): ValidationError =>
  new ValidationError(`${path}: ${message}`, [{ path, message }]);

export const requireIndexName = (name: unknown, what = 'index'): string => {
  if (typeof name !== 'string' || !INDEX_NAME.test(name)) {
    throw invalid(what, `${describeValue(name)} is not a valid name (lower-case letters, digits, '_' and '-', at most 200)`);
  }
  return name;
};

/** The `loading` option of `ensureIndex`, false when not given. */
export const requireLoading = (options: EnsureIndexOptions | undefined): boolean => {
  const loading = options?.loading ?? false;
  if (typeof loading !== 'boolean') throw invalid('options.loading', `expected a boolean, got ${describeValue(loading)}`);
  return loading;
};

export const requireSchema = (schema: SearchSchema): SearchSchema => {
  const entries = Object.entries(schema?.fields ?? {});
  if (entries.length === 0) throw invalid('schema.fields', 'a schema needs at least one field');
  for (const [name, type] of entries) {
    if (!FIELD_NAME.test(name)) {
      throw invalid(`schema.fields.${name}`, 'field names are letters, digits and _, starting with a letter');
    }
    if (!FIELD_TYPES.includes(type)) throw invalid(`schema.fields.${name}`, `unknown field type ${describeValue(type)}`);
  }
  return { fields: Object.fromEntries(entries) };
};

/** Order-insensitive, so a schema read back from storage compares equal to the one declared. */
const schemaKey = (schema: SearchSchema): string =>
  JSON.stringify(Object.entries(schema.fields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

export const requireSameSchema = (index: string, existing: SearchSchema, wanted: SearchSchema): void => {
  if (schemaKey(existing) !== schemaKey(wanted)) {
    throw invalid('schema', `index ${index} already exists with a different schema (${schemaKey(existing)})`);
  }
};

const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/** Byte order of the UTF-8 encodings: how SQLite (BINARY) and Elasticsearch (keyword) sort strings. */
const compareUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** What is wrong with a string value; `undefined` when nothing is. */
const stringProblem = (value: unknown, maxBytes?: number): string | undefined => {
  if (typeof value !== 'string') return `expected a string, got ${describeValue(value)}`;
  if (LONE_SURROGATE.test(value)) return 'contains a lone UTF-16 surrogate';
  if (maxBytes !== undefined && utf8Bytes(value) > maxBytes) return `longer than ${maxBytes} UTF-8 bytes`;
  return undefined;
};

const requireString = (path: string, value: unknown, maxBytes?: number): string => {
  const problem = stringProblem(value, maxBytes);
  if (problem !== undefined) throw invalid(path, problem);
  return value as string;
};

const requireStrings = (path: string, value: unknown, maxBytes?: number): string | string[] => {
  if (!Array.isArray(value)) return requireString(path, value, maxBytes);
  if (value.length > MAX_VALUES_PER_FIELD) throw invalid(path, `more than ${MAX_VALUES_PER_FIELD} values`);
  // An item's path is built only if it is refused.
  for (let i = 0; i < value.length; i++) {
    const problem = stringProblem(value[i], maxBytes);
    if (problem !== undefined) throw invalid(`${path}[${i}]`, problem);
  }
  return [...(value as string[])];
};

export const requireKeyword = (path: string, value: unknown): string => requireString(path, value, MAX_KEYWORD_BYTES);

export const requireId = (value: unknown, path = 'id'): string => {
  const id = requireString(path, value, MAX_ID_BYTES);
  if (id.length === 0) throw invalid(path, 'must not be empty');
  return id;
};

/** Milliseconds since the epoch of a timestamp in the accepted form; throws otherwise. */
export const parseIsoUtc = (path: string, value: unknown): number => {
  if (typeof value !== 'string') throw invalid(path, `expected an ISO-8601 UTC timestamp, got ${describeValue(value)}`);
  const match = ISO_UTC.exec(value);
  const millis = match === null ? Number.NaN : Date.parse(value);
  // The round trip rejects dates that do not exist (February 30th), which Date.parse may roll over.
  const normalized = match === null ? '' : `${value.slice(0, 19)}.${(match[1] ?? '').padEnd(3, '0')}Z`;
  if (Number.isNaN(millis) || new Date(millis).toISOString() !== normalized) {
    throw invalid(path, `${describeValue(value)} is not an ISO-8601 UTC timestamp like 2024-05-01T12:00:00.000Z`);
  }
  return millis;
};

const requireAmount = (path: string, value: unknown): bigint => {
  if (typeof value !== 'bigint') throw invalid(path, `expected a bigint amount, got ${describeValue(value)}`);
  if (value > MAX_MINOR_UNITS || value < -MAX_MINOR_UNITS) {
    throw invalid(path, `amount ${value} is beyond ±${MAX_MINOR_UNITS} minor units`);
  }
  return value;
};

const toWire = (path: string, type: SearchFieldType, value: unknown): WireValue => {
  if (value === null) return null;
  switch (type) {
    case 'keyword':
      return requireStrings(path, value, MAX_KEYWORD_BYTES);
    case 'text':
      return requireStrings(path, value);
    case 'amount':
      return requireAmount(path, value).toString();
    case 'date':
      parseIsoUtc(path, value);
      return value as string;
  }
};

/** A schema's field names in sorted order: the order of a document's stored fields. */
const sortedNames = new WeakMap<SearchSchema, readonly string[]>();

const sortedNamesOf = (schema: SearchSchema): readonly string[] => {
  let names = sortedNames.get(schema);
  if (names === undefined) {
    names = Object.keys(schema.fields).sort();
    sortedNames.set(schema, names);
  }
  return names;
};

/** `error` with its path under `prefix`: fields are checked under their own names, and a full path is built only for a refusal. */
const under = (prefix: string, error: unknown): unknown => {
  if (!(error instanceof ValidationError) || error.issues.length !== 1) return error;
  const [{ path, message }] = error.issues as [{ path: string; message: string }];
  return invalid(`${prefix}${path}`, message);
};

/** Validates a document against the schema; throws `ValidationError` naming the offending field. */
const prepareDocument = (schema: SearchSchema, document: SearchDocument, at: number): PreparedDocument => {
  let id: string;
  try {
    id = requireId(document?.id);
  } catch (error) {
    throw under(`documents[${at}].`, error);
  }
  const { version } = document;
  if (typeof version !== 'bigint' || version < 0n || version > MAX_VERSION) {
    throw invalid(`documents[${at}].version`, `expected a bigint between 0 and 2^63 - 1, got ${describeValue(version)}`);
  }
  const given: Readonly<Record<string, unknown>> = document.fields ?? {};
  const names = sortedNamesOf(schema);
  let known = 0;
  for (const name of names) if (Object.hasOwn(given, name)) known += 1;
  let own = 0;
  for (const name in given) if (Object.hasOwn(given, name)) own += 1;
  if (own !== known) {
    const unknown = Object.keys(given).sort().find((name) => fieldTypeOf(schema, name) === undefined)!;
    throw invalid(`documents[${at}].fields.${unknown}`, `unknown field ${unknown}`);
  }
  const fields: WireFields = {};
  try {
    for (const name of names) {
      const value = given[name];
      if (value === undefined || !Object.hasOwn(given, name)) continue;
      fields[name] = toWire(name, schema.fields[name]!, value);
    }
  } catch (error) {
    throw under(`documents[${at}].fields.`, error);
  }
  return { id, version, fields, fieldsJson: JSON.stringify(fields) };
};

export const prepareDocuments = (schema: SearchSchema, documents: readonly SearchDocument[]): PreparedDocument[] => {
  if (!Array.isArray(documents)) throw invalid('documents', 'expected an array');
  return documents.map((document, i) => prepareDocument(schema, document, i));
};

/** The stored fields in the port's types: amounts back to bigint, arrays copied. */
const fromWire = (schema: SearchSchema, fields: Readonly<Record<string, unknown>>): Record<string, SearchFieldValue> => {
  const result: Record<string, SearchFieldValue> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (value === null) {
      result[name] = null;
    } else if (fieldTypeOf(schema, name) === 'amount') {
      result[name] = BigInt(value as string);
    } else {
      result[name] = Array.isArray(value) ? [...(value as string[])] : (value as string);
    }
  }
  return result;
};

export const toHit = (
  schema: SearchSchema,
  id: string,
  version: bigint,
  fields: Readonly<Record<string, unknown>>,
): SearchHit => ({
  id,
  version,
  fields: fromWire(schema, fields),
});

/** Wire fields with keys sorted, as `prepareDocument` writes them, whatever order storage returned. */
export const canonicalFieldsJson = (fields: Readonly<Record<string, unknown>>): string =>
  JSON.stringify(Object.fromEntries(Object.keys(fields).sort().map((name) => [name, fields[name]])));

/** Feeds documents, in id order, into the SHA-256 both adapters report as `checksum`. */
export class DocumentChecksum {
  private readonly hash: Hash = createHash('sha256');

  add(id: string, version: bigint, fieldsJson: string): void {
    this.hash.update(`[${JSON.stringify(id)},"${version}",${fieldsJson}]\n`);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/** The smallest of a keyword field's values in byte order: the key a multi-valued field sorts by. */
export const keywordSortKey = (value: WireValue | undefined): string | null => {
  if (value === null || value === undefined) return null;
  if (!Array.isArray(value)) return value;
  return value.reduce<string | null>((min, item) => (min === null || compareUtf8(item, min) < 0 ? item : min), null);
};

/** The sort key of a field in a document, as the cursor carries it: amount digits, date millis, keyword. */
export const sortKeyOf = (type: SearchFieldType, value: WireValue | undefined): string | null => {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'keyword':
      return keywordSortKey(value);
    case 'amount':
      return value as string;
    case 'date':
      return String(Date.parse(value as string));
    case 'text':
      return null;
  }
};

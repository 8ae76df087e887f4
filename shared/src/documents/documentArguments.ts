import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { isJsonObject } from '../eventStore/argumentChecks.js';
import { InvalidArgumentError } from '../eventStore/errors.js';
import type { Document, FindOptions, FoundPage, Where } from './documentStore.js';
import type { JsonObject } from '../eventStore/eventStore.js';
import { LONE_SURROGATE, prefixUpperBound } from '../text/codePointOrder.js';

/**
 * What both document store adapters share so that they accept, reject, order and page exactly
 * alike: argument checks (run before any I/O), the `find` plan, cursors and the checksum.
 */

/**
 * Collection names become SQLite table names and MongoDB collection names, and field names go
 * into SQL JSON paths and MongoDB filters: only these shapes are ever put there.
 */
const COLLECTION_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,99}$/;
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;

/**
 * The most UTF-8 bytes an id, an id prefix or a value a cursor carries may take: 1 MiB. Ids are
 * keys such as `<owner>:<sortable key>`, tens of bytes, so none comes near it, while every command
 * MongoDB is sent with them stays far below the 16 MiB it takes: a keyset filter carries a
 * cursor's value and id twice each, a document counts its `_id` twice, and `getMany` packs ids
 * into 8 MiB queries. Beyond the bound the driver would fail with its own serialisation error and
 * SQLite would answer something else again, so both adapters refuse it first.
 */
export const MAX_KEY_BYTES = 1024 * 1024;

/**
 * The most a `where` may take: 8 MiB, counting each field's name, its value's UTF-8 (8 bytes for
 * any other value) and `WHERE_BYTES_PER_FIELD` for what MongoDB's filter wraps around them. Half
 * of the 16 MiB a MongoDB command may carry, which leaves room for a cursor's values and an id
 * prefix's bounds beside it; beyond it the driver fails with its own serialisation error, so both
 * adapters refuse it first.
 */
export const MAX_WHERE_BYTES = 8 * 1024 * 1024;
/** What a field of `where` adds to MongoDB's filter besides its name and value (operators, types, lengths, an index in `$and`), rounded up. */
export const WHERE_BYTES_PER_FIELD = 64;

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

export const requireCollectionName = (name: unknown): string => {
  if (typeof name !== 'string' || !COLLECTION_NAME.test(name)) {
    throw new InvalidArgumentError(
      `collection name ${JSON.stringify(name)} is invalid (a letter, then up to 99 letters, digits, '_' or '-')`,
    );
  }
  // SQLite reserves these table names for itself.
  if (name.toLowerCase().startsWith('sqlite_')) {
    throw new InvalidArgumentError(`collection name ${name} is reserved`);
  }
  return name;
};

export const requireFieldName = (name: unknown): string => {
  if (typeof name !== 'string' || !FIELD_NAME.test(name)) {
    throw new InvalidArgumentError(
      `field name ${JSON.stringify(name)} is invalid (a letter or '_', then up to 99 letters, digits or '_')`,
    );
  }
  return name;
};

const utf8Length = (text: string): number => Buffer.byteLength(text, 'utf8');

/** Refuses `text` over `MAX_KEY_BYTES`, naming it as `argument`. */
const requireKeySize = (text: string, argument: string): void => {
  // UTF-8 takes at most 3 bytes per UTF-16 unit: shorter text needs no counting.
  if (text.length * 3 <= MAX_KEY_BYTES) return;
  const bytes = utf8Length(text);
  if (bytes > MAX_KEY_BYTES) {
    throw new InvalidArgumentError(
      `${argument} takes ${bytes} bytes of UTF-8, more than the ${MAX_KEY_BYTES} ` +
        'an id, id prefix or cursor value may take',
    );
  }
};

export const requireDocumentId = (id: unknown, argument = 'id'): string => {
  if (typeof id !== 'string') throw new InvalidArgumentError(`a document id is a string, got ${typeof id}`);
  requireKeySize(id, argument);
  return id;
};

export const requireDocumentIds = (ids: unknown): readonly string[] => {
  if (!Array.isArray(ids)) throw new InvalidArgumentError('document ids come as an array');
  ids.forEach((id: unknown, index) => requireDocumentId(id, `ids[${index}]`));
  return ids as readonly string[];
};

export type WhereValue = string | number | boolean | null;

export const requireWhere = (where: Where | undefined): [string, WhereValue][] => {
  if (where === undefined) return [];
  if (!isJsonObject(where)) throw new InvalidArgumentError('where must be an object of field values');
  let bytes = 0;
  const fields = Object.entries(where).map(([field, value]): [string, WhereValue] => {
    requireFieldName(field);
    const scalar =
      value === null ||
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value));
    if (!scalar) throw new InvalidArgumentError(`where.${field} must be a string, a finite number, a boolean or null`);
    if (field === '_id') {
      if (typeof value !== 'string') throw new InvalidArgumentError('where._id must be a string');
      requireKeySize(value, 'where._id');
    }
    bytes += WHERE_BYTES_PER_FIELD + field.length + (typeof value === 'string' ? utf8Length(value) : 8);
    return [field, value];
  });
  if (bytes > MAX_WHERE_BYTES) {
    throw new InvalidArgumentError(
      `where takes ${bytes} bytes, more than the ${MAX_WHERE_BYTES} a filter may take ` +
        `(UTF-8 of its field names and values, and ${WHERE_BYTES_PER_FIELD} a field)`,
    );
  }
  return fields;
};

export interface IndexFields {
  /** The fields as given, in order. */
  fields: string[];
  /** The indexed keys: the fields then `_id`, which breaks ties in every `find` order. */
  keys: string[];
}

export const requireIndexFields = (fields: readonly string[]): IndexFields => {
  if (!Array.isArray(fields) || fields.length === 0) {
    throw new InvalidArgumentError('an index needs at least one field');
  }
  fields.forEach(requireFieldName);
  if (new Set(fields).size !== fields.length) throw new InvalidArgumentError('an index names each field once');
  return { fields: [...fields], keys: fields.includes('_id') ? [...fields] : [...fields, '_id'] };
};

/** The only values `orderBy` fields may hold: they sort alike in SQLite and MongoDB (null < numbers < strings). */
export type SortValue = string | number | null;

export interface Order {
  field: string;
  direction: 'asc' | 'desc';
}

export interface FindPlan {
  where: [string, WhereValue][];
  /** From `idPrefix`: ids at or above `from` and, when there is a bound, below `below`. */
  idRange?: { from: string; below: string | undefined };
  order: Order;
  limit: number;
  /** The last document of the previous page: the page starts strictly after it. */
  after?: { value: SortValue; id: string };
}

const requireLimit = (limit: number | undefined): number => {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new InvalidArgumentError(`limit must be an integer from 1 to ${MAX_LIMIT}, got ${String(limit)}`);
  }
  return limit;
};

const requireOrder = (orderBy: FindOptions['orderBy']): Order => {
  if (orderBy === undefined) return { field: '_id', direction: 'asc' };
  if (orderBy.direction !== 'asc' && orderBy.direction !== 'desc') {
    throw new InvalidArgumentError(`orderBy.direction must be 'asc' or 'desc', got ${String(orderBy.direction)}`);
  }
  return { field: requireFieldName(orderBy.field), direction: orderBy.direction };
};

const isSortValue = (value: unknown): value is SortValue =>
  value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));

/** The cursor names its order, so a cursor passed with another `orderBy` is refused, not misread. */
const encodeCursor = (order: Order, value: SortValue, id: string): string =>
  Buffer.from(JSON.stringify([order.field, order.direction, value, id]), 'utf8').toString('base64url');

const decodeCursor = (cursor: unknown, order: Order): { value: SortValue; id: string } => {
  let decoded: unknown;
  try {
    if (typeof cursor !== 'string') throw new TypeError('not a string');
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (error) {
    throw new InvalidArgumentError('after is not a cursor returned by find', { cause: error });
  }
  if (
    !Array.isArray(decoded) ||
    decoded.length !== 4 ||
    typeof decoded[0] !== 'string' ||
    typeof decoded[3] !== 'string' ||
    !isSortValue(decoded[2])
  ) {
    throw new InvalidArgumentError('after is not a cursor returned by find');
  }
  const [field, direction, value, id] = decoded as [string, string, SortValue, string];
  if (field !== order.field || direction !== order.direction) {
    throw new InvalidArgumentError(
      `after is a cursor for orderBy ${field} ${direction}, not ${order.field} ${order.direction}`,
    );
  }
  // No cursor `find` returns holds more (`sortValueOf`); a forged one could.
  requireKeySize(id, 'after');
  if (typeof value === 'string') requireKeySize(value, 'after');
  return { value, id };
};

const requireIdPrefix = (prefix: unknown): string => {
  if (typeof prefix !== 'string' || prefix === '') throw new InvalidArgumentError('idPrefix is a non-empty string');
  requireKeySize(prefix, 'idPrefix');
  if (LONE_SURROGATE.test(prefix)) throw new InvalidArgumentError('idPrefix is not valid Unicode');
  return prefix;
};

export const planFind = (options: FindOptions = {}): FindPlan => {
  const order = requireOrder(options.orderBy);
  const plan: FindPlan = { where: requireWhere(options.where), order, limit: requireLimit(options.limit) };
  if (options.idPrefix !== undefined) {
    const from = requireIdPrefix(options.idPrefix);
    plan.idRange = { from, below: prefixUpperBound(from) };
  }
  if (options.after !== undefined) plan.after = decodeCursor(options.after, order);
  return plan;
};

/**
 * A document's value in the `orderBy` field, for a cursor; a missing field sorts as null, as in
 * MongoDB. A string longer than a cursor may carry is refused, so that every cursor `find`
 * returns is one it takes back.
 */
export const sortValueOf = (document: Document, field: string): SortValue => {
  const value = field === '_id' ? document._id : document[field];
  if (value === undefined) return null;
  if (!isSortValue(value)) {
    throw new InvalidArgumentError(
      `document ${document._id} holds ${JSON.stringify(value)} in orderBy field ${field}: ` +
        'only strings, numbers and null order the same in every adapter',
    );
  }
  if (typeof value === 'string') {
    requireKeySize(value, `the value in orderBy field ${field} of the page's last document`);
  }
  return value;
};

/** Builds the page from up to `limit + 1` documents in order: the extra one only says more follow. */
export const pageOf = <D extends Document>(documents: D[], plan: FindPlan): FoundPage<D> => {
  if (documents.length <= plan.limit) return { items: documents };
  const items = documents.slice(0, plan.limit);
  const last = items[items.length - 1]!;
  return { items, nextCursor: encodeCursor(plan.order, sortValueOf(last, plan.order.field), last._id) };
};

/**
 * What `JSON.stringify` writes for a `$` key, a `_bsontype` key, a lone surrogate or NUL, and for
 * lookalikes in plain strings.
 */
const MAYBE_UNSTORABLE = /"\$|"_bsontype"|\\u(?:d[89a-f]|0000)/;

/**
 * MongoDB stores documents of up to 16 MiB as BSON, and its driver refuses a write whose update
 * statement (the document, plus a filter repeating the `_id`) reaches 16 MiB: a document's size
 * counts its `_id` a second time, and 1 KiB is left for the rest of the statement.
 */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024 - 1024;

/**
 * MongoDB refuses documents nested deeper than 100 levels: the document is the first, and each
 * object or array inside one adds one.
 */
export const MAX_DOCUMENT_DEPTH = 100;

/**
 * BSON takes at most 7 bytes per byte of JSON text (a one-digit number in an array: 2 bytes of
 * JSON, up to 13 of BSON with its index for key), the `_id` counted again at most one more, and
 * UTF-8 at most 3 bytes per UTF-16 unit: JSON text shorter than this cannot exceed the size limit.
 */
const SURELY_SMALL_JSON = Math.floor(MAX_DOCUMENT_BYTES / 24);

/** Fewer objects and arrays in all than levels allowed: then no nesting can be too deep. */
const isSurelyShallow = (json: string): boolean => {
  let openings = 0;
  for (const bracket of ['{', '[']) {
    for (let at = json.indexOf(bracket); at !== -1; at = json.indexOf(bracket, at + 1)) {
      if (++openings > MAX_DOCUMENT_DEPTH) return false;
    }
  }
  return true;
};

/** The deepest nesting of objects and arrays in JSON text, read from its brackets outside strings. */
const depthOfJson = (json: string): number => {
  let depth = 0;
  let deepest = 0;
  for (let at = 0; at < json.length; at++) {
    const code = json.charCodeAt(at);
    if (code === 0x22) {
      // A string: up to its closing quote, stepping over escapes.
      for (at++; json.charCodeAt(at) !== 0x22; at++) if (json.charCodeAt(at) === 0x5c) at++;
    } else if (code === 0x7b || code === 0x5b) {
      deepest = Math.max(deepest, ++depth);
    } else if (code === 0x7d || code === 0x5d) {
      depth--;
    }
  }
  return deepest;
};

/**
 * Whether the document's objects and arrays nest deeper than `levels` (it is the first), walked on
 * the value rather than its text, which costs a fraction of reading every character. `undefined`
 * when a member has `toJSON`, whose text may nest otherwise than the value.
 */
const nestsDeeperThan = (value: object, levels: number): boolean | undefined => {
  if (levels === 0) return true;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return undefined;
  // Indexed and `for…in` loops: `Object.values` would allocate an array for every object.
  if (Array.isArray(value)) {
    for (let at = 0; at < value.length; at++) {
      const member: unknown = value[at];
      if (typeof member !== 'object' || member === null) continue;
      const deeper = nestsDeeperThan(member, levels - 1);
      if (deeper !== false) return deeper;
    }
    return false;
  }
  for (const key in value) {
    const member: unknown = (value as Record<string, unknown>)[key];
    if (typeof member !== 'object' || member === null || !Object.hasOwn(value, key)) continue;
    const deeper = nestsDeeperThan(member, levels - 1);
    if (deeper !== false) return deeper;
  }
  return false;
};

/** The size of a JSON value as BSON, as the driver writes it (integers of 32 bits in 4 bytes, other numbers in 8). */
const bsonSizeOf = (value: unknown): number => {
  if (typeof value === 'string') return 4 + utf8Length(value) + 1;
  if (typeof value === 'number') return Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31 ? 4 : 8;
  if (typeof value === 'boolean') return 1;
  if (value === null || typeof value !== 'object') return 0;
  let size = 4 + 1;
  if (Array.isArray(value)) {
    value.forEach((member, index) => {
      size += 1 + String(index).length + 1 + bsonSizeOf(member);
    });
  } else {
    for (const [key, member] of Object.entries(value)) size += 1 + utf8Length(key) + 1 + bsonSizeOf(member);
  }
  return size;
};

/**
 * Refuses a document nested deeper than `MAX_DOCUMENT_DEPTH` or larger than `MAX_DOCUMENT_BYTES`,
 * measured on its JSON text and what that parses to: what both adapters store. Only text that
 * could break a limit is measured.
 */
const requireWithinLimits = (document: JsonObject, json: string, id: string): void => {
  if (!isSurelyShallow(json) && (nestsDeeperThan(document, MAX_DOCUMENT_DEPTH) ?? depthOfJson(json) > MAX_DOCUMENT_DEPTH)) {
    throw new InvalidArgumentError(`document ${id} is nested deeper than ${MAX_DOCUMENT_DEPTH} levels`);
  }
  if (json.length <= SURELY_SMALL_JSON) return;
  const size = bsonSizeOf(JSON.parse(json)) + utf8Length(id);
  if (size > MAX_DOCUMENT_BYTES) {
    throw new InvalidArgumentError(
      `document ${id} takes ${size} bytes, more than the ${MAX_DOCUMENT_BYTES} a document may take ` +
        '(as BSON, its _id counted twice)',
    );
  }
};

/**
 * The document as JSON text, exactly what `JSON.stringify` makes of it (dates become strings,
 * undefined members vanish): both adapters store this, so they store the same thing. What
 * MongoDB would refuse (too large, too deep), read as an operator or silently alter (BSON strings
 * are UTF-8, so a lone surrogate would not come back) is refused here for both.
 */
export const serializeDocument = (document: unknown): { id: string; json: string } => {
  if (!isJsonObject(document)) throw new InvalidArgumentError('a document must be a JSON object');
  if (typeof document._id !== 'string') throw new InvalidArgumentError('a document needs a string _id');
  requireKeySize(document._id, '_id');
  let json: string;
  try {
    json = JSON.stringify(document);
  } catch (error) {
    const reason = (error as Error).message;
    throw new InvalidArgumentError(`document ${document._id} is not serializable as JSON: ${reason}`, { cause: error });
  }
  // Checked after `JSON.stringify` succeeded (so there is no cycle), by a walk: a replacer
  // function would cost a call from native code for every value. Whatever the walk refuses
  // leaves a trace in the JSON text (a key starting with `$` as `"$`, a `_bsontype` key as
  // `"_bsontype"`, a lone surrogate as the escape `\udXXX`, NUL as `\u0000`), so a text without
  // any such trace needs no walk.
  if (MAYBE_UNSTORABLE.test(json)) requireStorable(document, document._id);
  requireWithinLimits(document, json, document._id);
  return { id: document._id, json };
};

/** `serializeDocument` of each, all checked before any is written. */
export const serializeDocuments = (documents: unknown): { id: string; json: string }[] => {
  if (!Array.isArray(documents)) throw new InvalidArgumentError('documents come as an array');
  return documents.map(serializeDocument);
};

/** Walks a value as `JSON.stringify` sees it (after `toJSON`), refusing what no adapter may store. */
const requireStorable = (value: unknown, id: string, key = ''): void => {
  const seen =
    value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function'
      ? (value as { toJSON(key: string): unknown }).toJSON(key)
      : value;
  if (typeof seen === 'string') {
    if (LONE_SURROGATE.test(seen)) throw new InvalidArgumentError(`document ${id} holds a string that is not valid Unicode`);
    return;
  }
  if (seen === null || typeof seen !== 'object') return;
  if (Array.isArray(seen)) {
    for (let n = 0; n < seen.length; n++) requireStorable(seen[n], id, String(n));
    return;
  }
  for (const [name, member] of Object.entries(seen)) {
    // The driver takes an object with a `_bsontype` member for a BSON value and refuses it.
    if (name.startsWith('$') || name === '_bsontype' || name.includes('\u0000') || LONE_SURROGATE.test(name)) {
      throw new InvalidArgumentError(`field name ${JSON.stringify(name)} is not allowed in a document`);
    }
    requireStorable(member, id, name);
  }
};

/** JSON with every object's keys sorted (by UTF-16 code units), so equal values give equal text. */
export const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
};

/** The `checksum` of the port: SHA-256 (hex) over each document's canonical JSON plus a newline, in `_id` order. */
export const createChecksum = (): { add(document: unknown): void; digest(): string } => {
  const hash = createHash('sha256');
  return {
    add(document) {
      hash.update(canonicalJson(document), 'utf8');
      hash.update('\n', 'utf8');
    },
    digest: () => hash.digest('hex'),
  };
};

/**
 * Marks the async context of a running transaction: from there, starting another transaction or
 * changing collections would wait on (SQLite) or conflict with (MongoDB) the one running, so it
 * is refused instead.
 */
export const createTransactionScope = () => {
  // A holder rather than a flag: work scheduled from inside may run after the transaction ended.
  const inside = new AsyncLocalStorage<{ running: boolean }>();
  return {
    async run<T>(work: () => Promise<T>): Promise<T> {
      const transaction = { running: true };
      try {
        return await inside.run(transaction, work);
      } finally {
        transaction.running = false;
      }
    },
    refuseInside(what: string): void {
      if (inside.getStore()?.running === true) {
        throw new InvalidArgumentError(`${what} cannot run inside withTransaction: use the session, or run it after`);
      }
    },
  };
};

/** Lets a session refuse use after its transaction ended. */
export const createSessionGuard = () => {
  let open = true;
  return {
    check(): void {
      if (!open) throw new InvalidArgumentError('a DocumentSession was used after its transaction ended');
    },
    close(): void {
      open = false;
    },
  };
};

/**
 * A `SearchQuery` checked against the index's schema and reduced to what both adapters translate:
 * words, exact filters, exact ranges, a sort and a keyset position. Every rule about what a query
 * may say lives here, so both adapters reject the same queries with the same `ValidationError`.
 */
import { MAX_MINOR_UNITS } from '../money/money.js';
import { describeValue } from '../money/describeValue.js';
import {
  fieldTypeOf,
  invalid,
  parseIsoUtc,
  requireId,
  requireKeyword,
  sortKeyOf,
  type WireFields,
} from './searchDocuments.js';
import type { SearchFieldType, SearchQuery, SearchSchema } from './searchIndex.js';
import { searchWordsOf } from './searchWords.js';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;
const MAX_TEXT_CHARS = 1000;
const MAX_WORDS = 32;
/** Bounds beyond the money bound match like the bound plus one, so they stay in 64 bits without changing the answer. */
const AMOUNT_CLAMP = MAX_MINOR_UNITS + 1n;

export type Direction = 'asc' | 'desc';
export type SortableType = Exclude<SearchFieldType, 'text'>;

export interface PlannedSort {
  field: string;
  type: SortableType;
  direction: Direction;
}

/** Where the previous page ended: the sort key (null for a document without one) and id. */
export interface KeysetPosition {
  key: string | null;
  id: string;
}

export interface PlannedQuery {
  /** Each must occur as a word prefix in some text field. */
  words: string[];
  equals: { field: string; values: string[] }[];
  amountRanges: { field: string; gte?: bigint; lte?: bigint }[];
  /** Milliseconds since the epoch, inclusive. */
  dateRanges: { field: string; gte?: number; lte?: number }[];
  /** Absent: by id ascending. */
  sort?: PlannedSort;
  limit: number;
  after?: KeysetPosition;
}

interface CursorBody {
  f: string | null;
  d: Direction;
  k: string | null;
  id: string;
}

const fieldOfType = (
  schema: SearchSchema,
  path: string,
  field: string,
  allowed: readonly SearchFieldType[],
): SearchFieldType => {
  const type = fieldTypeOf(schema, field);
  if (type === undefined) throw invalid(path, `unknown field ${field}`);
  if (!allowed.includes(type)) throw invalid(path, `field ${field} is ${type}, not ${allowed.join(' or ')}`);
  return type;
};

const clampAmount = (path: string, value: unknown): bigint => {
  if (typeof value !== 'bigint') throw invalid(path, `expected a bigint amount, got ${describeValue(value)}`);
  return value > AMOUNT_CLAMP ? AMOUNT_CLAMP : value < -AMOUNT_CLAMP ? -AMOUNT_CLAMP : value;
};

const KEY_FORMS: Record<SortableType, RegExp | undefined> = {
  amount: /^-?\d{1,19}$/,
  date: /^-?\d{1,16}$/,
  keyword: undefined,
};

const decodeCursor = (cursor: unknown, sort: PlannedSort | undefined): KeysetPosition => {
  const bad = (why: string) => invalid('after', `not a cursor of this query: ${why}`);
  if (typeof cursor !== 'string') throw bad(`expected a string, got ${describeValue(cursor)}`);
  let body: Partial<CursorBody>;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<CursorBody>;
  } catch {
    throw bad('it does not decode');
  }
  if (typeof body !== 'object' || body === null) throw bad('it does not decode');
  if (body.f !== (sort?.field ?? null) || body.d !== (sort?.direction ?? 'asc')) {
    throw bad('it belongs to another sort order');
  }
  const id = requireId(body.id, 'after');
  if (sort === undefined) return { key: null, id };
  const key = body.k;
  const form = KEY_FORMS[sort.type];
  if (key !== null && (typeof key !== 'string' || (form !== undefined && !form.test(key)))) throw bad('bad sort key');
  // Every stored amount lies within the clamp: a key past it was not issued by a search.
  if (sort.type === 'amount' && key !== null && key !== undefined) {
    const amount = BigInt(key);
    if (amount > AMOUNT_CLAMP || amount < -AMOUNT_CLAMP) throw bad('bad sort key');
  }
  return { key: key ?? null, id };
};

export const encodeCursor = (plan: PlannedQuery, id: string, fields: WireFields): string => {
  const body: CursorBody = {
    f: plan.sort?.field ?? null,
    d: plan.sort?.direction ?? 'asc',
    k: plan.sort === undefined ? null : sortKeyOf(plan.sort.type, fields[plan.sort.field]),
    id,
  };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
};

/**
 * The words a search text asks for. Throws the `ValidationError` (at `text`) any index throws for
 * it, whatever its schema: a caller may check a text before there is an index to ask.
 */
export const searchTextWords = (text: unknown): string[] => {
  if (typeof text !== 'string') throw invalid('text', `expected a string, got ${describeValue(text)}`);
  if (text.length > MAX_TEXT_CHARS) throw invalid('text', `longer than ${MAX_TEXT_CHARS} characters`);
  const words = searchWordsOf(text);
  if (words.length > MAX_WORDS) throw invalid('text', `more than ${MAX_WORDS} words`);
  // Dropping text that holds no word would answer everything, which reads as matches.
  if (words.length === 0 && text.trim() !== '') {
    throw invalid('text', 'holds no letter or digit to search for: add a word or number, or leave it empty to search without text');
  }
  return words;
};

/** Throws `ValidationError` naming the field for anything the schema does not allow. */
export const planQuery = (schema: SearchSchema, query: SearchQuery): PlannedQuery => {
  const plan: PlannedQuery = { words: [], equals: [], amountRanges: [], dateRanges: [], limit: DEFAULT_LIMIT };

  if (query.text !== undefined) {
    plan.words = searchTextWords(query.text);
    if (plan.words.length > 0 && !Object.values(schema.fields).includes('text')) {
      throw invalid('text', 'this index has no text field');
    }
  }

  for (const [field, wanted] of Object.entries(query.equals ?? {})) {
    const path = `equals.${field}`;
    fieldOfType(schema, path, field, ['keyword']);
    const values = Array.isArray(wanted) ? wanted : [wanted];
    plan.equals.push({ field, values: values.map((value: unknown, i) => requireKeyword(`${path}[${i}]`, value)) });
  }

  for (const [field, range] of Object.entries(query.ranges ?? {})) {
    const path = `ranges.${field}`;
    const type = fieldOfType(schema, path, field, ['amount', 'date']);
    const gte: unknown = range?.gte;
    const lte: unknown = range?.lte;
    // No bound, no condition: not even that the field has a value.
    if (gte === undefined && lte === undefined) continue;
    if (type === 'amount') {
      plan.amountRanges.push({
        field,
        ...(gte === undefined ? {} : { gte: clampAmount(`${path}.gte`, gte) }),
        ...(lte === undefined ? {} : { lte: clampAmount(`${path}.lte`, lte) }),
      });
    } else {
      plan.dateRanges.push({
        field,
        ...(gte === undefined ? {} : { gte: parseIsoUtc(`${path}.gte`, gte) }),
        ...(lte === undefined ? {} : { lte: parseIsoUtc(`${path}.lte`, lte) }),
      });
    }
  }

  if (query.sort !== undefined) {
    const { field, direction } = query.sort;
    const type = fieldOfType(schema, 'sort.field', field, ['keyword', 'amount', 'date']) as SortableType;
    if (direction !== 'asc' && direction !== 'desc') {
      throw invalid('sort.direction', `expected asc or desc, got ${describeValue(direction)}`);
    }
    plan.sort = { field, type, direction };
  }

  if (query.limit !== undefined) {
    if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_LIMIT) {
      throw invalid('limit', `expected an integer from 1 to ${MAX_LIMIT}, got ${describeValue(query.limit)}`);
    }
    plan.limit = query.limit;
  }

  if (query.after !== undefined) plan.after = decodeCursor(query.after, plan.sort);
  return plan;
};

/**
 * Where a cursor of a search sorted by `sort` resumes. Throws the `ValidationError` (at `after`)
 * any index of `schema` throws for it: a caller may check a cursor before there is an index to ask.
 */
export const searchCursorPosition = (schema: SearchSchema, sort: SearchQuery['sort'], cursor: string): KeysetPosition =>
  decodeCursor(cursor, planQuery(schema, sort === undefined ? {} : { sort }).sort);

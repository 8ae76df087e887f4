/**
 * An event definition: the type name, the current schema version, the zod schema of the current
 * version's data, and the upcasters that lift every older version's stored JSON to the next
 * version, so events written years ago still load as today's shape. The log is never rewritten;
 * only readers learn.
 */
import { z } from 'zod';
import type { JsonObject, JsonValue } from '../eventStore/eventStore.js';
import {
  EventDefinitionError,
  type EventIssue,
  InvalidEventError,
  InvalidRecordedEventError,
} from './errors.js';

/** Schema of an event's data: decodes stored JSON into domain values and encodes them back. */
export type EventDataSchema = z.ZodType<Record<string, unknown>, Record<string, unknown>>;

export interface UpcastContext {
  readonly eventId: string;
  readonly eventType: string;
  /** The event's metadata as stored. */
  readonly metadata: JsonObject;
}

/** Lifts the stored JSON data of one version to the next. Pure; must not mutate its input. */
export type Upcaster = (data: JsonObject, context: UpcastContext) => JsonObject;

export interface EventDefinition<Type extends string = string, Schema extends EventDataSchema = EventDataSchema> {
  readonly type: Type;
  /** The current schema version, from 1. */
  readonly version: number;
  /** The data of the current version. */
  readonly schema: Schema;
  /** `upcasters[n]` turns version `n` data into version `n + 1` data, for every n below `version`. */
  readonly upcasters: Readonly<Record<number, Upcaster>>;
}

export type AnyEventDefinition = EventDefinition<string, EventDataSchema>;

/** The domain-side data of a definition's events (`bigint`s where the JSON has strings). */
export type EventDataOf<D extends AnyEventDefinition> = z.output<D['schema']>;

export interface EventDefinitionSpec<Type extends string, Schema extends EventDataSchema> {
  type: Type;
  version: number;
  schema: Schema;
  /** Required exactly for versions 1 to `version - 1`. */
  upcasters?: Readonly<Record<number, Upcaster>>;
}

export const defineEvent = <const Type extends string, Schema extends EventDataSchema>(
  spec: EventDefinitionSpec<Type, Schema>,
): EventDefinition<Type, Schema> => {
  const { type, version, schema } = spec;
  const upcasters = spec.upcasters ?? {};
  if (typeof type !== 'string' || type.length === 0 || type.startsWith('$')) {
    throw new EventDefinitionError(
      `event type must be a non-empty string not starting with "$", got ${JSON.stringify(type)}`,
    );
  }
  if (!Number.isInteger(version) || version < 1) {
    throw new EventDefinitionError(`event ${type}: version must be a positive integer, got ${version}`);
  }
  // A gap in the chain would only surface when an old event is read, long after deployment.
  const expected = Array.from({ length: version - 1 }, (_, index) => String(index + 1));
  const given = Object.keys(upcasters).sort((a, b) => Number(a) - Number(b));
  if (given.join(',') !== expected.join(',')) {
    throw new EventDefinitionError(
      `event ${type} v${version} needs upcasters from exactly versions [${expected.join(', ')}], ` +
        `got [${given.join(', ')}]`,
    );
  }
  for (const [from, upcaster] of Object.entries(upcasters)) {
    if (typeof upcaster !== 'function') {
      throw new EventDefinitionError(`event ${type}: upcaster from v${from} is not a function`);
    }
  }
  return Object.freeze({ type, version, schema, upcasters: Object.freeze({ ...upcasters }) });
};

/** Encodes current-version domain data into the JSON object the store keeps. */
export const encodeEventData = <D extends AnyEventDefinition>(definition: D, data: EventDataOf<D>): JsonObject => {
  let result: ReturnType<EventDataSchema['safeEncode']>;
  try {
    result = definition.schema.safeEncode(data);
  } catch (error) {
    // zod throws (rather than reporting issues) when a schema has a one-way transform.
    throw new EventDefinitionError(`event ${definition.type}: its schema cannot encode data: ${messageOf(error)}`, {
      cause: error,
    });
  }
  if (!result.success) {
    throw new InvalidEventError(definition.type, 'data does not match its schema', issuesOf(result.error, 'data'));
  }
  const json = toJson(result.data, 'data');
  if (!json.ok) throw new InvalidEventError(definition.type, 'data is not JSON', [json.issue]);
  return json.value as JsonObject;
};

/**
 * Encodes current-version data that this process built itself from input already validated at
 * its boundary (what deciders and processes emit), without the zod pass of `encodeEventData`:
 * that pass re-checks what the code just constructed and was the largest cost of an append.
 * The schemas' one codec, `bigintString`, is applied (a bigint becomes its decimal string);
 * anything else that is not JSON is still refused, and every event is validated in full when it
 * is read back. Data from outside goes through `encodeEventData`.
 */
export const encodeTrustedEventData = (definition: AnyEventDefinition, data: unknown): JsonObject => {
  if (!isPlainObject(data)) throw new InvalidEventError(definition.type, 'data is not an object');
  const json = toTrustedJson(data);
  if (json instanceof NotJson) {
    throw new InvalidEventError(definition.type, 'data is not JSON', [
      { path: ['data', ...json.reversedPath.reverse()].join('.'), message: json.message },
    ]);
  }
  return json as JsonObject;
};

/** Where trusted data is not JSON; its path is built only on the way out of a failure. */
class NotJson {
  readonly reversedPath: string[] = [];
  constructor(readonly message: string) {}
  at(key: string | number): NotJson {
    this.reversedPath.push(String(key));
    return this;
  }
}

/**
 * `value` with bigints as decimal strings and `undefined` members dropped. A subtree that needs
 * neither is returned as it is, not copied: most of an event's data is plain JSON already.
 */
const toTrustedJson = (value: unknown): JsonValue | NotJson => {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'number':
      return Number.isFinite(value) ? value : new NotJson(`${value} is not a JSON number`);
    case 'object':
      break;
    default:
      return new NotJson(`a ${typeof value} is not JSON`);
  }
  if (value === null) return null;
  if (Array.isArray(value)) {
    let items: JsonValue[] | undefined;
    for (let index = 0; index < value.length; index++) {
      const item: unknown = value[index];
      if (item === undefined) return new NotJson('undefined is not JSON').at(index);
      const converted = toTrustedJson(item);
      if (converted instanceof NotJson) return converted.at(index);
      if (items === undefined && converted !== item) items = value.slice(0, index) as JsonValue[];
      items?.push(converted);
    }
    return items ?? (value as JsonValue[]);
  }
  if (!isPlainObject(value)) return new NotJson(`a ${value.constructor?.name ?? 'object'} is not JSON`);
  let members: JsonObject | undefined;
  for (const key in value) {
    const member = value[key];
    const converted = member === undefined ? undefined : toTrustedJson(member);
    if (converted instanceof NotJson) return converted.at(key);
    if (members === undefined && (converted !== member || member === undefined)) {
      // The first member that changes or goes: copy the ones before it as they are.
      members = {};
      for (const earlier in value) {
        if (earlier === key) break;
        members[earlier] = value[earlier] as JsonValue;
      }
    }
    if (members !== undefined && converted !== undefined) members[key] = converted;
  }
  return members ?? (value as JsonObject);
};

/** Upcasts stored data of `version` to the definition's current version, then validates and decodes it. */
export const decodeEventData = <D extends AnyEventDefinition>(
  definition: D,
  version: number,
  data: JsonObject,
  context: UpcastContext,
): EventDataOf<D> => {
  const fail = (problem: string, issues: readonly EventIssue[] = [], cause?: unknown): never => {
    throw new InvalidRecordedEventError(
      context.eventId,
      definition.type,
      version,
      problem,
      issues,
      cause === undefined ? undefined : { cause },
    );
  };
  // Upcasters are meant to be pure, but the recorded event may be shared with other readers.
  let current = version < definition.version ? structuredClone(data) : data;
  for (let from = version; from < definition.version; from += 1) {
    const upcaster = definition.upcasters[from];
    if (upcaster === undefined) return fail(`has no upcaster from v${from}`);
    let next: unknown;
    try {
      next = upcaster(current, context);
    } catch (error) {
      return fail(`could not be upcast from v${from} to v${from + 1}: ${messageOf(error)}`, [], error);
    }
    if (!isPlainObject(next)) return fail(`upcaster from v${from} to v${from + 1} did not return an object`);
    current = next as JsonObject;
  }
  const result = definition.schema.safeParse(current);
  if (!result.success) {
    const after = version < definition.version ? ` after upcasting to v${definition.version}` : '';
    return fail(`has invalid data${after}`, issuesOf(result.error, 'data'));
  }
  return result.data as EventDataOf<D>;
};

/** zod issues as Folio issues, with dotted paths under `root` (`data.postings.0.amount`). */
export const issuesOf = (error: z.ZodError, root: string): EventIssue[] =>
  error.issues.map((issue) => ({
    path: [root, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));

type JsonResult = { ok: true; value: JsonValue } | { ok: false; issue: EventIssue };

/**
 * `value` as the store will give it back, or the first place it is not JSON. Object members that
 * are `undefined` are dropped, as `JSON.stringify` would; anything JSON would silently change
 * (a `bigint`, a `Date`, `NaN`, an `undefined` array element) is refused instead.
 */
export const toJson = (value: unknown, path: string): JsonResult => {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return { ok: true, value };
  if (typeof value === 'number') {
    return Number.isFinite(value) ? { ok: true, value } : notJson(path, `${value} is not a JSON number`);
  }
  if (Array.isArray(value)) {
    const items: JsonValue[] = [];
    for (const [index, item] of value.entries()) {
      if (item === undefined) return notJson(`${path}.${index}`, 'undefined is not JSON');
      const converted = toJson(item, `${path}.${index}`);
      if (!converted.ok) return converted;
      items.push(converted.value);
    }
    return { ok: true, value: items };
  }
  if (isPlainObject(value)) {
    const members: JsonObject = {};
    for (const [key, member] of Object.entries(value)) {
      if (member === undefined) continue;
      const converted = toJson(member, `${path}.${key}`);
      if (!converted.ok) return converted;
      members[key] = converted.value;
    }
    return { ok: true, value: members };
  }
  const kind = typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value;
  return notJson(path, `a ${kind} is not JSON${typeof value === 'bigint' ? ' (encode it with bigintString)' : ''}`);
};

const notJson = (path: string, message: string): JsonResult => ({ ok: false, issue: { path, message } });

export const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
};

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

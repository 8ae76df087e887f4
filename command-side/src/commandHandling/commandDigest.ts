import { hash } from 'node:crypto';
import { canonicalJson, type JsonValue } from '@folio/shared';

/**
 * What a command asks, as the handler compares a retry with the command recorded under its id.
 * By default the command without what each run stamps on it: its business time (`at`) and the
 * provider callback that brought the news (`callbackEventId`). A retry asks for the same thing at
 * another moment, and so does another writer acting on another delivery of the same news (a
 * provider reporting one capture under two event ids).
 */
export const withoutRunStamps = (command: unknown): unknown => {
  if (command === null || typeof command !== 'object' || !('at' in command || 'callbackEventId' in command)) return command;
  const { at: _at, callbackEventId: _callbackEventId, ...asked } = command as { at?: unknown; callbackEventId?: unknown };
  return asked;
};

/** The value as JSON: bigints (money) as decimal strings, undefined members dropped. */
const toJsonValue = (value: unknown): JsonValue => {
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'string':
    case 'number':
    case 'boolean':
      return value;
  }
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toJsonValue);
  const object: { [key: string]: JsonValue } = {};
  for (const [key, member] of Object.entries(value as object)) {
    if (member !== undefined) object[key] = toJsonValue(member);
  }
  return object;
};

/** Lowercase hex SHA-256 of the canonical JSON (RFC 8785) of what the command asks. */
export const commandDigestOf = (asked: unknown): string => hash('sha256', canonicalJson(toJsonValue(asked)), 'hex');

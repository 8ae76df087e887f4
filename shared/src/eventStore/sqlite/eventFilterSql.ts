import { LONE_SURROGATE, prefixUpperBound } from '../../text/codePointOrder.js';
import type { EventFilter } from '../eventStore.js';

/** A filter as an SQL condition on `events` rows, with its parameters in the order they appear. */
export interface FilterCondition {
  sql: string;
  params: string[];
}

/**
 * `column` starts with one of `prefixes`, as ranges in BINARY (UTF-8 byte) order, which for valid
 * Unicode agrees with `startsWith`; `undefined` for a prefix with a lone surrogate, which has no
 * exact UTF-8 form. The unary `+` keeps SQLite from answering by the stream index: a read of
 * `$all` walks the log in position order.
 */
const startsWithAny = (column: string, prefixes: readonly string[], params: string[]): string | undefined => {
  if (prefixes.some((prefix) => LONE_SURROGATE.test(prefix))) return undefined;
  if (prefixes.length === 0) return '0';
  const ranges = prefixes.map((prefix) => {
    params.push(prefix);
    const below = prefixUpperBound(prefix);
    if (below === undefined) return `+${column} >= ?`;
    params.push(below);
    return `(+${column} >= ? AND +${column} < ?)`;
  });
  return `(${ranges.join(' OR ')})`;
};

/**
 * The condition that admits exactly the rows `filterAdmits` admits, so a read of `$all` leaves the
 * others in SQLite; `undefined` when there is no filter, or it cannot be expressed exactly (the
 * read then filters the rows itself).
 */
export const filterConditionOf = (filter: EventFilter | undefined): FilterCondition | undefined => {
  if (filter === undefined) return undefined;
  const params: string[] = [];
  // System event types start with `$`, and `%` is the character after it.
  const terms: string[] = filter.excludeSystemEvents ? [`NOT (+type >= '$' AND +type < '%')`] : [];
  for (const [column, prefixes] of [
    ['stream_name', filter.streamNamePrefixes],
    ['type', filter.eventTypePrefixes],
  ] as const) {
    if (prefixes === undefined) continue;
    const term = startsWithAny(column, prefixes, params);
    if (term === undefined) return undefined;
    terms.push(term);
  }
  return terms.length === 0 ? undefined : { sql: terms.join(' AND '), params };
};

import { statementRowSchema } from '@folio/shared';
import { canonicalJson } from '../canonicalJson.js';
import type { ParsedRow } from './parsedStatement.js';

/**
 * A row that no reference of its own identifies, held until all its peers are read: its key is its
 * tuple, a separator and its ordinal among the rows of the same tuple.
 */
export interface PeerRow {
  /** What the row shares with its peers: the key's prefix. */
  tuple: string;
  /** What else describes the row, amounts aside: it orders the peers before their whole content does. */
  traits: readonly string[];
  parsed: Omit<ParsedRow, 'rowKey'>;
}

const textOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The row's content without its line, comparable as text. */
const contentOf = ({ row }: Omit<ParsedRow, 'rowKey'>): string => {
  const { line: _line, ...content } = statementRowSchema.encode(row);
  return canonicalJson(content);
};

/**
 * Keys rows in the order given: a row keyed already keeps its key; a peer row is numbered among the
 * rows of its tuple in the order of their traits, then of their content, never of their lines. A
 * file that delivers the same rows in another order gives them the same keys; two identical rows
 * stay two rows; a corrected amount keeps its row's ordinal unless peers alike in all else share it.
 * The separator tells these keys from those a format numbered otherwise before.
 */
export const keyRows = (rows: readonly (ParsedRow | PeerRow)[], separator: '#' | '~'): ParsedRow[] => {
  const peers = new Map<string, { row: PeerRow; order: string }[]>();
  for (const row of rows) {
    if ('rowKey' in row) continue;
    const group = peers.get(row.tuple) ?? [];
    group.push({ row, order: canonicalJson([row.traits, contentOf(row.parsed)]) });
    peers.set(row.tuple, group);
  }
  const keys = new Map<PeerRow, string>();
  for (const [tuple, group] of peers) {
    group.sort((a, b) => textOrder(a.order, b.order));
    group.forEach(({ row }, index) => keys.set(row, `${tuple}${separator}${index + 1}`));
  }
  return rows.map((row) => ('rowKey' in row ? row : { rowKey: keys.get(row) as string, ...row.parsed }));
};

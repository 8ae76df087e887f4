import type { StatementFormat, StatementInfo, StatementRow } from '@folio/shared';

/** A row as an importer read it: its identity, the statement it belongs to, and its content. */
export interface ParsedRow {
  rowKey: string;
  statementId?: string;
  row: StatementRow;
  /**
   * The key the previous version gave the row, by its place in its statement, where the key above
   * numbers it otherwise; with the statement it counted that place in. A statement imported before
   * keeps such keys (the import decides), so that it is not restated or counted twice.
   */
  positional?: { statement: string; rowKey: string };
}

/** A statement's own facts; the import adds the totals of its rows. */
export type ParsedStatementInfo = Omit<StatementInfo, 'rowTotals'>;

/** What an importer yields while it reads: rows as they come, each statement once it is complete. */
export type ParsedItem = { kind: 'row'; row: ParsedRow } | { kind: 'statement'; statement: ParsedStatementInfo };

/**
 * Reads one format from the file's text (decoded, BOM removed), chunk by chunk. It yields only
 * valid items and, when the file breaks its format anywhere, throws `MalformedStatementError`
 * before it finishes: a caller that wants all or nothing collects everything first.
 */
export interface StatementImporter {
  readonly format: StatementFormat;
  parse(text: AsyncIterable<string>): AsyncGenerator<ParsedItem>;
}

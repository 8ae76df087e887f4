import { Readable, pipeline } from 'node:stream';
import type { StatementFormat } from '@folio/shared';
import { CsvError, parse } from 'csv-parse';
import { MalformedStatementError } from './malformedStatementError.js';

export interface CsvRecord {
  /** 1-based line where the record starts. */
  line: number;
  fields: string[];
}

export interface CsvOptions {
  delimiter?: string;
}

/** Line breaks inside a record's quoted fields, counted the way the parser counts lines: CR and LF each. */
const breaksInside = (fields: readonly string[]): number =>
  fields.reduce((count, field) => count + (field.match(/[\r\n]/g)?.length ?? 0), 0);

/** CRLFs inside a record's quoted fields: the parser counts each as two lines of the file, where it is one. */
const crlfsInside = (fields: readonly string[]): number =>
  fields.reduce((count, field) => count + (field.match(/\r\n/g)?.length ?? 0), 0);

/**
 * The records of a CSV text, streamed. Quoting follows RFC 4180 as csv-parse reads it; empty lines
 * are skipped; a broken quote rejects the file at its line.
 */
export async function* csvRecords(text: AsyncIterable<string>, format: StatementFormat, options: CsvOptions = {}): AsyncGenerator<CsvRecord> {
  const parser = parse({
    bom: true,
    info: true,
    delimiter: options.delimiter ?? ',',
    // A lone CR ends a line too (classic Mac exports): read as one, such a file would be a header and nothing else.
    record_delimiter: ['\r\n', '\n', '\r'],
    relax_column_count: true,
    skip_empty_lines: true,
  });
  // A failing source (an upload cut off at its size limit) fails the parser, and so this iteration.
  pipeline(Readable.from(text), parser, () => {});
  let overcounted = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      yield { line: info.lines - breaksInside(record) - overcounted, fields: record };
      overcounted += crlfsInside(record);
    }
  } catch (error) {
    if (error instanceof CsvError) {
      const line = typeof error['lines'] === 'number' ? error['lines'] - overcounted : 1;
      throw new MalformedStatementError(format, [{ line, reason: `not valid CSV: ${error.message.replace(/ at line \d+/, '')}` }]);
    }
    throw error;
  }
}

/** Header names compare trimmed, case-insensitively and with runs of spaces as one. */
export const normaliseColumnName = (name: string): string => name.trim().replace(/\s+/g, ' ').toLowerCase();

/**
 * A header line: finds columns by name, in whatever order the file puts them. `columns` maps each
 * name the importer knows (as it spells it) to whether the file must have it.
 */
export class CsvHeader<Name extends string> {
  private readonly index = new Map<Name, number>();

  constructor(
    readonly line: number,
    fields: readonly string[],
    columns: Readonly<Record<Name, boolean>>,
    fail: (issue: { line: number; column?: string; reason: string }) => never,
  ) {
    const positions = new Map<string, number>();
    fields.forEach((field, position) => {
      const name = normaliseColumnName(field);
      if (name === '') return;
      if (positions.has(name)) fail({ line, column: field.trim(), reason: 'the header names this column twice' });
      positions.set(name, position);
    });
    for (const [name, required] of Object.entries(columns) as [Name, boolean][]) {
      const position = positions.get(normaliseColumnName(name));
      if (position !== undefined) this.index.set(name, position);
      else if (required) fail({ line, column: name, reason: `the header has no ${JSON.stringify(name)} column` });
    }
    this.width = fields.length;
  }

  /** How many fields the header has, and so every record must have. */
  readonly width: number;

  has(name: Name): boolean {
    return this.index.has(name);
  }

  /** The record's values of the known columns, trimmed; absent columns are left out. */
  read(fields: readonly string[]): Partial<Record<Name, string>> {
    const values: Partial<Record<Name, string>> = {};
    for (const [name, position] of this.index) values[name] = (fields[position] ?? '').trim();
    return values;
  }
}

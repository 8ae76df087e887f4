import { createReadStream, readFileSync } from 'node:fs';
import { expect } from 'chai';
import type { ParsedRow, ParsedStatementInfo } from '../../src/statements/importers/parsedStatement.js';
import { MalformedStatementError } from '../../src/statements/importers/malformedStatementError.js';
import { chooseImporter, type ImporterChoice } from '../../src/statements/importers/statementImporters.js';
import { decodeStatementText } from '../../src/statements/importers/statementText.js';

/** The sample files live beside the test sources, not in `dist`. */
export const samplePath = (name: string): string =>
  new URL(`../../../test/statements/samples/${name}`, import.meta.url).pathname;

export const sampleBytes = (name: string): Buffer => readFileSync(samplePath(name));

export const sampleText = (name: string): string => sampleBytes(name).toString('utf8');

export interface ParsedFile {
  rows: ParsedRow[];
  statements: ParsedStatementInfo[];
}

const chunksOf = async function* (content: string | Buffer, chunkSize: number): AsyncGenerator<Uint8Array> {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  for (let at = 0; at < bytes.length; at += chunkSize) yield bytes.subarray(at, at + chunkSize);
};

/**
 * Parses a sample (a file name under samples/) or inline text with the importer of `choice`.
 * Inline text is fed in small chunks, so values split across chunks are exercised too.
 */
export const parseStatement = async (choice: ImporterChoice, source: { sample: string } | { text: string | Buffer }): Promise<ParsedFile> => {
  const importer = chooseImporter(choice);
  const bytes = 'sample' in source ? createReadStream(samplePath(source.sample)) : chunksOf(source.text, 7);
  const file: ParsedFile = { rows: [], statements: [] };
  for await (const item of importer.parse(decodeStatementText(bytes, importer.format))) {
    if (item.kind === 'row') file.rows.push(item.row);
    else file.statements.push(item.statement);
  }
  return file;
};

/** Parses expecting a rejection, and returns it. */
export const rejectionOf = async (choice: ImporterChoice, source: { sample: string } | { text: string | Buffer }): Promise<MalformedStatementError> => {
  try {
    await parseStatement(choice, source);
  } catch (error) {
    expect(error).to.be.instanceOf(MalformedStatementError);
    return error as MalformedStatementError;
  }
  expect.fail('the file was accepted');
};

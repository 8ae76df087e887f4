import type { StatementFormat } from '@folio/shared';
import { MalformedStatementError } from './malformedStatementError.js';

/**
 * The file's bytes as text, chunk by chunk: UTF-8, with a leading byte order mark dropped (PayPal
 * and spreadsheet exports write one). Invalid UTF-8 rejects the file at the line it occurs on.
 */
export async function* decodeStatementText(bytes: AsyncIterable<Uint8Array>, format: StatementFormat): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let line = 1;
  const decode = (chunk?: Uint8Array): string => {
    try {
      return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
    } catch {
      throw new MalformedStatementError(format, [{ line, reason: 'the file is not valid UTF-8 text' }]);
    }
  };
  for await (const chunk of bytes) {
    const text = decode(chunk);
    for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) line += 1;
    if (text !== '') yield text;
  }
  const rest = decode();
  if (rest !== '') yield rest;
}

/** Splits text chunks into lines (without their `\r\n` or `\n`), numbered from 1. */
export async function* statementLines(text: AsyncIterable<string>): AsyncGenerator<{ line: number; text: string }> {
  let pending = '';
  let line = 0;
  for await (const chunk of text) {
    pending += chunk;
    let end = pending.indexOf('\n');
    while (end !== -1) {
      line += 1;
      yield { line, text: pending.slice(0, end).replace(/\r$/, '') };
      pending = pending.slice(end + 1);
      end = pending.indexOf('\n');
    }
  }
  if (pending !== '') yield { line: line + 1, text: pending.replace(/\r$/, '') };
}

import { isUtf8 } from 'node:buffer';
import type { StatementFormat } from '@folio/shared';
import { MalformedStatementError } from './malformedStatementError.js';

/**
 * The file's bytes as text, chunk by chunk: UTF-8, with a leading byte order mark dropped (PayPal
 * and spreadsheet exports write one). Invalid UTF-8 rejects the file at the line it occurs on.
 */
export async function* decodeStatementText(bytes: AsyncIterable<Uint8Array>, format: StatementFormat): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let line = 1;
  let tail: Uint8Array = new Uint8Array(0);
  const decode = (chunk?: Uint8Array): string => {
    try {
      return chunk === undefined ? decoder.decode() : decoder.decode(chunk, { stream: true });
    } catch {
      const at = chunk === undefined ? line : line + linesBeforeInvalidUtf8(Buffer.concat([tail, chunk]));
      throw new MalformedStatementError(format, [{ line: at, reason: 'the file is not valid UTF-8 text' }]);
    }
  };
  for await (const chunk of bytes) {
    const text = decode(chunk);
    for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) line += 1;
    tail = lastCharacterOf(chunk);
    if (text !== '') yield text;
  }
  const rest = decode();
  if (rest !== '') yield rest;
}

/**
 * The end of a chunk from the start of its last character, which may continue into the next
 * chunk; nothing when the chunk ends a line.
 */
const lastCharacterOf = (chunk: Uint8Array): Uint8Array => {
  let at = chunk.length;
  while (at > 0 && chunk.length - at < 3 && ((chunk[at - 1] as number) & 0xc0) === 0x80) at -= 1;
  if (at > 0 && chunk[at - 1] !== 0x0a) at -= 1;
  return chunk.subarray(at);
};

/**
 * Line breaks before the line of the first invalid UTF-8 in `bytes`, which start on a character
 * boundary. A line feed is never part of a multi-byte character, so each line is checked alone.
 */
const linesBeforeInvalidUtf8 = (bytes: Buffer): number => {
  let breaks = 0;
  for (let start = 0, end = bytes.indexOf(0x0a); end !== -1; start = end + 1, end = bytes.indexOf(0x0a, start)) {
    if (!isUtf8(bytes.subarray(start, end))) return breaks;
    breaks += 1;
  }
  return breaks;
};

/**
 * Splits text chunks into lines (without their `\r\n`, `\n` or lone `\r`: classic Mac exports end
 * lines with a CR alone), numbered from 1.
 */
export async function* statementLines(text: AsyncIterable<string>): AsyncGenerator<{ line: number; text: string }> {
  let pending = '';
  /** The last chunk ended in a CR, which `pending` leaves out: a line break, whether or not an LF follows. */
  let carriageReturn = false;
  let line = 0;
  for await (const chunk of text) {
    if (chunk === '') continue;
    let start = 0;
    if (carriageReturn) {
      line += 1;
      yield { line, text: pending };
      pending = '';
      carriageReturn = false;
      if (chunk.startsWith('\n')) start = 1;
    }
    // Only the new chunk is searched: rescanning a long unfinished line with every chunk is quadratic.
    const breaks = /\r\n|\r|\n/g;
    breaks.lastIndex = start;
    for (let found = breaks.exec(chunk); found !== null; found = breaks.exec(chunk)) {
      if (found[0] === '\r' && found.index === chunk.length - 1) {
        // Perhaps the first half of a CRLF: the next chunk tells.
        carriageReturn = true;
        pending += chunk.slice(start, found.index);
        start = chunk.length;
        break;
      }
      line += 1;
      yield { line, text: pending + chunk.slice(start, found.index) };
      pending = '';
      start = found.index + found[0].length;
    }
    pending += chunk.slice(start);
  }
  if (pending !== '' || carriageReturn) yield { line: line + 1, text: pending };
}

import { PayloadTooLargeError, UnsupportedMediaTypeError, type StatementFormat } from '@folio/shared';
import type { Request } from 'express';

/** A statement file is a day or a batch of a provider's activity: tens of megabytes at most. */
export const DEFAULT_STATEMENT_UPLOAD_LIMIT = 32 * 1024 * 1024;

const MEDIA_TYPES: Readonly<Record<StatementFormat, readonly string[]>> = {
  'stripe-balance': ['text/csv', 'text/plain'],
  'paypal-stl': ['text/csv', 'text/plain'],
  'adyen-sdr': ['text/csv', 'text/plain'],
  csv: ['text/csv', 'text/plain'],
  camt053: ['application/xml', 'text/xml'],
  mt940: ['text/plain'],
};

const UTF8_CHARSETS = new Set(['utf-8', 'utf8', 'us-ascii']);

/**
 * Checks an upload's headers before its body is read: a media type the format is written in, a
 * UTF-8 (or ASCII) charset, no content encoding, and a declared length within the limit.
 */
export const checkUpload = (request: Request, format: StatementFormat | undefined, limitBytes: number): void => {
  const contentType = request.headers['content-type'];
  const [mediaType = '', ...parameters] = (contentType ?? '').split(';').map((part) => part.trim().toLowerCase());
  const accepted = format === undefined ? [...new Set(Object.values(MEDIA_TYPES).flat())] : MEDIA_TYPES[format];
  if (!accepted.includes(mediaType)) {
    const got = contentType === undefined ? 'no Content-Type' : `Content-Type ${JSON.stringify(contentType)}`;
    throw new UnsupportedMediaTypeError(`a ${format ?? 'statement'} file is sent as ${accepted.join(' or ')}, got ${got}`, accepted);
  }
  const charset = parameters.find((parameter) => parameter.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  if (charset !== undefined && !UTF8_CHARSETS.has(charset)) {
    throw new UnsupportedMediaTypeError(`statement files are read as UTF-8, got charset ${JSON.stringify(charset)}`, accepted);
  }
  const encoding = request.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    throw new UnsupportedMediaTypeError(`statement uploads are not compressed, got Content-Encoding ${JSON.stringify(encoding)}`, accepted);
  }
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limitBytes) throw new PayloadTooLargeError(`a statement file is at most ${limitBytes} bytes, this one declares ${declared}`, limitBytes);
};

/** The request body as it arrives, cut off with 413 once it passes the limit. */
export async function* uploadBody(request: Request, limitBytes: number): AsyncGenerator<Uint8Array> {
  let received = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > limitBytes) throw new PayloadTooLargeError(`a statement file is at most ${limitBytes} bytes`, limitBytes);
    yield chunk;
  }
}

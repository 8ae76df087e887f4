/**
 * Requests Node's HTTP parser refuses before express sees them (a CR or LF smuggled into a
 * header, an invalid header name, oversized headers) still get a problem document, not a bare
 * status line.
 */
import type { Server } from 'node:http';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_PREFIX } from './problemDetails.js';

const answer = (status: number, slug: string, title: string, detail: string): string => {
  const body = JSON.stringify({ type: `${PROBLEM_TYPE_PREFIX}${slug}`, title, status, detail, instance: '/' });
  return [
    `HTTP/1.1 ${status} ${title}`,
    `Content-Type: ${PROBLEM_CONTENT_TYPE}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
};

export const answerMalformedRequests = (server: Server): void => {
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (socket.writable && error.code !== 'ECONNRESET') {
      socket.end(
        error.code === 'HPE_HEADER_OVERFLOW'
          ? answer(431, 'request-header-fields-too-large', 'Request header fields too large', 'the request headers are too large')
          : answer(400, 'malformed-request', 'Malformed request', 'the request is not valid HTTP/1.1 (a header name or value holds characters it may not)'),
      );
      return;
    }
    socket.destroy();
  });
};

import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export interface TestServer {
  url: string;
  close(): Promise<void>;
}

/** Serves `app` on a free port of the loopback interface. */
export async function listen(app: Express): Promise<TestServer> {
  const server = await new Promise<ReturnType<Express['listen']>>((resolve, reject) => {
    const started = app.listen(0, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(started)));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

export interface RawResponse {
  status: number;
  contentType: string | undefined;
  body: unknown;
}

/**
 * A request with exactly the headers given: `fetch` adds its own Content-Type and
 * Content-Length, and these tests need bodies without them (chunked, no media type).
 */
export function rawRequest(
  url: string,
  options: { method: string; headers?: Record<string, string>; chunks?: readonly (string | Buffer)[] },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(url, { method: options.method, headers: options.headers ?? {} }, (response) => {
      const received: Buffer[] = [];
      response.on('data', (chunk: Buffer) => received.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(received).toString('utf8');
        resolve({
          status: response.statusCode ?? 0,
          contentType: response.headers['content-type'],
          body: text === '' ? undefined : JSON.parse(text),
        });
      });
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    for (const chunk of options.chunks ?? []) outgoing.write(chunk);
    outgoing.end();
  });
}

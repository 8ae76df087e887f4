import type { Express } from 'express';

export interface ServeOptions {
  app: Express;
  port: number;
  host: string;
  /** Names the process in its log lines. */
  service: string;
  /** Extra fields of the "listening" log line. */
  describe?: Record<string, unknown>;
  /** Releases the process's resources once no request is in flight any more. */
  stop: () => Promise<void>;
}

/**
 * Listens until SIGINT or SIGTERM, then stops accepting connections, lets in-flight requests
 * finish, runs `stop` (which flushes and closes the stores) and exits.
 */
export const serveUntilSignalled = ({ app, port, host, service, describe = {}, stop }: ServeOptions): void => {
  const server = app.listen(port, host, () => {
    const address = server.address();
    const boundPort = typeof address === 'object' && address !== null ? address.port : port;
    console.log(JSON.stringify({ msg: `${service} listening`, url: `http://localhost:${boundPort}`, port: boundPort, ...describe }));
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(JSON.stringify({ msg: `${service} stopping`, signal }));
    server.close(() => {
      stop().then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(JSON.stringify({ msg: `${service} failed to stop cleanly`, error: (error as Error).message }));
          process.exit(1);
        },
      );
    });
    server.closeIdleConnections();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
};

import { beginDraining } from './draining.js';
import { answerMalformedRequests } from './malformedRequests.js';
import type { Express } from 'express';
import type { Logger } from '../observability/logger.js';

export interface ServeOptions {
  app: Express;
  port: number;
  host: string;
  /** Names the process in its log lines. */
  service: string;
  logger: Logger;
  /** Extra fields of the "listening" log line. */
  describe?: Record<string, unknown>;
  /** Called once the server listens, with its URL and port. */
  onListening?: (url: string, port: number) => void;
  /** Releases the process's resources once no request is in flight any more. */
  stop: () => Promise<void>;
  /**
   * How long after the signal the process still takes new connections, answering readiness with
   * 503, before it stops accepting: the time a load balancer needs to see it unready and send
   * traffic elsewhere. A second signal ends it at once.
   */
  shutdownDelayMs?: number;
  /** How long in-flight requests may take to finish before their connections are cut. */
  drainTimeoutMs?: number;
  /** How long `stop` may take before the process exits without it: a store that does not answer must not hold it forever. */
  stopTimeoutMs?: number;
}

/**
 * Listens until SIGINT or SIGTERM, then answers readiness with 503 (`beginDraining`), keeps
 * serving for `shutdownDelayMs`, stops accepting connections, lets in-flight requests finish, runs
 * `stop` (which flushes and closes the stores) and exits: with an error when `stop` fails or has
 * not ended within `stopTimeoutMs`.
 */
export const serveUntilSignalled = ({
  app,
  port,
  host,
  service,
  logger,
  describe = {},
  onListening,
  stop,
  shutdownDelayMs = 0,
  drainTimeoutMs = 20_000,
  stopTimeoutMs = 10_000,
}: ServeOptions): void => {
  const server = app.listen(port, host, () => {
    const address = server.address();
    const boundPort = typeof address === 'object' && address !== null ? address.port : port;
    const url = `http://localhost:${boundPort}`;
    logger.info({ url, port: boundPort, ...describe }, `${service} listening`);
    onListening?.(url, boundPort);
  });
  answerMalformedRequests(server);
  let stopping = false;
  let delayed: NodeJS.Timeout | undefined;
  const shutdown = (signal: string) => {
    if (stopping) {
      if (delayed !== undefined) {
        logger.info({ signal }, `${service} stopping at once`);
        clearTimeout(delayed);
        closeListener();
      }
      return;
    }
    stopping = true;
    beginDraining(app);
    logger.info({ signal, ...(shutdownDelayMs > 0 ? { shutdownDelayMs } : {}) }, `${service} stopping`);
    if (shutdownDelayMs > 0) delayed = setTimeout(closeListener, shutdownDelayMs);
    else closeListener();
  };
  const closeListener = () => {
    delayed = undefined;
    server.close(() => {
      setTimeout(() => {
        logger.error({ stopTimeoutMs }, `${service} did not stop within ${stopTimeoutMs} ms: exiting without it`);
        process.exit(1);
      }, stopTimeoutMs);
      stop().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, `${service} failed to stop cleanly`);
          process.exit(1);
        },
      );
    });
    server.closeIdleConnections();
    // A client that keeps its connection busy must not hold the shutdown forever.
    setTimeout(() => server.closeAllConnections(), drainTimeoutMs).unref();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
};

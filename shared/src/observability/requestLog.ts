import type { RequestHandler, Response } from 'express';
import { correlationIdOf } from '../http/correlation.js';
import type { Logger } from './logger.js';
import { onceAnswered } from './onceAnswered.js';

/**
 * Marks a request refused by load shedding: the process protecting itself under load, not a
 * fault, so its 503 is logged at `warn` rather than `error`.
 */
export const markShed = (response: Response): void => {
  response.locals.shed = true;
};

/**
 * One log line per answered request, with its correlation id: failures (4xx at `info`, 5xx at
 * `error`, shed ones at `warn`) and answers whose caller had hung up (`callerHungUp`, at `info` at
 * least) always, other successes at `debug` so that a busy write API does not pay for them.
 */
export const requestLog = (logger: Logger): RequestHandler => (request, response, next) => {
  const started = process.hrtime.bigint();
  onceAnswered(response, ({ callerHungUp }) => {
    const status = response.statusCode;
    const level =
      status >= 500 ? (response.locals.shed === true ? 'warn' : 'error') : status >= 400 || callerHungUp ? 'info' : 'debug';
    if (!logger.isLevelEnabled(level)) return;
    logger[level](
      {
        correlationId: correlationIdOf(response.locals),
        method: request.method,
        path: request.path,
        status,
        durationMs: Number(process.hrtime.bigint() - started) / 1e6,
        ...(callerHungUp ? { callerHungUp } : {}),
      },
      'request answered',
    );
  });
  next();
};

import type { RequestHandler, Response } from 'express';
import { correlationIdOf } from '../http/correlation.js';
import type { Logger } from './logger.js';
import { onceAnswered } from './onceAnswered.js';

/**
 * Marks a 5xx that is no fault of the request's own: load shedding protecting the process, or
 * readiness telling its state (the faults behind an unready answer are logged where they
 * happen). Logged at `warn` rather than `error`.
 */
export const markNotAFault = (response: Response): void => {
  response.locals.notAFault = true;
};

/**
 * One log line per answered request, with its correlation id: failures (4xx at `info`, 5xx at
 * `error`, those marked no fault at `warn`) and answers whose caller had hung up (`callerHungUp`, at `info` at
 * least) always, other successes at `debug` so that a busy write API does not pay for them.
 */
export const requestLog = (logger: Logger): RequestHandler => (request, response, next) => {
  const started = process.hrtime.bigint();
  onceAnswered(response, ({ callerHungUp }) => {
    const status = response.statusCode;
    const level =
      status >= 500 ? (response.locals.notAFault === true ? 'warn' : 'error') : status >= 400 || callerHungUp ? 'info' : 'debug';
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

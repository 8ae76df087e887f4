import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';

export const CORRELATION_ID_HEADER = 'X-Correlation-Id';
const ACCEPTED = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives every request a correlation id (the caller's, when it sends a sane one), echoed in the
 * response and carried into the events the request causes and into its problem documents.
 */
export const correlationId = (): RequestHandler => (request, response, next) => {
  const given = request.get(CORRELATION_ID_HEADER);
  const id = given !== undefined && ACCEPTED.test(given) ? given : randomUUID();
  response.locals.correlationId = id;
  response.set(CORRELATION_ID_HEADER, id);
  next();
};

export const correlationIdOf = (locals: Record<string, unknown>): string => {
  const id = locals.correlationId;
  return typeof id === 'string' ? id : randomUUID();
};

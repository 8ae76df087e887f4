/**
 * The one place where errors become RFC 9457 problem details. Routes throw (or pass to `next`)
 * typed `FolioError`s; errors from express and its body parser are mapped to the same shapes, so a
 * bad input is never a 500; anything else is a 500 that says nothing about its cause.
 */
import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import {
  MalformedJsonError,
  PayloadTooLargeError,
  RouteNotFoundError,
  UnsupportedMediaTypeError,
} from '../errors/commonErrors.js';
import { FolioError } from '../errors/folioError.js';
import { redactCredentials } from '../config/redactCredentials.js';
import { describeValue } from '../money/describeValue.js';

export const PROBLEM_TYPE_PREFIX = 'urn:folio:problem:';
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** A problem details document, ready for `JSON.stringify` (no bigint anywhere inside). */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  correlationId?: string;
  [extension: string]: unknown;
}

export interface ToProblemOptions {
  /** Lets the caller quote the failure to support, who find it in the logs. */
  correlationId?: string;
}

export interface ProblemDetailsHandlerOptions {
  /** Called with every unanticipated error (a 5xx not raised as a `FolioError`); by default one JSON line on stderr. */
  onUnexpectedError?: (error: unknown, request: Request) => void;
}

const INTERNAL_SLUG = 'internal';
const INTERNAL_DETAIL =
  'the server failed to handle the request; if this persists, contact support and quote the correlationId, if any';

/** Members the problem document owns; an extension cannot overwrite them. */
const RESERVED_MEMBERS = new Set(['type', 'title', 'status', 'detail', 'instance', 'correlationId']);

/** Slugs whose words alone would make a poor title. A Map, as slugs must not reach Object.prototype. */
const TITLE_OVERRIDES = new Map([
  [INTERNAL_SLUG, 'Internal server error'],
  ['validation', 'Invalid request'],
]);
const ACRONYMS = new Set(['api', 'http', 'iban', 'id', 'json', 'url']);

/** `insufficient-funds` → `Insufficient funds`: the same title for every occurrence of a type. */
export function problemTitle(slug: string): string {
  const override = TITLE_OVERRIDES.get(slug);
  if (override !== undefined) return override;
  const text = slug
    .split('-')
    .filter((word) => word !== '')
    .map((word) => (ACRONYMS.has(word) ? word.toUpperCase() : word))
    .join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const bigintReplacer = (_key: string, value: unknown): unknown =>
  typeof value === 'bigint' ? value.toString() : value;

/**
 * `value` as plain JSON data, each bigint (money, positions) as its decimal string. Throws, like
 * `JSON.stringify`, on a cycle.
 */
export function toJsonSafe(value: unknown): unknown {
  const text = JSON.stringify(value, bigintReplacer);
  return text === undefined ? undefined : JSON.parse(text);
}

/** The 4xx error from an HTTP library (http-errors shape) that `FolioError` does not cover. */
class HttpClientError extends FolioError {
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface HttpErrorShape {
  type?: unknown;
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  limit?: unknown;
  charset?: unknown;
  encoding?: unknown;
}

const slugOfStatus = (status: number): string =>
  (STATUS_CODES[status] ?? 'bad-request').toLowerCase().replace(/[^a-z0-9]+/g, '-');

/**
 * Express's body parser (and the router, on an undecodable path parameter) fail with http-errors
 * style errors: a `status`, and from the body parser a `type` naming what went wrong.
 */
function fromHttpLibraryError(error: unknown): FolioError | undefined {
  if (!(error instanceof Error)) return undefined;
  const shape = error as HttpErrorShape;
  const status = typeof shape.status === 'number' ? shape.status : shape.statusCode;
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  switch (shape.type) {
    case 'entity.too.large': {
      const limit = typeof shape.limit === 'number' ? shape.limit : undefined;
      const bound = limit === undefined ? 'the limit' : `the limit of ${limit} bytes`;
      return new PayloadTooLargeError(`the request body exceeds ${bound}`, limit);
    }
    case 'entity.parse.failed':
      return new MalformedJsonError(`the request body is not valid JSON: ${error.message}`);
    case 'charset.unsupported':
      return new UnsupportedMediaTypeError(
        `charset ${describeValue(String(shape.charset))} is not supported: send UTF-8`,
      );
    case 'encoding.unsupported':
      return new UnsupportedMediaTypeError(
        `content encoding ${describeValue(String(shape.encoding))} is not supported: ` +
          'send the body uncompressed',
      );
    default: {
      const reason = STATUS_CODES[status] ?? 'Bad Request';
      // http-errors marks client errors whose message is safe to show with `expose`.
      return new HttpClientError(slugOfStatus(status), status, shape.expose === true ? error.message : reason);
    }
  }
}

function internalProblem(instance: string, correlationId: string | undefined): ProblemDocument {
  return {
    type: `${PROBLEM_TYPE_PREFIX}${INTERNAL_SLUG}`,
    title: problemTitle(INTERNAL_SLUG),
    status: 500,
    detail: INTERNAL_DETAIL,
    instance,
    ...(correlationId === undefined ? {} : { correlationId }),
  };
}

/**
 * The problem document for `error`. A `FolioError` (or a client error from express's body
 * parser) shows its message and extensions; anything else becomes a generic 500.
 */
export function toProblem(error: unknown, instance: string, options: ToProblemOptions = {}): ProblemDocument {
  const { correlationId } = options;
  const known = error instanceof FolioError ? error : fromHttpLibraryError(error);
  if (known === undefined) return internalProblem(instance, correlationId);
  let extensions: Record<string, unknown>;
  try {
    extensions = Object.fromEntries(
      Object.entries(known.problemExtensions())
        .filter(([name]) => !RESERVED_MEMBERS.has(name))
        .map(([name, value]) => [name, toJsonSafe(value)]),
    );
  } catch {
    // Extensions that cannot be serialised are a bug of ours; the caller still gets an answer.
    return internalProblem(instance, correlationId);
  }
  return {
    type: `${PROBLEM_TYPE_PREFIX}${known.type}`,
    title: problemTitle(known.type),
    status: known.status,
    detail: known.message,
    instance,
    ...extensions,
    ...(correlationId === undefined ? {} : { correlationId }),
  };
}

/** The path only: a query string may carry search terms that do not belong in error reports. */
const requestPath = (request: Request): string => request.originalUrl.split('?', 1)[0] ?? '/';

function correlationIdOf(response: Response): string | undefined {
  const value: unknown = response.locals.correlationId;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Causes are followed this deep, so a cyclic chain cannot loop. */
const MAX_LOGGED_CAUSES = 5;

function describeError(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error)) return { value: String(error) };
  const followCause = error.cause !== undefined && depth < MAX_LOGGED_CAUSES;
  // A driver's message may quote a connection string: its credentials stay out of the line.
  return {
    name: error.name,
    message: redactCredentials(error.message),
    stack: error.stack === undefined ? undefined : redactCredentials(error.stack),
    ...(followCause ? { cause: describeError(error.cause, depth + 1) } : {}),
  };
}

function logUnexpectedError(error: unknown, request: Request): void {
  const line = {
    level: 'error',
    message: 'unexpected error while handling a request',
    method: request.method,
    path: requestPath(request),
    correlationId: request.res === undefined ? undefined : correlationIdOf(request.res),
    error: describeError(error),
  };
  console.error(JSON.stringify(line, bigintReplacer));
}

/** The error middleware, registered last: every error leaves as `application/problem+json`. */
export function problemDetailsHandler(options: ProblemDetailsHandlerOptions = {}): ErrorRequestHandler {
  const onUnexpectedError = options.onUnexpectedError ?? logUnexpectedError;
  return (error: unknown, request, response, next) => {
    const problem = toProblem(error, requestPath(request), { correlationId: correlationIdOf(response) });
    // A FolioError with a 5xx status is an answer we chose (a read model behind, a store
    // unavailable); only what nobody anticipated is logged as unexpected.
    const chosen = error instanceof FolioError && error.status === problem.status;
    if (problem.status >= 500 && !chosen) {
      try {
        onUnexpectedError(error, request);
      } catch {
        // A failing logger must not stop the client from getting its answer.
      }
    }
    // Too late for a problem document: express's final handler closes the connection.
    if (response.headersSent) {
      next(error);
      return;
    }
    if (error instanceof FolioError && error.retryAfterSeconds !== undefined) {
      response.set('Retry-After', String(error.retryAfterSeconds));
    }
    response.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
  };
}

/** Registered after every route: an unknown method or path is a 404 problem, not express's HTML. */
export function notFoundHandler(): RequestHandler {
  return (request, _response, next) => {
    next(new RouteNotFoundError(request.method, requestPath(request)));
  };
}

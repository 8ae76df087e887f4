/**
 * The body reader of command endpoints. Express's JSON parser does the reading, the size limit
 * and the charset; this adds what a command needs on top: JSON only, a top-level object, an
 * empty body read as `{}` (commands such as "freeze account" have none), no key that could
 * reach an object's prototype once the body is merged or copied somewhere downstream, and no
 * nesting deeper than `MAX_BODY_DEPTH`, and no number too large to be represented (`1e400`, which
 * `JSON.parse` reads as `Infinity`: no schema or fingerprint downstream should ever see one).
 */
import express, { type Request, type RequestHandler } from 'express';
import { UnsupportedMediaTypeError } from '../errors/commonErrors.js';
import { ValidationError } from '../errors/folioError.js';
import { describeValue } from '../money/describeValue.js';

export interface JsonBodyOptions {
  /** Largest accepted body, in bytes or as a size such as `'16kb'`. */
  limit?: number | string;
  /** Sees the raw bytes of a body before it is parsed (a signature covers them). */
  onRawBody?: (request: Request, raw: Buffer) => void;
}

/** Enough for any command: the largest, a batch of transfers, is a few kilobytes. */
export const DEFAULT_JSON_BODY_LIMIT = 64 * 1024;

const JSON_MEDIA_TYPE = 'application/json';
const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Whether the request carries content; a `Content-Length: 0` body is no body. */
function hasContent(request: Request): boolean {
  if (request.headers['transfer-encoding'] !== undefined) return true;
  const length = Number(request.headers['content-length'] ?? 0);
  return length > 0;
}

/**
 * Deeper than any command's body nests (a batch item's metadata value is four levels down), and
 * shallow enough for whatever walks a body recursively downstream (validation, the idempotency
 * fingerprint) to stay far from the stack's limit.
 */
export const MAX_BODY_DEPTH = 32;

interface Visit {
  value: object;
  key: string | number | undefined;
  parent: Visit | undefined;
  /** 1 for the body itself. */
  depth: number;
}

function pathOf(visit: Visit, key: string | number): string {
  const keys: (string | number)[] = [key];
  for (let at: Visit | undefined = visit; at?.key !== undefined; at = at.parent) keys.push(at.key);
  return ['body', ...keys.reverse()].join('.');
}

/**
 * The shallowest key that could reach a prototype, number too large to be represented, or value
 * nested too deep, if any. Breadth
 * first with an explicit queue, so a deeply nested body cannot overflow the stack; paths are only
 * built for the one reported. `Object.keys` sees the own `__proto__` property that `JSON.parse`
 * creates.
 */
function findProblem(body: object): ValidationError | undefined {
  const queue: Visit[] = [{ value: body, key: undefined, parent: undefined, depth: 1 }];
  for (let next = 0; next < queue.length; next += 1) {
    const visit = queue[next] as Visit;
    const entries: [string | number, unknown][] = Array.isArray(visit.value)
      ? visit.value.map((item: unknown, index) => [index, item])
      : Object.keys(visit.value).map((key) => [key, (visit.value as Record<string, unknown>)[key]]);
    for (const [key, value] of entries) {
      if (typeof key === 'string' && FORBIDDEN_KEYS.has(key)) {
        const path = pathOf(visit, key);
        return new ValidationError(`the request body must not contain the key "${key}" (at ${path})`, [
          { path, message: `the key "${key}" is not allowed` },
        ]);
      }
      // JSON.parse gives Infinity for a number beyond a double's range, never NaN.
      if (typeof value === 'number' && !Number.isFinite(value)) {
        const path = pathOf(visit, key);
        return new ValidationError(`the request body holds a number too large to be represented (at ${path})`, [
          { path, message: 'a number too large to be represented' },
        ]);
      }
      if (typeof value !== 'object' || value === null) continue;
      if (visit.depth === MAX_BODY_DEPTH) {
        const path = pathOf(visit, key);
        return new ValidationError(`the request body nests objects and arrays more than ${MAX_BODY_DEPTH} deep (at ${path})`, [
          { path, message: `nested more than ${MAX_BODY_DEPTH} deep` },
        ]);
      }
      queue.push({ value, key, parent: visit, depth: visit.depth + 1 });
    }
  }
  return undefined;
}

function checkBody(body: unknown): void {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    const got = body === null ? 'null' : Array.isArray(body) ? 'an array' : `a ${typeof body}`;
    throw new ValidationError('the request body must be a JSON object', [
      { path: 'body', message: `expected a JSON object, got ${got}` },
    ]);
  }
  const problem = findProblem(body);
  if (problem !== undefined) throw problem;
}

/**
 * Reads a POST, PUT or PATCH body into `request.body` as a JSON object, or fails with the error
 * `problemDetailsHandler` turns into a 400, 413 or 415. Other methods pass through untouched.
 */
export function jsonBody(options: JsonBodyOptions = {}): RequestHandler {
  const parse = express.json({
    limit: options.limit ?? DEFAULT_JSON_BODY_LIMIT,
    type: JSON_MEDIA_TYPE,
    // The top-level check below gives a clearer error than the parser's strict mode.
    strict: false,
    // Commands are small; inflating would let a tiny upload cost a lot of CPU and memory.
    inflate: false,
    ...(options.onRawBody === undefined
      ? {}
      : { verify: (request: Request, _response: unknown, raw: Buffer) => options.onRawBody!(request, raw) }),
  });
  return (request, response, next) => {
    if (!METHODS_WITH_BODY.has(request.method)) {
      next();
      return;
    }
    if (!hasContent(request)) {
      request.body = {};
      next();
      return;
    }
    if (request.is(JSON_MEDIA_TYPE) !== JSON_MEDIA_TYPE) {
      const sent = request.headers['content-type'];
      const got = sent === undefined ? 'no Content-Type' : `Content-Type ${describeValue(sent)}`;
      next(new UnsupportedMediaTypeError(`expected a JSON body (${JSON_MEDIA_TYPE}), got ${got}`, [JSON_MEDIA_TYPE]));
      return;
    }
    parse(request, response, (error?: unknown) => {
      if (error !== undefined) {
        next(error);
        return;
      }
      try {
        checkBody(request.body);
      } catch (invalid) {
        next(invalid);
        return;
      }
      next();
    });
  };
}

/**
 * Express glue for idempotency keys: reads the `Idempotency-Key` header, fingerprints the request
 * and runs the handler through the idempotency store, marking replayed responses. Errors go to
 * express's error handling, which turns them into problem documents.
 */
import { ValidationError } from '@folio/shared';
import type { Request, RequestHandler, Response } from 'express';
import { IdempotencyKeyRequiredError } from './errors.js';
import type { IdempotencyStore, IdempotentResponse, RunAttempt } from './idempotencyStore.js';
import { fingerprintRequest } from './requestFingerprint.js';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

const VALID_KEY = /^[\x20-\x7e]{1,255}$/;

export interface IdempotentHandlerOptions<Input> {
  store: IdempotencyStore;
  /** Money-moving routes require a key; the others accept one. */
  required: boolean;
  /** Keys are scoped per caller: two callers may use the same key independently. */
  callerOf: (req: Request) => string;
  resourceIdFactory: () => string;
  /**
   * Validates the request into the handler's input, before the key is claimed, so that a
   * rejected input leaves the key unused.
   */
  parse: (req: Request) => Input;
  /** `attempt`: what earlier executions of this key may have done or answered (see the store). */
  handle: (req: Request, input: Input, resourceId: string, attempt: RunAttempt) => Promise<IdempotentResponse>;
}

const readKey = (req: Request, required: boolean): string | undefined => {
  const key = req.get(IDEMPOTENCY_KEY_HEADER);
  if (key === undefined) {
    if (required) throw new IdempotencyKeyRequiredError();
    return undefined;
  }
  if (!VALID_KEY.test(key)) {
    const message = 'must be 1 to 255 printable ASCII characters';
    throw new ValidationError(`${IDEMPOTENCY_KEY_HEADER} ${message}`, [
      { path: `headers.${IDEMPOTENCY_KEY_HEADER.toLowerCase()}`, message },
    ]);
  }
  return key;
};

const send = (res: Response, response: IdempotentResponse, replayed: boolean): void => {
  if (response.headers !== undefined) res.set(response.headers);
  if (replayed) res.set(IDEMPOTENT_REPLAYED_HEADER, 'true');
  res.status(response.status).json(response.body);
};

export const idempotentHandler =
  <Input>(options: IdempotentHandlerOptions<Input>): RequestHandler =>
  async (req, res) => {
    const key = readKey(req, options.required);
    const input = options.parse(req);
    if (key === undefined) {
      send(res, await options.handle(req, input, options.resourceIdFactory(), { retry: false, finalParts: {} }), false);
      return;
    }
    // An execution still in progress elsewhere throws IdempotentRequestInProgressError, whose
    // Retry-After the problem handler sets.
    const outcome = await options.store.execute({
      callerId: options.callerOf(req),
      key,
      fingerprint: fingerprintRequest(req.method, req.originalUrl, req.body),
      newResourceId: options.resourceIdFactory,
      run: (resourceId, attempt) => options.handle(req, input, resourceId, attempt),
    });
    send(res, outcome, outcome.replayed);
  };

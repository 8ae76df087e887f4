/**
 * Generic typed errors for the HTTP boundary and for domain errors to build on. A domain error
 * (insufficient funds, account frozen, …) extends one of these for its status and names its own
 * problem type, either through the `type` option or by overriding the `type` field:
 *
 *   class InsufficientFundsError extends UnprocessableError {
 *     constructor(available: bigint) { super('…', { type: 'insufficient-funds' }); … }
 *   }
 */
import { FolioError } from './folioError.js';

export interface TypedErrorOptions extends ErrorOptions {
  /** The problem type slug (kebab case) of a more specific error than the class's default. */
  type?: string;
}

/** The thing a request names does not exist (or the caller may not know that it does). */
export class NotFoundError extends FolioError {
  readonly type: string;
  readonly status = 404;

  constructor(
    readonly resource: string,
    readonly id: string | bigint,
    options: TypedErrorOptions = {},
  ) {
    super(`${resource} ${String(id)} was not found`, options);
    this.type = options.type ?? 'not-found';
  }

  override problemExtensions(): Record<string, unknown> {
    return { resource: this.resource, id: this.id };
  }
}

/** No route matches the request's method and path. */
export class RouteNotFoundError extends FolioError {
  readonly type = 'route-not-found';
  readonly status = 404;

  constructor(
    readonly method: string,
    readonly path: string,
  ) {
    super(`no route for ${method} ${path}`);
  }

  override problemExtensions(): Record<string, unknown> {
    return { method: this.method, path: this.path };
  }
}

export interface IllegalStateOptions extends TypedErrorOptions {
  /** The state the resource is in, e.g. `'frozen'`. */
  currentState: string;
  /** What may be done from `currentState`, when that helps the caller recover. */
  allowedTransitions?: readonly string[];
}

/** The resource exists but its current state forbids the operation (refund a failed payment). */
export class IllegalStateError extends FolioError {
  readonly type: string;
  readonly status = 409;
  readonly currentState: string;
  readonly allowedTransitions: readonly string[] | undefined;

  constructor(message: string, options: IllegalStateOptions) {
    super(message, options);
    this.type = options.type ?? 'illegal-state';
    this.currentState = options.currentState;
    this.allowedTransitions = options.allowedTransitions;
  }

  override problemExtensions(): Record<string, unknown> {
    return this.allowedTransitions === undefined
      ? { currentState: this.currentState }
      : { currentState: this.currentState, allowedTransitions: [...this.allowedTransitions] };
  }
}

/** The request clashes with what already exists (a duplicate, a reused key with another body). */
export class ConflictError extends FolioError {
  readonly type: string;
  readonly status = 409;

  constructor(message: string, options: TypedErrorOptions = {}) {
    super(message, options);
    this.type = options.type ?? 'conflict';
  }
}

/** The request is well formed but breaks a business rule (insufficient funds, limit exceeded). */
export class UnprocessableError extends FolioError {
  readonly type: string;
  readonly status = 422;

  constructor(message: string, options: TypedErrorOptions = {}) {
    super(message, options);
    this.type = options.type ?? 'unprocessable';
  }
}

/** The request body is bigger than the endpoint accepts. */
export class PayloadTooLargeError extends FolioError {
  readonly type = 'payload-too-large';
  readonly status = 413;

  constructor(
    message: string,
    /** The limit in bytes, when known. */
    readonly limitBytes?: number,
  ) {
    super(message);
  }

  override problemExtensions(): Record<string, unknown> {
    return this.limitBytes === undefined ? {} : { limitBytes: this.limitBytes };
  }
}

/** The request body's media type, charset or content encoding is not one the endpoint reads. */
export class UnsupportedMediaTypeError extends FolioError {
  readonly type = 'unsupported-media-type';
  readonly status = 415;

  constructor(
    message: string,
    /** The media types the endpoint reads, when it helps to say. */
    readonly supported?: readonly string[],
  ) {
    super(message);
  }

  override problemExtensions(): Record<string, unknown> {
    return this.supported === undefined ? {} : { supported: [...this.supported] };
  }
}

/** The request body is not syntactically valid JSON. */
export class MalformedJsonError extends FolioError {
  readonly type = 'malformed-json';
  readonly status = 400;
}

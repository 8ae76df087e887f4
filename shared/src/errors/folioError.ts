/**
 * Base of every typed error Folio raises on purpose. Each carries a stable `type` slug
 * (the suffix of the RFC 9457 problem type URI) and the HTTP status it maps to, so the
 * HTTP layer maps errors to problem details in one place.
 */
export abstract class FolioError extends Error {
  abstract readonly type: string;
  abstract readonly status: number;
  /** When set, the answer tells the client to retry after this many seconds (`Retry-After`). */
  readonly retryAfterSeconds?: number;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    // Keeps `instanceof` working whatever the compilation target.
    Object.setPrototypeOf(this, new.target.prototype);
  }

  /** Extra members of the problem document (beyond type, title, status, detail). */
  problemExtensions(): Record<string, unknown> {
    return {};
  }
}

/** A request or value that breaks a rule of the input; nothing was written. */
export class ValidationError extends FolioError {
  readonly type = 'validation';
  readonly status = 400;

  constructor(
    message: string,
    readonly issues: readonly { path: string; message: string }[] = [],
  ) {
    super(message);
  }

  override problemExtensions(): Record<string, unknown> {
    return this.issues.length > 0 ? { errors: this.issues } : {};
  }
}

import { FolioError } from '@folio/shared';

/** No adapter is configured for the provider a request names. */
export class ProviderNotConfiguredError extends FolioError {
  readonly type = 'provider-not-configured';
  readonly status = 422;

  constructor(readonly provider: string) {
    super(`payment provider ${provider} is not configured on this Folio`);
  }

  override problemExtensions() {
    return { provider: this.provider };
  }
}

/** The provider could not be reached or answered with an error; nothing was recorded. */
export class ProviderUnavailableError extends FolioError {
  readonly type = 'provider-unavailable';
  readonly status = 502;

  constructor(
    readonly provider: string,
    detail: string,
  ) {
    super(`payment provider ${provider} did not take the request: ${detail}`);
  }

  override problemExtensions() {
    return { provider: this.provider };
  }
}

/**
 * What an adapter throws when the provider answered that it will not take the request. Any other
 * error (a timeout, a lost connection) leaves open whether the provider took it.
 */
export class ProviderRefusedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ProviderRefusedError';
  }
}

/** A callback whose signature does not verify: forged, tampered with, stale or replayed. */
export class CallbackSignatureError extends FolioError {
  readonly status = 401;

  constructor(
    readonly type: 'callback-signature-invalid' | 'callback-timestamp-outside-tolerance' | 'callback-replayed',
    detail: string,
  ) {
    super(detail);
  }
}

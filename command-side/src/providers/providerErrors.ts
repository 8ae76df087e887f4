import { FolioError } from '@folio/shared';

/** A problem with a provider Folio relays a request to: the answer names the provider. */
abstract class ProviderProblem extends FolioError {
  constructor(
    readonly provider: string,
    message: string,
  ) {
    super(message);
  }

  override problemExtensions() {
    return { provider: this.provider };
  }
}

/** No adapter is configured for the provider a request names. */
export class ProviderNotConfiguredError extends ProviderProblem {
  readonly type = 'provider-not-configured';
  readonly status = 422;

  constructor(provider: string) {
    super(provider, `payment provider ${provider} is not configured on this Folio`);
  }
}

/** The provider could not be reached or answered with an error; nothing was recorded. */
export class ProviderUnavailableError extends ProviderProblem {
  readonly type = 'provider-unavailable';
  readonly status = 502;

  constructor(provider: string, detail: string) {
    super(provider, `payment provider ${provider} did not take the request: ${detail}`);
  }
}

/**
 * The provider answered that it will not take the request (a declined card, a refund it refuses):
 * nothing was recorded, and the same request would be declined again, so the answer is kept
 * under its idempotency key like any other rejection.
 */
export class ProviderDeclinedError extends ProviderProblem {
  readonly type = 'provider-declined';
  readonly status = 422;

  constructor(provider: string, reason: string) {
    super(provider, `payment provider ${provider} declined the request: ${reason}`);
  }
}

/** A provider's answer to a request, as the error its caller answers with: declined, or unknown. */
export const providerRequestError = (provider: string, error: unknown): FolioError =>
  error instanceof ProviderRefusedError
    ? new ProviderDeclinedError(provider, error.message)
    : new ProviderUnavailableError(provider, error instanceof Error ? error.message : String(error));

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

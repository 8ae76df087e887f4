import { createHmac, timingSafeEqual } from 'node:crypto';
import { CallbackSignatureError } from './providerErrors.js';

/**
 * Provider callbacks carry `Folio-Provider-Signature: t=<unix seconds>,v1=<hex>`, where v1 is
 * HMAC-SHA256 with the provider's secret over `<t>.<raw body>`. The timestamp is signed, so a
 * captured request cannot be re-sent later with a fresh one; requests older (or newer) than the
 * tolerance are refused, and so is an exact signature already accepted within it.
 */
export const SIGNATURE_HEADER = 'Folio-Provider-Signature';

const signatureOf = (secret: string, timestamp: number, rawBody: Buffer | string): string =>
  createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');

export const signCallback = (secret: string, timestamp: number, rawBody: Buffer | string): string =>
  `t=${timestamp},v1=${signatureOf(secret, timestamp, rawBody)}`;

const HEADER_PATTERN = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/;

export interface VerifyOptions {
  toleranceSeconds: number;
  nowSeconds: number;
}

/** Checks a callback's signature and age; returns the signature, which identifies the request. */
export const verifyCallbackSignature = (
  secret: string,
  header: string | undefined,
  rawBody: Buffer,
  options: VerifyOptions,
): string => {
  const match = HEADER_PATTERN.exec(header ?? '');
  if (match === null) {
    throw new CallbackSignatureError('callback-signature-invalid', `the ${SIGNATURE_HEADER} header is missing or malformed`);
  }
  const timestamp = Number(match[1]);
  const expected = Buffer.from(signatureOf(secret, timestamp, rawBody), 'hex');
  const given = Buffer.from(match[2]!, 'hex');
  if (!timingSafeEqual(expected, given)) {
    throw new CallbackSignatureError('callback-signature-invalid', 'the callback signature does not verify');
  }
  if (Math.abs(options.nowSeconds - timestamp) > options.toleranceSeconds) {
    throw new CallbackSignatureError(
      'callback-timestamp-outside-tolerance',
      `the callback was signed at ${timestamp}, more than ${options.toleranceSeconds}s from now`,
    );
  }
  return match[2]!;
};

/**
 * Signatures accepted within the tolerance window: the same signed request arriving again is a
 * replay. Older entries leave as the window moves; the timestamp check refuses those requests.
 */
export const createReplayGuard = (toleranceSeconds: number) => {
  const seen = new Map<string, number>();
  return {
    /**
     * Claims the signature for the request carrying it; false when another request holds it. It
     * checks and takes in one synchronous step, so of two copies in flight only one gets it.
     */
    claim(signature: string, nowSeconds: number): boolean {
      if (seen.has(signature)) return false;
      seen.set(signature, nowSeconds);
      for (const [entry, at] of seen) {
        if (at >= nowSeconds - 2 * toleranceSeconds) break;
        seen.delete(entry);
      }
      return true;
    },
    /** Gives a claim back: the request was not handled, so the provider's retry must get through. */
    release(signature: string): void {
      seen.delete(signature);
    },
  };
};

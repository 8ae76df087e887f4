/**
 * Step-up signatures: a customer's money-moving request carries a signature, by a device key the
 * holder registered, over exactly what the request does. The string signed is, lines joined by
 * `\n` (no trailing newline):
 *
 *   folio-signature-v1
 *   <METHOD, upper case>
 *   <path and query exactly as sent, e.g. /v1/transfers>
 *   <hex SHA-256 of the raw body bytes; of the empty string for no body>
 *   <Idempotency-Key header, empty if none>
 *   <Folio-Timestamp header: Unix seconds>
 *
 * sent as `Folio-Device-Id`, `Folio-Timestamp` and `Folio-Signature` (base64url of the 64-byte
 * Ed25519 signature).
 */
import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';

export const DEVICE_ID_HEADER = 'Folio-Device-Id';
export const TIMESTAMP_HEADER = 'Folio-Timestamp';
export const SIGNATURE_HEADER = 'Folio-Signature';
export const SIGNATURE_SCHEME = 'folio-signature-v1';

export interface SignedRequestParts {
  method: string;
  /** Path and query string as sent. */
  path: string;
  body: Buffer | string;
  idempotencyKey: string | undefined;
  /** Unix seconds. */
  timestamp: number;
}

export const bodyDigest = (body: Buffer | string): string => createHash('sha256').update(body).digest('hex');

export const canonicalRequest = ({ method, path, body, idempotencyKey, timestamp }: SignedRequestParts): string =>
  [SIGNATURE_SCHEME, method.toUpperCase(), path, bodyDigest(body), idempotencyKey ?? '', String(timestamp)].join('\n');

/** DER prefix of a PKCS#8 Ed25519 private key, before its 32-byte seed. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** A private key object from a raw 32-byte Ed25519 seed. */
export const ed25519PrivateKeyFromSeed = (seed: Buffer): KeyObject =>
  createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });

/** The raw 32-byte public key of an Ed25519 key object, base64url: what `POST /v1/devices` takes. */
export const rawPublicKey = (key: KeyObject): string => {
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new Error('not an Ed25519 key');
  return jwk.x;
};

/** The headers a client adds to sign `parts` with the device's private key. */
export const signRequest = (
  privateKey: KeyObject,
  deviceId: string,
  parts: SignedRequestParts,
): Record<string, string> => ({
  [DEVICE_ID_HEADER]: deviceId,
  [TIMESTAMP_HEADER]: String(parts.timestamp),
  [SIGNATURE_HEADER]: sign(null, Buffer.from(canonicalRequest(parts), 'utf8'), privateKey).toString('base64url'),
});

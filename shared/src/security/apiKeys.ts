/**
 * API keys: `folio_<keyId>_<secret>`, the secret 256 random bits. Only a SHA-256 digest of the
 * secret is stored: a key of that entropy cannot be guessed from its digest, so a slow password
 * hash would only cost latency on every request. Digests are compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const API_KEY_PREFIX = 'folio';
const KEY_ID_BYTES = 8;
const SECRET_BYTES = 32;
const TOKEN = /^folio_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface ApiKeyParts {
  keyId: string;
  secret: string;
}

export interface NewApiKey extends ApiKeyParts {
  /** What the holder sends as `Authorization: Bearer <token>`; shown once, never stored. */
  token: string;
  secretHash: string;
}

export const digestSecret = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');

export const formatApiKey = ({ keyId, secret }: ApiKeyParts): string => `${API_KEY_PREFIX}_${keyId}_${secret}`;

/** A fresh key from `random` (node's CSPRNG unless a test injects one). */
export const generateApiKey = (random: (bytes: number) => Buffer = randomBytes): NewApiKey => {
  const keyId = random(KEY_ID_BYTES).toString('hex');
  const secret = random(SECRET_BYTES).toString('base64url');
  return { keyId, secret, token: formatApiKey({ keyId, secret }), secretHash: digestSecret(secret) };
};

/** The parts of a well-formed token, or `undefined`: nothing about a malformed one is trusted. */
export const parseApiKey = (token: string): ApiKeyParts | undefined => {
  const match = TOKEN.exec(token);
  return match === null ? undefined : { keyId: match[1]!, secret: match[2]! };
};

/** Whether `secret` digests to `secretHash`, in time independent of where they differ. */
export const secretMatches = (secret: string, secretHash: string): boolean => {
  const actual = Buffer.from(digestSecret(secret), 'hex');
  const expected = Buffer.from(secretHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
};

/** The token of an `Authorization: Bearer …` header, if that is what the header holds. */
export const bearerTokenOf = (header: string | undefined): string | undefined => {
  if (header === undefined) return undefined;
  const match = /^Bearer ([\x21-\x7e]{1,200})$/i.exec(header.trim());
  return match === null ? undefined : match[1];
};

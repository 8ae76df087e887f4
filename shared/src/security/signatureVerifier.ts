/**
 * Checking a device signature, behind a port: the in-process Ed25519 verifier below, or one
 * backed by an HSM that holds the registered keys. Nothing else in Folio touches key material.
 */
import { createPublicKey, verify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';

export interface SignatureCheck {
  deviceId: string;
  /** The registered raw public key, base64url. */
  publicKey: string;
  message: Buffer;
  signature: Buffer;
}

export interface SignatureVerifier {
  verify(check: SignatureCheck): Promise<boolean>;
}

/** Keys judged usable or not at once; past this many, the judgements start over. */
const MAX_JUDGED_KEYS = 10_000;

/**
 * Ed25519 with node:crypto; a malformed key or signature is simply not valid, and neither is a
 * signature by a weak key (`ed25519PublicKeyProblem`), whenever that key was registered.
 */
export const createEd25519Verifier = (): SignatureVerifier => {
  // Judging a key decodes its point (a square root) and multiplies it by the group's order: once per key.
  const judged = new Map<string, boolean>();
  const usable = (publicKey: string): boolean => {
    let verdict = judged.get(publicKey);
    if (verdict === undefined) {
      if (judged.size >= MAX_JUDGED_KEYS) judged.clear();
      verdict = ed25519PublicKeyProblem(publicKey) === undefined;
      judged.set(publicKey, verdict);
    }
    return verdict;
  };
  return {
    async verify({ publicKey, message, signature }) {
      if (signature.length !== 64 || !usable(publicKey)) return false;
      try {
        const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
        return verify(null, message, key, signature);
      } catch {
        return false;
      }
    },
  };
};

/** What is wrong with a raw base64url string as a device's Ed25519 public key, if anything. */
export const ed25519PublicKeyProblem = (publicKey: string): 'malformed' | 'weak' | undefined => {
  if (!/^[A-Za-z0-9_-]{43}$/.test(publicKey)) return 'malformed';
  let point: ReturnType<typeof ed25519.Point.fromBytes>;
  try {
    // Strict decoding (not ZIP-215): a coordinate encoded other than canonically is refused.
    point = ed25519.Point.fromBytes(Buffer.from(publicKey, 'base64url'), false);
  } catch {
    return 'malformed';
  }
  // A point of small order (the identity among them) verifies signatures anyone can make for any
  // message, and one outside the prime-order group verifies some signatures differently from one
  // verifier to the next; a key pair made by any Ed25519 implementation is neither.
  return point.isSmallOrder() || !point.isTorsionFree() ? 'weak' : undefined;
};

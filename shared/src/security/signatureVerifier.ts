/**
 * Checking a device signature, behind a port: the in-process Ed25519 verifier below, or one
 * backed by an HSM that holds the registered keys. Nothing else in Folio touches key material.
 */
import { createPublicKey, verify } from 'node:crypto';

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

/** Ed25519 with node:crypto; a malformed key or signature is simply not valid. */
export const createEd25519Verifier = (): SignatureVerifier => ({
  async verify({ publicKey, message, signature }) {
    if (signature.length !== 64) return false;
    try {
      const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
      return verify(null, message, key, signature);
    } catch {
      return false;
    }
  },
});

/** Whether a raw base64url string is a usable Ed25519 public key. */
export const isEd25519PublicKey = (publicKey: string): boolean => {
  if (!/^[A-Za-z0-9_-]{43}$/.test(publicKey)) return false;
  try {
    createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
    return true;
  } catch {
    return false;
  }
};

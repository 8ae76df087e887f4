import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { makeDirectories } from '../files/makeDirectories.js';
import { dirname, join } from 'node:path';
import { AuditInputError } from './auditErrors.js';
import { sha256Hex } from './eventHash.js';

/**
 * Ed25519 signing of checkpoints and exports. The key is configured (`FOLIO_AUDIT_SIGNING_KEY`,
 * a PKCS#8 PEM, or base64 of the PKCS#8 DER or of the raw 32-byte seed) or, for the embedded
 * default, generated on first start into the data directory. The private key never leaves this
 * module; the public key is published as SPKI PEM and named by its key id, the SHA-256 (hex) of
 * its SPKI DER encoding, which an auditor compares with the one Folio gave them out of band.
 */
export interface AuditSigner {
  keyId: string;
  publicKeyPem: string;
  /** Base64 Ed25519 signature of the UTF-8 text. */
  sign(text: string): string;
}

/** PKCS#8 DER prefix of an Ed25519 private key, before its 32-byte seed (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

const parsePrivateKey = (text: string): KeyObject => {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    if (trimmed.startsWith('-----BEGIN')) key = createPrivateKey(trimmed);
    else {
      const der = Buffer.from(trimmed, 'base64');
      key = createPrivateKey({
        key: der.length === 32 ? Buffer.concat([ED25519_PKCS8_PREFIX, der]) : der,
        format: 'der',
        type: 'pkcs8',
      });
    }
  } catch {
    // The key's text must never reach a log, not even in part.
    throw new AuditInputError('FOLIO_AUDIT_SIGNING_KEY is not a PKCS#8 PEM or base64 Ed25519 private key');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new AuditInputError(`FOLIO_AUDIT_SIGNING_KEY is a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
  }
  return key;
};

export const keyIdOf = (publicKey: KeyObject): string => sha256Hex(publicKey.export({ type: 'spki', format: 'der' }));

export const signerFromPrivateKey = (privateKey: KeyObject): AuditSigner => {
  const publicKey = createPublicKey(privateKey);
  return {
    keyId: keyIdOf(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    sign: (text) => sign(null, Buffer.from(text, 'utf8'), privateKey).toString('base64'),
  };
};

export const signerFromText = (text: string): AuditSigner => signerFromPrivateKey(parsePrivateKey(text));

export const generatedSigner = (): AuditSigner => signerFromPrivateKey(generateKeyPairSync('ed25519').privateKey);

/** The embedded default's key file inside the data directory. */
export const signingKeyPath = (dataDir: string): string => join(dataDir, 'audit-signing-key.pem');

interface SigningKeySettings {
  signingKey: string | undefined;
  signingKeyFile?: string | undefined;
}

const isConfigured = (configured: SigningKeySettings): configured is { signingKey: string } =>
  configured.signingKey !== undefined && configured.signingKey.trim() !== '';

const keyFileOf = (configured: SigningKeySettings, dataDir: string): string => configured.signingKeyFile ?? signingKeyPath(dataDir);

/**
 * The configured key, or the key kept in its key file (by default in the data directory), never
 * generated: a new key would have signed nothing, so its public key, a verification trusting it or
 * an export signed with it would mislead an auditor.
 */
export const loadExistingSigner = (configured: SigningKeySettings, dataDir: string): AuditSigner => {
  if (isConfigured(configured)) return signerFromText(configured.signingKey);
  const path = keyFileOf(configured, dataDir);
  if (!existsSync(path)) {
    throw new AuditInputError(
      `no audit signing key: FOLIO_AUDIT_SIGNING_KEY is not set and there is no key file at ${path}. ` +
        'Point FOLIO_AUDIT_SIGNING_KEY_FILE (or FOLIO_DATA_DIR) at the key file the server signs with, ' +
        'or set FOLIO_AUDIT_SIGNING_KEY to that key; only the server creates a key, on its first start.',
    );
  }
  return signerFromText(readFileSync(path, 'utf8'));
};

const generateKeyFile = (path: string): void => {
  makeDirectories(dirname(path));
  const { privateKey } = generateKeyPairSync('ed25519');
  try {
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    // Another process sharing the data directory created it first: use that one.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
};

/**
 * `loadExistingSigner`, generating the key file (readable by its owner only) when missing: for the
 * process that writes checkpoints, on its first start. Processes that sign for the same books must
 * share the key.
 */
export const loadSigner = (configured: SigningKeySettings, dataDir: string): AuditSigner => {
  const path = keyFileOf(configured, dataDir);
  if (!isConfigured(configured) && !existsSync(path)) generateKeyFile(path);
  return loadExistingSigner(configured, dataDir);
};

/** Whether `signature` (base64) is the Ed25519 signature of `text` by the SPKI PEM public key. */
export const verifySignature = (publicKeyPem: string, text: string, signature: string): boolean => {
  try {
    const publicKey = createPublicKey(publicKeyPem);
    if (publicKey.asymmetricKeyType !== 'ed25519') return false;
    const bytes = Buffer.from(signature, 'base64');
    // Base64 decoding ignores the unused bits of the last character and stray characters: only
    // the one canonical spelling of the signature is accepted, so no altered byte goes unseen.
    if (bytes.toString('base64') !== signature) return false;
    return verify(null, Buffer.from(text, 'utf8'), publicKey, bytes);
  } catch {
    return false;
  }
};

export const keyIdOfPem = (publicKeyPem: string): string | undefined => {
  try {
    return keyIdOf(createPublicKey(publicKeyPem));
  } catch {
    return undefined;
  }
};

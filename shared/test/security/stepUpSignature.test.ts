import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import {
  canonicalRequest,
  createEd25519Verifier,
  ed25519PrivateKeyFromSeed,
  isEd25519PublicKey,
  rawPublicKey,
  signRequest,
  SIGNATURE_HEADER,
} from '../../src/security/index.js';

const parts = { method: 'post', path: '/v1/transfers?x=1', body: '{"amount":"10"}', idempotencyKey: 'k-1', timestamp: 1_790_000_000 };

describe('step-up signatures', () => {
  it('sign a canonical string of method, path, body digest, idempotency key and timestamp', () => {
    expect(canonicalRequest(parts)).to.equal(
      [
        'folio-signature-v1',
        'POST',
        '/v1/transfers?x=1',
        'a67dbcc19c1614ade24b6c38b124687ddf4ab2cc9a5c9650840e043cf7b3c38d',
        'k-1',
        '1790000000',
      ].join('\n'),
    );
    expect(canonicalRequest({ ...parts, body: '', idempotencyKey: undefined }).split('\n').slice(3, 5)).to.deep.equal([
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      '',
    ]);
  });

  it('verify with the registered public key only, and only over what was signed', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const headers = signRequest(privateKey, 'device-1', parts);
    const verifier = createEd25519Verifier();
    const check = (message: string, key = rawPublicKey(publicKey)) =>
      verifier.verify({ deviceId: 'device-1', publicKey: key, message: Buffer.from(message), signature: Buffer.from(headers[SIGNATURE_HEADER]!, 'base64url') });
    expect(await check(canonicalRequest(parts))).to.equal(true);
    expect(await check(canonicalRequest({ ...parts, body: '{"amount":"11"}' }))).to.equal(false);
    expect(await check(canonicalRequest({ ...parts, timestamp: parts.timestamp + 1 }))).to.equal(false);
    expect(await check(canonicalRequest(parts), rawPublicKey(generateKeyPairSync('ed25519').publicKey))).to.equal(false);
    expect(await check(canonicalRequest(parts), 'not a key')).to.equal(false);
  });

  it('derive the same key from a raw seed, as a device stores it', () => {
    const seed = randomBytes(32);
    const key = ed25519PrivateKeyFromSeed(seed);
    expect(isEd25519PublicKey(rawPublicKey(key))).to.equal(true);
    expect(rawPublicKey(ed25519PrivateKeyFromSeed(seed))).to.equal(rawPublicKey(key));
  });
});

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { ed25519, ED25519_TORSION_SUBGROUP } from '@noble/curves/ed25519.js';
import { expect } from 'chai';
import {
  canonicalRequest,
  createEd25519Verifier,
  ed25519PrivateKeyFromSeed,
  ed25519PublicKeyProblem,
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
    expect(ed25519PublicKeyProblem(rawPublicKey(key))).to.equal(undefined);
    expect(rawPublicKey(ed25519PrivateKeyFromSeed(seed))).to.equal(rawPublicKey(key));
  });

  describe('weak keys', () => {
    const P = 2n ** 255n - 19n;
    const littleEndian = (value: bigint): Buffer => Buffer.from(value.toString(16).padStart(64, '0'), 'hex').reverse();
    const identity = littleEndian(1n).toString('base64url');
    const genuine = rawPublicKey(generateKeyPairSync('ed25519').publicKey);
    const mixedOrder = ed25519.Point.fromBytes(Buffer.from(genuine, 'base64url')).add(ed25519.Point.fromHex(ED25519_TORSION_SUBGROUP[1]!));
    const weak: [string, string][] = [
      ['the identity', identity],
      // Every point of order 2, 4 or 8, as canonically encoded.
      ...ED25519_TORSION_SUBGROUP.slice(1).map((hex, n): [string, string] => [`small-order point ${n + 1}`, Buffer.from(hex, 'hex').toString('base64url')]),
      ['a genuine key plus a point of order 8', Buffer.from(mixedOrder.toBytes()).toString('base64url')],
    ];

    it('are told apart from malformed keys and from genuine ones', () => {
      expect(ed25519PublicKeyProblem(genuine)).to.equal(undefined);
      for (const [what, key] of weak) expect(ed25519PublicKeyProblem(key), what).to.equal('weak');
      // Not a point of the curve at all: y = 2 has no x.
      expect(ed25519PublicKeyProblem(littleEndian(2n).toString('base64url'))).to.equal('malformed');
      expect(ed25519PublicKeyProblem('AAAA')).to.equal('malformed');
      // The identity again, with y = p + 1: not canonically encoded.
      expect(ed25519PublicKeyProblem(littleEndian(P + 1n).toString('base64url'))).to.equal('malformed');
    });

    it('verify nothing, not even the signature anyone can make for any message with the identity', async () => {
      // R = the identity, S = 0: [S]B = R + [k]A holds for A = the identity whatever the message.
      const forged = Buffer.concat([littleEndian(1n), Buffer.alloc(32)]);
      const verifier = createEd25519Verifier();
      for (const message of ['pay 1,000,000 to mallory', 'anything else']) {
        expect(await verifier.verify({ deviceId: 'd', publicKey: identity, message: Buffer.from(message), signature: forged }), message).to.equal(false);
      }
    });
  });
});

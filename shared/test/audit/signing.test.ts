import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { AuditInputError, keyIdOf, loadAuditConfig, loadExistingSigner, loadSigner, signingKeyPath, verifySignature } from '../../src/index.js';

describe('audit: signing keys', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'folio-keys-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('generates a key on first start, readable by its owner only, and keeps using it', () => {
    const first = loadSigner({ signingKey: undefined }, directory);
    expect(statSync(signingKeyPath(directory)).mode & 0o777).to.equal(0o600);
    const again = loadSigner({ signingKey: undefined }, directory);
    expect(again.keyId).to.equal(first.keyId);
    expect(verifySignature(first.publicKeyPem, 'books', again.sign('books'))).to.equal(true);
    expect(verifySignature(first.publicKeyPem, 'books!', again.sign('books'))).to.equal(false);
    const elsewhere = loadSigner({ signingKey: undefined, signingKeyFile: join(directory, 'keys', 'k.pem') }, directory);
    expect(elsewhere.keyId).to.not.equal(first.keyId);
  });

  it('reads an existing key without ever creating one, and names the file it looked for', () => {
    const keyFile = join(directory, 'keys', 'k.pem');
    expect(() => loadExistingSigner({ signingKey: undefined }, directory)).to.throw(AuditInputError, `no key file at ${signingKeyPath(directory)}`);
    expect(() => loadExistingSigner({ signingKey: undefined, signingKeyFile: keyFile }, directory)).to.throw(AuditInputError, `no key file at ${keyFile}`);
    expect(readdirSync(directory)).to.deep.equal([]);

    const generated = loadSigner({ signingKey: undefined, signingKeyFile: keyFile }, directory);
    expect(loadExistingSigner({ signingKey: undefined, signingKeyFile: keyFile }, directory).keyId).to.equal(generated.keyId);
    const { privateKey } = generateKeyPairSync('ed25519');
    const configured = loadExistingSigner({ signingKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), signingKeyFile: keyFile }, directory);
    expect(configured.keyId).to.equal(keyIdOf(createPublicKey(privateKey)));
  });

  it('takes a configured key as PKCS#8 PEM, base64 DER or base64 seed, the same key each way', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const der = privateKey.export({ type: 'pkcs8', format: 'der' });
    const ids = [pem, der.toString('base64'), der.subarray(der.length - 32).toString('base64')].map(
      (signingKey) => loadSigner({ signingKey }, directory).keyId,
    );
    expect(new Set(ids).size).to.equal(1);
  });

  it('refuses a key that is not Ed25519 without repeating it', () => {
    const secret = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    for (const signingKey of [secret, 'not a key at all']) {
      const error = (() => {
        try {
          loadSigner({ signingKey }, directory);
          return undefined;
        } catch (caught) {
          return caught as Error;
        }
      })();
      expect(error).to.be.instanceOf(AuditInputError);
      if (signingKey.length > 60) expect(error!.message).to.not.contain(signingKey.slice(30, 60));
    }
    expect(() => loadAuditConfig({ FOLIO_AUDIT_SNAPSHOT_EVERY: '1' })).to.throw(/FOLIO_AUDIT_SNAPSHOT_EVERY/);
  });
});

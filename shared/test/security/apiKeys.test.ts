import { expect } from 'chai';
import fc from 'fast-check';
import { bearerTokenOf, digestSecret, generateApiKey, parseApiKey, secretMatches } from '../../src/security/index.js';

describe('API keys', () => {
  it('are folio_<key id>_<256-bit secret>, and only the secret digest is kept', () => {
    const key = generateApiKey();
    expect(key.token).to.match(/^folio_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(parseApiKey(key.token)).to.deep.equal({ keyId: key.keyId, secret: key.secret });
    expect(key.secretHash).to.equal(digestSecret(key.secret));
    expect(key.secretHash).to.not.contain(key.secret);
    expect(generateApiKey().token).to.not.equal(key.token);
  });

  it('match their own secret only', () => {
    const key = generateApiKey();
    expect(secretMatches(key.secret, key.secretHash)).to.equal(true);
    fc.assert(
      fc.property(fc.string(), (other) => {
        fc.pre(other !== key.secret);
        return !secretMatches(other, key.secretHash);
      }),
    );
    expect(secretMatches(key.secret, 'not hex')).to.equal(false);
  });

  it('parse nothing from a malformed token', () => {
    for (const token of ['', 'folio_', 'folio_0123_abc', `folio_0123456789ABCDEF_${'a'.repeat(43)}`, `xfolio_0123456789abcdef_${'a'.repeat(43)}`, `folio_0123456789abcdef_${'a'.repeat(44)}`]) {
      expect(parseApiKey(token), token).to.equal(undefined);
    }
  });

  it('are read from a Bearer Authorization header only', () => {
    expect(bearerTokenOf('Bearer abc')).to.equal('abc');
    expect(bearerTokenOf('bearer abc')).to.equal('abc');
    expect(bearerTokenOf('Basic abc')).to.equal(undefined);
    expect(bearerTokenOf('Bearer a b')).to.equal(undefined);
    expect(bearerTokenOf(undefined)).to.equal(undefined);
  });
});

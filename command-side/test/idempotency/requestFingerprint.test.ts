import { expect } from 'chai';
import { canonicalJson, fingerprintRequest } from '../../src/idempotency/requestFingerprint.js';

describe('request fingerprint', () => {
  const parsed = (text: string): unknown => JSON.parse(text);

  it('ignores key order and whitespace, at every depth', () => {
    const a = parsed('{"amount":"1050","from":{"account":"1","currency":"USD"},"tags":["a","b"]}');
    const b = parsed(`{
      "tags" : [ "a", "b" ],
      "from": { "currency": "USD", "account": "1" },
      "amount": "1050"
    }`);
    expect(fingerprintRequest('POST', '/transfers', a)).to.equal(fingerprintRequest('POST', '/transfers', b));
  });

  it('tells apart any difference in a value, the method or the path', () => {
    const base = fingerprintRequest('POST', '/transfers', { amount: '1050', to: '2' });
    const variants = [
      fingerprintRequest('POST', '/transfers', { amount: '1051', to: '2' }),
      fingerprintRequest('POST', '/transfers', { amount: 1050, to: '2' }),
      fingerprintRequest('POST', '/transfers', { amount: '1050', to: '2', memo: null }),
      fingerprintRequest('POST', '/transfers', { amount: '1050' }),
      fingerprintRequest('PUT', '/transfers', { amount: '1050', to: '2' }),
      fingerprintRequest('POST', '/payouts', { amount: '1050', to: '2' }),
    ];
    expect(new Set([base, ...variants]).size).to.equal(variants.length + 1);
  });

  it('gives the fingerprints recorded by earlier versions: a key claimed before an upgrade still matches', () => {
    const body = parsed(
      '{"transfers":[{"toAccountId":"2","fromAccountId":"1","amount":"1050","currency":"EUR","metadata":{"z":"é\\"","a":[1,2.5,null,true]}}]}',
    );
    expect(fingerprintRequest('POST', '/v1/transfers/batch', body)).to.equal('d762f1fad6f7722099614e86cf8a7f234ad131c995ed876e984bff5054e4e01d');
  });

  it('keeps array order significant', () => {
    expect(fingerprintRequest('POST', '/x', ['a', 'b'])).not.to.equal(fingerprintRequest('POST', '/x', ['b', 'a']));
  });

  it('treats the method case-insensitively and an absent body as null', () => {
    expect(fingerprintRequest('post', '/x', undefined)).to.equal(fingerprintRequest('POST', '/x', null));
  });

  it('writes one canonical spelling per value', () => {
    expect(canonicalJson({ b: [1, { d: true, c: 'x' }], a: null, skipped: undefined })).to.equal(
      '{"a":null,"b":[1,{"c":"x","d":true}]}',
    );
    expect(canonicalJson(Object.assign(Object.create(null) as object, { z: 1, y: 2 }))).to.equal('{"y":2,"z":1}');
  });

  it('refuses values a JSON parser cannot produce', () => {
    expect(() => canonicalJson(Number.NaN)).to.throw(TypeError);
    expect(() => canonicalJson(new Date(0))).to.throw(TypeError);
    expect(() => canonicalJson(1n)).to.throw(TypeError);
  });
});

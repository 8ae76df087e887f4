import { createHash } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import { addLeaf, canonicalJson, emptyFrontier, frontierFromJson, frontierToJson, merkleRoot, merkleRootOf } from '../../src/index.js';

const sha = (...parts: Buffer[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

describe('audit: canonical JSON', () => {
  it('sorts keys at every depth, drops whitespace, keeps arrays in order', () => {
    expect(canonicalJson({ b: [3, { z: 1, a: 'x' }], a: null, c: { y: true, x: 'é"' } })).to.equal(
      '{"a":null,"b":[3,{"a":"x","z":1}],"c":{"x":"é\\"","y":true}}',
    );
  });

  it('gives equal text for equal values whatever the key order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const reordered = JSON.parse(JSON.stringify(value, (_key, inner) =>
          inner !== null && typeof inner === 'object' && !Array.isArray(inner)
            ? Object.fromEntries(Object.entries(inner).reverse())
            : inner,
        ));
        expect(canonicalJson(reordered)).to.equal(canonicalJson(value as never));
        expect(JSON.parse(canonicalJson(value as never))).to.deep.equal(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('refuses numbers JSON cannot hold', () => {
    expect(() => canonicalJson({ a: Number.NaN })).to.throw(TypeError);
  });
});

describe('audit: Merkle tree (RFC 6962)', () => {
  const leaf = (hex: string) => sha(Buffer.from([0]), Buffer.from(hex, 'hex'));
  const node = (left: Buffer, right: Buffer) => sha(Buffer.from([1]), left, right);
  const hashes = ['11', '22', '33'].map((byte) => byte.repeat(32));

  it('splits at the largest power of two below the count, never duplicating an odd leaf', () => {
    const expected = node(node(leaf(hashes[0]!), leaf(hashes[1]!)), leaf(hashes[2]!)).toString('hex');
    expect(merkleRootOf(hashes)).to.equal(expected);
    expect(merkleRootOf([])).to.equal(createHash('sha256').digest('hex'));
    expect(merkleRootOf([hashes[0]!])).to.equal(leaf(hashes[0]!).toString('hex'));
  });

  it('the incremental frontier gives the root of the definition after every leaf, also after a JSON round trip', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 80 }), (leaves) => {
        const hexes = leaves.map((bytes) => Buffer.from(bytes).toString('hex'));
        let frontier = emptyFrontier();
        hexes.forEach((hex, index) => {
          addLeaf(frontier, hex);
          if (index % 7 === 0) frontier = frontierFromJson(frontierToJson(frontier));
          expect(merkleRoot(frontier)).to.equal(merkleRootOf(hexes.slice(0, index + 1)));
        });
      }),
    );
  });
});

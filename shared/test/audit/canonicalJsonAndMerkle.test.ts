import { createHash } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import {
  addLeaf,
  boundLeafHash,
  canonicalJson,
  checkpointLeaf,
  computeEventHash,
  emptyFrontier,
  frontierFromJson,
  frontierToJson,
  leafHash,
  merkleRoot,
  merkleRootOf,
} from '../../src/index.js';

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

  it('spells every string, key or value, as JSON.stringify does: escapes, controls, lone surrogates', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\u2028', '\ud800', '\udfff', 'é', 'a') }),
    );
    fc.assert(
      fc.property(text, text, (key, value) => {
        expect(canonicalJson(value)).to.equal(JSON.stringify(value));
        expect(canonicalJson({ [key]: value })).to.equal(`{${JSON.stringify(key)}:${JSON.stringify(value)}}`);
      }),
    );
  });

  it('refuses numbers JSON cannot hold', () => {
    expect(() => canonicalJson({ a: Number.NaN })).to.throw(TypeError);
  });

  it('hashes an event as the SHA-256 of the canonical JSON of its documented parts, chain fields left out', () => {
    const object = fc.dictionary(fc.string(), fc.jsonValue()) as fc.Arbitrary<{ [key: string]: never }>;
    fc.assert(
      fc.property(
        fc.record({
          streamName: fc.string({ minLength: 1 }),
          revision: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
          id: fc.uuid(),
          type: fc.string({ minLength: 1 }),
          data: object,
          metadata: fc.option(object, { nil: undefined }),
        }),
        fc.option(fc.stringMatching(/^[0-9a-f]{64}$/), { nil: null }),
        fc.option(fc.stringMatching(/^[0-9a-f]{64}$/), { nil: undefined }),
        (event, prev, storedHash) => {
          const metadata = event.metadata === undefined ? undefined : { ...event.metadata };
          const hashed = { ...(metadata ?? {}) };
          if (metadata !== undefined && storedHash !== undefined) Object.assign(metadata, { $hash: storedHash, $prevHash: prev });
          const expected = createHash('sha256')
            .update(
              canonicalJson({
                stream: event.streamName,
                revision: event.revision.toString(),
                id: event.id,
                type: event.type,
                data: event.data,
                metadata: hashed,
                prev,
              }),
            )
            .digest('hex');
          expect(computeEventHash({ ...event, metadata }, prev)).to.equal(expected);
        },
      ),
    );
  });
});

describe('audit: Merkle tree (RFC 6962)', () => {
  const leaf = (hex: string) => sha(Buffer.from([0]), Buffer.from(hex, 'hex'));
  const node = (left: Buffer, right: Buffer) => sha(Buffer.from([1]), left, right);
  const hashes = ['11', '22', '33'].map((byte) => byte.repeat(32));

  it('splits at the largest power of two below the count, never duplicating an odd leaf', () => {
    const expected = node(node(leaf(hashes[0]!), leaf(hashes[1]!)), leaf(hashes[2]!)).toString('hex');
    const leaves = hashes.map((hex) => leafHash(Buffer.from(hex, 'hex')));
    expect(merkleRootOf(leaves)).to.equal(expected);
    expect(merkleRootOf([])).to.equal(createHash('sha256').digest('hex'));
    expect(merkleRootOf([leaves[0]!])).to.equal(leaf(hashes[0]!).toString('hex'));
  });

  it('the incremental frontier gives the root of the definition after every leaf, also after a JSON round trip', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 80 }), (leaves) => {
        const leafHashes = leaves.map((bytes) => leafHash(Buffer.from(bytes)));
        let frontier = emptyFrontier();
        leafHashes.forEach((leafHashed, index) => {
          addLeaf(frontier, leafHashed);
          if (index % 7 === 0) frontier = frontierFromJson(frontierToJson(frontier));
          expect(merkleRoot(frontier)).to.equal(merkleRootOf(leafHashes.slice(0, index + 1)));
        });
      }),
    );
  });
});

describe('audit: Merkle leaves of the checkpoint formats', () => {
  const eventHash = 'ab'.repeat(32);
  const be64 = (value: bigint) => {
    const bytes = Buffer.alloc(8);
    bytes.writeBigInt64BE(BigInt.asIntN(64, value));
    return bytes;
  };

  it('folio-checkpoint/1 hashes the event hash alone', () => {
    const leaf = checkpointLeaf('folio-checkpoint/1', eventHash, { position: 7n, created: new Date(1) });
    expect(leaf.toString('hex')).to.equal(sha(Buffer.from([0]), Buffer.from(eventHash, 'hex')).toString('hex'));
  });

  it('folio-checkpoint/2 binds the position (unsigned) and the commit time (signed milliseconds), 64 bits big-endian each', () => {
    const created = new Date('2026-01-01T00:00:01.234Z');
    const leaf = checkpointLeaf('folio-checkpoint/2', eventHash, { position: 2n ** 64n - 1n, created });
    const expected = sha(Buffer.from([0]), Buffer.from(eventHash, 'hex'), Buffer.alloc(8, 0xff), be64(BigInt(created.getTime())));
    expect(leaf.toString('hex')).to.equal(expected.toString('hex'));
    const beforeEpoch = boundLeafHash(Buffer.from(eventHash, 'hex'), 0n, -1);
    expect(beforeEpoch.toString('hex')).to.equal(sha(Buffer.from([0]), Buffer.from(eventHash, 'hex'), Buffer.alloc(8), Buffer.alloc(8, 0xff)).toString('hex'));
  });

  it('folio-checkpoint/2 refuses what 64 bits cannot hold, or an invalid time', () => {
    const hash = Buffer.from(eventHash, 'hex');
    expect(() => boundLeafHash(hash, -1n, 0)).to.throw(RangeError);
    expect(() => boundLeafHash(hash, 2n ** 64n, 0)).to.throw(RangeError);
    expect(() => checkpointLeaf('folio-checkpoint/2', eventHash, { position: 1n, created: new Date(Number.NaN) })).to.throw(RangeError);
  });
});

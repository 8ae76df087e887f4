import { createHash, hash } from 'node:crypto';

/**
 * The Merkle tree hash of RFC 6962 (Certificate Transparency), over leaf hashes in `$all` order:
 *
 *   leaf(d)      = SHA-256(0x00 ‖ d)
 *   node(l, r)   = SHA-256(0x01 ‖ l ‖ r)
 *   MTH([])      = SHA-256("")
 *   MTH([d])     = leaf(d)
 *   MTH(D[0:n])  = node(MTH(D[0:k]), MTH(D[k:n]))  with k the largest power of two below n
 *
 * so an odd leaf is never duplicated: the right part of a split is simply smaller. The leaf data
 * `d` is, per checkpoint format (see `checkpoints.ts`), the 32-byte event hash alone (`leafHash`)
 * or the event hash bound to the event's place in the log (`boundLeafHash`). The frontier (the
 * roots of the perfect subtrees the leaves so far decompose into, largest first) is enough to add
 * leaves and to compute the root, so a checkpointer resumes from its last checkpoint.
 */
export interface MerkleFrontier {
  leafCount: bigint;
  /** Roots of perfect subtrees, largest first; their sizes are the 1-bits of `leafCount`. */
  nodes: Buffer[];
}

const HASH_BYTES = 32;
/**
 * What a leaf or node hash is taken over is assembled in one reused buffer and hashed in one
 * call: a hash object per leaf cost more than the hashing itself. Nothing awaits between filling
 * the buffer and hashing it. Parts of another length (only from a malformed input) take the
 * general path, with the same result.
 */
const scratch = Buffer.alloc(1 + 2 * HASH_BYTES);
const UINT64_LIMIT = 1n << 64n;

const prefixedHash = (prefix: number, parts: readonly Buffer[]): Buffer => {
  if (parts.some((part) => part.length !== HASH_BYTES)) {
    const general = createHash('sha256').update(Buffer.of(prefix));
    for (const part of parts) general.update(part);
    return general.digest();
  }
  scratch[0] = prefix;
  parts.forEach((part, index) => part.copy(scratch, 1 + index * HASH_BYTES));
  return hash('sha256', scratch.subarray(0, 1 + parts.length * HASH_BYTES), 'buffer');
};

export const leafHash = (eventHash: Buffer): Buffer => prefixedHash(0, [eventHash]);

/**
 * The leaf of an event bound to where and when the log holds it, 49 bytes hashed:
 *
 *   SHA-256(0x00 ‖ event hash (32 bytes) ‖ position (8 bytes) ‖ commit time (8 bytes))
 *
 * with the position as an unsigned and the commit time, in milliseconds since 1970-01-01T00:00Z,
 * as a signed (two's complement) 64-bit big-endian integer: fixed widths, so no two inputs share
 * their bytes. Milliseconds are what both event stores give back on every read (see
 * `docs/audit-format.md`). A position or time those widths cannot hold is a `RangeError`.
 */
export const boundLeafHash = (eventHash: Buffer, position: bigint, recordedAtMs: number): Buffer => {
  if (eventHash.length !== HASH_BYTES) throw new RangeError(`an event hash has ${HASH_BYTES} bytes, not ${eventHash.length}`);
  if (position < 0n || position >= UINT64_LIMIT) throw new RangeError(`position ${position} does not fit 64 unsigned bits`);
  if (!Number.isSafeInteger(recordedAtMs)) throw new RangeError(`commit time ${recordedAtMs} is not a whole number of milliseconds`);
  scratch[0] = 0;
  eventHash.copy(scratch, 1);
  scratch.writeBigUInt64BE(position, 1 + HASH_BYTES);
  scratch.writeBigInt64BE(BigInt(recordedAtMs), 1 + HASH_BYTES + 8);
  return hash('sha256', scratch.subarray(0, 1 + HASH_BYTES + 16), 'buffer');
};

export const nodeHash = (left: Buffer, right: Buffer): Buffer => prefixedHash(1, [left, right]);

export const emptyFrontier = (): MerkleFrontier => ({ leafCount: 0n, nodes: [] });

/** Sizes of the frontier's subtrees, largest first. */
const subtreeSizes = (leafCount: bigint): bigint[] => {
  const sizes: bigint[] = [];
  for (let bit = BigInt(leafCount.toString(2).length - 1); bit >= 0n; bit--) {
    if ((leafCount >> bit) & 1n) sizes.push(1n << bit);
  }
  return sizes;
};

/** Adds one leaf hash (`leafHash` or `boundLeafHash`) to the frontier, in place. */
export const addLeaf = (frontier: MerkleFrontier, leaf: Buffer): void => {
  let node = leaf;
  // Merging mirrors binary addition: each trailing 1-bit of the count is a subtree of equal size.
  let count = frontier.leafCount;
  while ((count & 1n) === 1n) {
    node = nodeHash(frontier.nodes.pop()!, node);
    count >>= 1n;
  }
  frontier.nodes.push(node);
  frontier.leafCount += 1n;
};

export const merkleRoot = (frontier: MerkleFrontier): string => {
  if (frontier.nodes.length === 0) return createHash('sha256').digest('hex');
  let root = frontier.nodes[frontier.nodes.length - 1]!;
  for (let index = frontier.nodes.length - 2; index >= 0; index--) root = nodeHash(frontier.nodes[index]!, root);
  return root.toString('hex');
};

export const cloneFrontier = (frontier: MerkleFrontier): MerkleFrontier => ({
  leafCount: frontier.leafCount,
  nodes: [...frontier.nodes],
});

export const frontierToJson = (frontier: MerkleFrontier): { leafCount: string; nodes: string[] } => ({
  leafCount: frontier.leafCount.toString(),
  nodes: frontier.nodes.map((node) => node.toString('hex')),
});

/** Checks the shape only: whether a stored frontier gives the root it was signed with is for the caller to check. */
export const frontierFromJson = (json: { leafCount: string; nodes: readonly string[] }): MerkleFrontier => {
  const frontier = { leafCount: BigInt(json.leafCount), nodes: json.nodes.map((node) => Buffer.from(node, 'hex')) };
  if (subtreeSizes(frontier.leafCount).length !== frontier.nodes.length) {
    throw new RangeError(`a frontier of ${frontier.leafCount} leaves has ${subtreeSizes(frontier.leafCount).length} nodes`);
  }
  return frontier;
};

/** The root over a list of leaf hashes, straight from the definition (for tests and small sets). */
export const merkleRootOf = (leaves: readonly Buffer[]): string => {
  const mth = (hashes: readonly Buffer[]): Buffer => {
    if (hashes.length === 1) return hashes[0]!;
    let split = 1;
    while (split * 2 < hashes.length) split *= 2;
    return nodeHash(mth(hashes.slice(0, split)), mth(hashes.slice(split)));
  };
  return leaves.length === 0 ? createHash('sha256').digest('hex') : mth(leaves).toString('hex');
};

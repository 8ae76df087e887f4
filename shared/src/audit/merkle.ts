import { createHash, hash } from 'node:crypto';

/**
 * The Merkle tree hash of RFC 6962 (Certificate Transparency), over leaves given as 32-byte event
 * hashes in `$all` order:
 *
 *   leaf(h)      = SHA-256(0x00 ‖ h)
 *   node(l, r)   = SHA-256(0x01 ‖ l ‖ r)
 *   MTH([])      = SHA-256("")
 *   MTH([h])     = leaf(h)
 *   MTH(D[0:n])  = node(MTH(D[0:k]), MTH(D[k:n]))  with k the largest power of two below n
 *
 * so an odd leaf is never duplicated: the right part of a split is simply smaller. The frontier
 * (the roots of the perfect subtrees the leaves so far decompose into, largest first) is enough
 * to add leaves and to compute the root, so a checkpointer resumes from its last checkpoint.
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

/** Adds one leaf (an event hash, hex) to the frontier, in place. */
export const addLeaf = (frontier: MerkleFrontier, eventHashHex: string): void => {
  let node = leafHash(Buffer.from(eventHashHex, 'hex'));
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

/** The root over a list of event hashes, straight from the definition (for tests and small sets). */
export const merkleRootOf = (eventHashes: readonly string[]): string => {
  const mth = (hashes: readonly string[]): Buffer => {
    if (hashes.length === 1) return leafHash(Buffer.from(hashes[0]!, 'hex'));
    let split = 1;
    while (split * 2 < hashes.length) split *= 2;
    return nodeHash(mth(hashes.slice(0, split)), mth(hashes.slice(split)));
  };
  return eventHashes.length === 0 ? createHash('sha256').digest('hex') : mth(eventHashes).toString('hex');
};

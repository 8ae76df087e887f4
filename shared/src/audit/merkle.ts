import { createHash } from 'node:crypto';

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

const LEAF_PREFIX = Buffer.from([0]);
const NODE_PREFIX = Buffer.from([1]);

export const leafHash = (eventHash: Buffer): Buffer => createHash('sha256').update(LEAF_PREFIX).update(eventHash).digest();

export const nodeHash = (left: Buffer, right: Buffer): Buffer =>
  createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();

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

import { z } from 'zod';
import { canonicalJson } from './canonicalJson.js';
import { defineEvent } from '../events/eventDefinition.js';
import { boundLeafHash, leafHash } from './merkle.js';
import { keyIdOfPem, verifySignature, type AuditSigner } from './signing.js';

/**
 * A checkpoint: the Merkle root (RFC 6962, see `merkle.ts`) over a leaf for every Merkle-leaf
 * event (see `eventHash.ts`) with a position at or below `position`, in `$all` order, signed with
 * Ed25519. The signature is over the canonical JSON of the signed payload:
 *
 *   { "format": "folio-checkpoint/2", "position": "<decimal>", "leafCount": "<decimal>",
 *     "root": "<hex>", "keyId": "<hex>", "signedAt": "<ISO-8601>" }
 *
 * The format says what a leaf is: in `folio-checkpoint/1` the event hash alone, which left the
 * commit time and position that point-in-time answers select by unsigned; in `folio-checkpoint/2`
 * the event hash bound to both (`boundLeafHash`). Checkpoints are written in the latest format;
 * those of the first stay verifiable as they were signed.
 *
 * The event also carries the public key (SPKI PEM) and the Merkle frontier, so a checkpointer can
 * resume from it; verifiers recompute everything but the signature from the events.
 */
export const LEGACY_CHECKPOINT_FORMAT = 'folio-checkpoint/1';
export const CHECKPOINT_FORMAT = 'folio-checkpoint/2';
export const CHECKPOINT_FORMATS = [LEGACY_CHECKPOINT_FORMAT, CHECKPOINT_FORMAT] as const;
export type CheckpointFormat = (typeof CHECKPOINT_FORMATS)[number];

/** An event's Merkle leaf in a checkpoint format; a `RangeError` when its position or commit time cannot be encoded. */
export const checkpointLeaf = (
  format: CheckpointFormat,
  eventHashHex: string,
  event: { position: bigint; created: Date },
): Buffer => {
  const eventHash = Buffer.from(eventHashHex, 'hex');
  return format === LEGACY_CHECKPOINT_FORMAT ? leafHash(eventHash) : boundLeafHash(eventHash, event.position, event.created.getTime());
};

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const decimal = z.string().regex(/^(0|[1-9][0-9]*)$/);

export const signedCheckpointSchema = z.object({
  format: z.enum(CHECKPOINT_FORMATS),
  position: decimal,
  leafCount: decimal,
  root: hex64,
  keyId: hex64,
  signedAt: z.iso.datetime(),
});
export type SignedCheckpointPayload = z.output<typeof signedCheckpointSchema>;

export const checkpointSchema = z.object({
  payload: signedCheckpointSchema,
  signature: z.string().min(1),
  publicKey: z.string().min(1),
  frontier: z.object({ leafCount: decimal, nodes: z.array(hex64) }),
});
export type Checkpoint = z.output<typeof checkpointSchema>;

export const checkpointRecorded = defineEvent({ type: 'CheckpointRecorded', version: 1, schema: checkpointSchema });

export const signCheckpoint = (
  signer: AuditSigner,
  fields: { position: bigint; leafCount: bigint; root: string; signedAt: Date },
  frontier: Checkpoint['frontier'],
): Checkpoint => {
  const payload: SignedCheckpointPayload = {
    format: CHECKPOINT_FORMAT,
    position: fields.position.toString(),
    leafCount: fields.leafCount.toString(),
    root: fields.root,
    keyId: signer.keyId,
    signedAt: fields.signedAt.toISOString(),
  };
  return { payload, signature: signer.sign(canonicalJson(payload)), publicKey: signer.publicKeyPem, frontier };
};

/** Why a checkpoint's signature does not hold, or `undefined` when it does. */
export const checkpointSignatureProblem = (checkpoint: Checkpoint, trustedKeyId?: string): string | undefined => {
  const keyId = keyIdOfPem(checkpoint.publicKey);
  if (keyId !== checkpoint.payload.keyId) return 'its public key is not the key it names';
  if (trustedKeyId !== undefined && keyId !== trustedKeyId) return `it is signed by key ${keyId}, not the trusted key ${trustedKeyId}`;
  if (!verifySignature(checkpoint.publicKey, canonicalJson(checkpoint.payload), checkpoint.signature)) {
    return 'its signature does not verify';
  }
  return undefined;
};

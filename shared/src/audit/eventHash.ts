import { hash } from 'node:crypto';
import type { JsonObject, RecordedEvent } from '../eventStore/eventStore.js';
import { canonicalJson, canonicalObject } from './canonicalJson.js';

/**
 * Every event of a chained stream carries, in its metadata, the hash of its predecessor in the
 * stream (`$prevHash`, `null` for revision 0) and its own hash (`$hash`):
 *
 *   hash = hex(SHA-256(canonicalJson({ stream, revision, id, type, data, metadata, prev })))
 *
 * where `revision` is the decimal string of the stream revision, `metadata` is the stored metadata
 * without `$hash` and `$prevHash` (an empty object when nothing else is left) and `prev` is
 * `$prevHash`. Altering, removing or reordering an event therefore breaks the link of the event
 * after it, or its own hash.
 *
 * An event stored without chain fields (written before chaining existed) is *unchained*: its hash
 * is the same formula with `prev = null`, and a chained successor links to that.
 */
export const HASH_KEY = '$hash';
export const PREV_HASH_KEY = '$prevHash';

/** The streams of the books themselves. */
export const CHAINED_STREAM_PREFIXES = ['account-', 'transfer-', 'deposit-', 'journal-', 'payment-', 'payout-'] as const;
export const CHECKPOINT_STREAM = 'audit-checkpoints';
export const PERIOD_STREAM = 'audit-periods';
/**
 * Snapshots only speed queries up, but a rewritten one would change their answers: they are
 * chained and covered by the checkpoints like the books.
 */
export const SNAPSHOT_STREAM_PREFIX = 'snapshot-';

export const isLedgerStream = (streamName: string): boolean =>
  CHAINED_STREAM_PREFIXES.some((prefix) => streamName.startsWith(prefix));

/** Streams whose events are chained: the books, the closed periods, the snapshots and the signed checkpoints. */
export const isChainedStream = (streamName: string): boolean =>
  isLedgerStream(streamName) ||
  streamName === CHECKPOINT_STREAM ||
  streamName === PERIOD_STREAM ||
  streamName.startsWith(SNAPSHOT_STREAM_PREFIX);

/**
 * Events the Merkle checkpoints cover: every chained event except the checkpoints themselves,
 * which are signed one by one (and a checkpoint covering the previous one would never settle).
 */
export const isMerkleLeafStream = (streamName: string): boolean =>
  isChainedStream(streamName) && streamName !== CHECKPOINT_STREAM;

/** The parts of an event its hash covers. */
export interface HashableEvent {
  streamName: string;
  revision: bigint;
  id: string;
  type: string;
  data: JsonObject;
  metadata: JsonObject | undefined;
}

/** One call, no hash object: a text is hashed as its UTF-8 bytes. */
export const sha256Hex = (text: string | Uint8Array): string => hash('sha256', text, 'hex');

const CHAIN_KEYS: ReadonlySet<string> = new Set([HASH_KEY, PREV_HASH_KEY]);

/**
 * The canonical JSON of the hashed object written member by member, its keys already in
 * canonical order (data, id, metadata, prev, revision, stream, type): the same text as
 * `canonicalJson` of that object, without building it.
 */
export const computeEventHash = (event: HashableEvent, prev: string | null): string =>
  sha256Hex(
    `{"data":${canonicalJson(event.data)},"id":${JSON.stringify(event.id)},` +
      `"metadata":${event.metadata === undefined ? '{}' : canonicalObject(event.metadata, CHAIN_KEYS)},` +
      `"prev":${prev === null ? 'null' : JSON.stringify(prev)},"revision":"${event.revision.toString()}",` +
      `"stream":${JSON.stringify(event.streamName)},"type":${JSON.stringify(event.type)}}`,
  );

export interface ChainFields {
  hash: string;
  prevHash: string | null;
}

const HEX_HASH = /^[0-9a-f]{64}$/;

/** The chain fields an event carries; `undefined` when it is unchained (or they are malformed). */
export const chainFieldsOf = (metadata: JsonObject | undefined): ChainFields | undefined => {
  const hash = metadata?.[HASH_KEY];
  const prevHash = metadata?.[PREV_HASH_KEY];
  if (typeof hash !== 'string' || !HEX_HASH.test(hash)) return undefined;
  if (prevHash !== null && (typeof prevHash !== 'string' || !HEX_HASH.test(prevHash))) return undefined;
  return { hash, prevHash };
};

/** True when the event has any chain field at all, well-formed or not. */
export const hasChainFields = (metadata: JsonObject | undefined): boolean =>
  metadata !== undefined && (HASH_KEY in metadata || PREV_HASH_KEY in metadata);

/**
 * The hash a successor links to, as the store holds it: the stored `$hash` of a chained event,
 * the formula with `prev = null` for an unchained one. Verification recomputes instead of
 * trusting the stored field.
 */
export const linkHashOf = (event: RecordedEvent): string =>
  chainFieldsOf(event.metadata)?.hash ?? computeEventHash(event, null);

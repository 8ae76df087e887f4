/**
 * The events of an idempotency record, one stream per (caller, key). A record lives in cycles:
 * `Started` claims the key, `Completed` or `Abandoned` ends the attempt; a takeover or a retry
 * after `Abandoned` appends another `Started` with the same `resourceId`; once `expiresAt` has
 * passed, a new cycle (new `resourceId`) may begin on the same stream.
 */
import { createEventCatalog, defineEvent } from '@folio/shared';
import { z } from 'zod';

const isoInstant = z.iso.datetime({ error: 'expected an ISO-8601 UTC timestamp' });

/** Answers to parts of a request (keyed by part: a batch item's index) that are final though the request is not. */
const finalParts = z.record(z.string(), z.json());

export const idempotentRequestStarted = defineEvent({
  type: 'IdempotentRequestStarted',
  version: 1,
  schema: z.object({
    callerId: z.string().min(1),
    /** Of the request that claimed the key; any other request with this key is refused. */
    fingerprint: z.string().min(1),
    /** The id the operation creates, kept across takeovers so a re-run is the same operation. */
    resourceId: z.string().min(1),
    startedAt: isoInstant,
    /** When the key may be used for a new request; a takeover keeps the first attempt's value. */
    expiresAt: isoInstant,
    /** The process that claimed the key (one id per process start). */
    processId: z.string().min(1).optional(),
    /** The parts earlier attempts of this cycle answered for good, carried to every later claim. */
    finalParts: finalParts.optional(),
  }),
});

export const idempotentRequestCompleted = defineEvent({
  type: 'IdempotentRequestCompleted',
  version: 1,
  schema: z.object({
    status: z.number().int().min(100).max(599),
    body: z.json(),
    headers: z.record(z.string(), z.string()).optional(),
  }),
});

export const idempotentRequestAbandoned = defineEvent({
  type: 'IdempotentRequestAbandoned',
  version: 1,
  schema: z.object({
    reason: z.string(),
    /** Every part answered for good so far, earlier attempts' included: the client may have seen them. */
    finalParts: finalParts.optional(),
  }),
});

export const idempotencyCatalog = createEventCatalog([
  idempotentRequestStarted,
  idempotentRequestCompleted,
  idempotentRequestAbandoned,
]);

/** Prefix of every idempotency stream, for subscribers that want to skip them. */
export const IDEMPOTENCY_STREAM_PREFIX = 'idempotency-';

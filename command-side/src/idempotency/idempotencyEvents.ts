/**
 * The events of an idempotency record, one stream per (caller, key). A record lives in cycles:
 * `Started` claims the key, `Completed` or `Abandoned` ends the attempt; a takeover or a retry
 * after `Abandoned` appends another `Started` with the same `resourceId`; once `expiresAt` has
 * passed, a new cycle (new `resourceId`) may begin on the same stream. A response too large for one
 * append of the store is recorded as `ResponsePart`s followed by `CompletedInParts`.
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
    /** When the key may be used for a new request; a takeover keeps the first attempt's value unless it has passed. */
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

/** A slice of the JSON text of a response body too large for one append; see `CompletedInParts`. */
export const idempotentResponsePart = defineEvent({
  type: 'IdempotentResponsePart',
  version: 1,
  schema: z.object({
    /** The execution that wrote it: only its own completion names it. */
    attemptId: z.string().min(1),
    index: z.number().int().min(0),
    text: z.string(),
  }),
});

/**
 * `Completed` for a body recorded in parts: the body is the JSON text of parts `0 … parts - 1` of
 * `attemptId`, all written before this event in the same cycle.
 */
export const idempotentRequestCompletedInParts = defineEvent({
  type: 'IdempotentRequestCompletedInParts',
  version: 1,
  schema: z.object({
    status: z.number().int().min(100).max(599),
    headers: z.record(z.string(), z.string()).optional(),
    attemptId: z.string().min(1),
    parts: z.number().int().min(1),
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
  idempotentResponsePart,
  idempotentRequestCompletedInParts,
]);

/** Prefix of every idempotency stream, for subscribers that want to skip them. */
export const IDEMPOTENCY_STREAM_PREFIX = 'idempotency-';

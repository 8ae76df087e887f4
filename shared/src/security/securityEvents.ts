/**
 * Credentials live in the event store like everything else the write side knows: one stream per
 * API key (`apikey-<keyId>`) and per registered device (`device-<deviceId>`). Secrets never do:
 * only their digests.
 */
import { z } from 'zod';
import { createEventCatalog } from '../events/catalog.js';
import { defineEvent } from '../events/eventDefinition.js';
import { holderRoleSchema, roleSchema } from './principal.js';

export const API_KEY_STREAM_PREFIX = 'apikey-';
export const DEVICE_STREAM_PREFIX = 'device-';
export const apiKeyStream = (keyId: string): string => `${API_KEY_STREAM_PREFIX}${keyId}`;
export const deviceStream = (deviceId: string): string => `${DEVICE_STREAM_PREFIX}${deviceId}`;

const hexDigest = z.string().regex(/^[0-9a-f]{64}$/);

export const apiKeyCreated = defineEvent({
  type: 'ApiKeyCreated',
  version: 1,
  schema: z.object({
    keyId: z.string().regex(/^[0-9a-f]{16}$/),
    role: roleSchema,
    ownerId: z.string().min(1).optional(),
    /** SHA-256 of the secret, hex. */
    secretHash: hexDigest,
    label: z.string().optional(),
  }),
});

export const apiKeyRevoked = defineEvent({
  type: 'ApiKeyRevoked',
  version: 1,
  schema: z.object({ keyId: z.string().min(1) }),
});

export const deviceKeyRegistered = defineEvent({
  type: 'DeviceKeyRegistered',
  version: 1,
  schema: z.object({
    deviceId: z.string().min(1),
    ownerId: z.string().min(1),
    /**
     * Whose device of `ownerId`: the customer's or the merchant's. Absent on devices registered
     * before it was recorded; the credential directory reads those from the key that registered them.
     */
    role: holderRoleSchema.optional(),
    /** The raw 32-byte Ed25519 public key, base64url. */
    publicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  }),
});

/** A lost or stolen device: its signatures are refused from then on. */
export const deviceKeyRevoked = defineEvent({
  type: 'DeviceKeyRevoked',
  version: 1,
  schema: z.object({ deviceId: z.string().min(1) }),
});

export const securityCatalog = createEventCatalog([apiKeyCreated, apiKeyRevoked, deviceKeyRegistered, deviceKeyRevoked]);

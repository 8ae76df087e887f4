/**
 * Creating and revoking API keys and registering device keys: appends to the credential streams,
 * used by the `folio keys` CLI, the bootstrap admin key and `POST /v1/devices`.
 */
import { randomUUID } from 'node:crypto';
import type { EventStore } from '../eventStore/eventStore.js';
import { createEnvelope } from '../events/envelope.js';
import { deterministicEventId } from '../ids/eventIds.js';
import { digestSecret, generateApiKey, parseApiKey, secretMatches, type NewApiKey } from './apiKeys.js';
import type { HolderRole, Role } from './principal.js';
import {
  API_KEY_STREAM_PREFIX,
  apiKeyCreated,
  apiKeyRevoked,
  apiKeyStream,
  deviceKeyRegistered,
  deviceKeyRevoked,
  deviceStream,
  securityCatalog,
} from './securityEvents.js';
import { StreamNotFoundError } from '../eventStore/errors.js';

export interface CredentialCommandsOptions {
  eventStore: EventStore;
  clock: () => Date;
  /** Who acts, recorded on each event (`cli`, `bootstrap`, `key:<id>`). */
  actor: string;
}

export interface CreateKeyRequest {
  role: Role;
  ownerId?: string;
  label?: string;
}

export interface StoredKey {
  keyId: string;
  role: Role;
  ownerId: string | undefined;
  label: string | undefined;
  createdAt: string;
  revokedAt: string | undefined;
}

export const createCredentialCommands = ({ eventStore, clock, actor }: CredentialCommandsOptions) => {
  const metadata = () => ({ $correlationId: randomUUID(), actor, occurredAt: clock().toISOString() });

  const appendKey = async (key: NewApiKey, request: CreateKeyRequest) => {
    const event = createEnvelope(apiKeyCreated, {
      id: deterministicEventId('apikey', key.keyId),
      data: {
        keyId: key.keyId,
        role: request.role,
        ...(request.ownerId === undefined ? {} : { ownerId: request.ownerId }),
        secretHash: key.secretHash,
        ...(request.label === undefined ? {} : { label: request.label }),
      },
      metadata: metadata(),
    });
    const encoded = securityCatalog.encode(event);
    const result = await eventStore.appendToStream(apiKeyStream(key.keyId), [encoded], { expectedRevision: 'no_stream' });
    return { event: encoded, position: result.position };
  };

  return {
    /** A new key; its token is in the answer only. */
    async createKey(request: CreateKeyRequest) {
      const key = generateApiKey();
      const { event, position } = await appendKey(key, request);
      return { keyId: key.keyId, token: key.token, event, position };
    },

    /**
     * Makes sure the key `token` exists (the bootstrap admin key from the environment): written
     * on first start, left alone after; a different secret under the same id is refused.
     */
    async ensureKey(token: string, request: CreateKeyRequest) {
      const parts = parseApiKey(token);
      if (parts === undefined) throw new Error('the key is not of the form folio_<16 hex>_<43 base64url characters>');
      const existing = await listKeys([parts.keyId]);
      const found = existing[0];
      if (found !== undefined) {
        const stored = await readSecretHash(parts.keyId);
        if (found.revokedAt !== undefined || stored === undefined || !secretMatches(parts.secret, stored)) {
          throw new Error(`key ${parts.keyId} exists with another secret or was revoked`);
        }
        return { keyId: parts.keyId, created: false };
      }
      await appendKey({ ...parts, token, secretHash: digestSecret(parts.secret) }, request);
      return { keyId: parts.keyId, created: true };
    },

    async revokeKey(keyId: string) {
      const event = createEnvelope(apiKeyRevoked, {
        id: deterministicEventId('apikey-revoked', keyId),
        data: { keyId },
        metadata: metadata(),
      });
      const encoded = securityCatalog.encode(event);
      await eventStore.appendToStream(apiKeyStream(keyId), [encoded], { expectedRevision: 'stream_exists' });
      return encoded;
    },

    /** A device of the holder `role` `ownerId`. */
    async registerDevice(deviceId: string, ownerId: string, publicKey: string, role: HolderRole) {
      const event = createEnvelope(deviceKeyRegistered, {
        id: deterministicEventId('device', deviceId),
        data: { deviceId, ownerId, role, publicKey },
        metadata: metadata(),
      });
      const encoded = securityCatalog.encode(event);
      const result = await eventStore.appendToStream(deviceStream(deviceId), [encoded], { expectedRevision: 'no_stream' });
      return { event: encoded, position: result.position };
    },

    /** Revokes a registered device (once: a second revocation is the same event). */
    async revokeDevice(deviceId: string) {
      const event = createEnvelope(deviceKeyRevoked, {
        id: deterministicEventId('device-revoked', deviceId),
        data: { deviceId },
        metadata: metadata(),
      });
      const encoded = securityCatalog.encode(event);
      const result = await eventStore.appendToStream(deviceStream(deviceId), [encoded], { expectedRevision: 'stream_exists' });
      return { event: encoded, position: result.position };
    },

    listKeys,
  };

  /** Every key (or those named), oldest first, without secrets. */
  async function listKeys(only?: readonly string[]): Promise<StoredKey[]> {
    const found = new Map<string, StoredKey>();
    const streams = only?.map(apiKeyStream);
    const events = streams === undefined ? eventStore.readAll({ filter: { streamNamePrefixes: [API_KEY_STREAM_PREFIX] } }) : readStreams(streams);
    for await (const recorded of events) {
      const event = securityCatalog.decode(recorded);
      if (event.type === 'ApiKeyCreated') {
        found.set(event.data.keyId, {
          keyId: event.data.keyId,
          role: event.data.role,
          ownerId: event.data.ownerId,
          label: event.data.label,
          createdAt: event.metadata.occurredAt,
          revokedAt: undefined,
        });
      } else if (event.type === 'ApiKeyRevoked') {
        const key = found.get(event.data.keyId);
        if (key !== undefined) key.revokedAt = event.metadata.occurredAt;
      }
    }
    return [...found.values()];
  }

  async function* readStreams(streams: readonly string[]) {
    for (const stream of streams) {
      try {
        yield* eventStore.readStream(stream);
      } catch (error) {
        if (!(error instanceof StreamNotFoundError)) throw error;
      }
    }
  }

  async function readSecretHash(keyId: string): Promise<string | undefined> {
    for await (const recorded of readStreams([apiKeyStream(keyId)])) {
      const event = securityCatalog.decode(recorded);
      if (event.type === 'ApiKeyCreated') return event.data.secretHash;
    }
    return undefined;
  }
};

export type CredentialCommands = ReturnType<typeof createCredentialCommands>;

/**
 * What every process knows about credentials and account holders, kept current by following the
 * log: API keys and device keys (a revocation of either applies as soon as its event arrives), and
 * which holder owns which account. A miss reads the stream itself, so a key created a moment ago by the CLI in
 * another process, or an account opened by the previous request, is already known.
 */
import { z } from 'zod';
import { StreamNotFoundError, SubscriptionDroppedError } from '../eventStore/errors.js';
import type { EventStore, GlobalPosition, RecordedEvent } from '../eventStore/eventStore.js';
import { accountStream, ACCOUNT_STREAM_PREFIX } from '../ledger/streams.js';
import { secretMatches, parseApiKey } from './apiKeys.js';
import type { Principal, Role } from './principal.js';
import { roleSchema } from './principal.js';
import { API_KEY_STREAM_PREFIX, apiKeyStream, DEVICE_STREAM_PREFIX, deviceStream } from './securityEvents.js';

interface KnownKey {
  role: Role;
  ownerId: string | undefined;
  secretHash: string;
  revoked: boolean;
}

export interface DeviceKey {
  deviceId: string;
  ownerId: string;
  /** Raw Ed25519 public key, base64url. */
  publicKey: string;
}

const keyCreatedData = z.object({
  keyId: z.string(),
  role: roleSchema,
  ownerId: z.string().optional(),
  secretHash: z.string(),
});
const keyRevokedData = z.object({ keyId: z.string() });
const deviceData = z.object({ deviceId: z.string(), ownerId: z.string(), publicKey: z.string() });
const deviceRevokedData = z.object({ deviceId: z.string() });
const accountOpenedData = z.object({ accountId: z.string(), ownerId: z.string(), kind: z.string() });

/** Whose an account is, and of what kind: a holder's key acts on the accounts of its own kind only. */
export interface AccountHolder {
  ownerId: string;
  kind: string;
}

export interface CredentialDirectory {
  /** Follows the log; resolves once everything committed so far is known. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The principal of a valid, unrevoked bearer token; `undefined` for anything else. */
  authenticate(token: string): Promise<Principal | undefined>;
  /** Whose `accountId` is and its kind; `undefined` for an account never opened. */
  holderOfAccount(accountId: string): Promise<AccountHolder | undefined>;
  /** The accounts of `kind` opened for `ownerId` that this process has seen. */
  accountsOf(ownerId: string, kind: string): readonly string[];
  /** A registered device that is not revoked. */
  device(deviceId: string): Promise<DeviceKey | undefined>;
  /** A registered device, revoked or not: whose it is, for revoking it again. */
  registeredDevice(deviceId: string): Promise<DeviceKey | undefined>;
  /** Whether `ownerId` has registered a device that this process has seen, revoked ones included. */
  hasDevice(ownerId: string): boolean;
  /** Keys known, revoked ones included. */
  keyCount(): number;
  /** Applies an event this process has just appended, without waiting for the subscription. */
  apply(event: Pick<RecordedEvent, 'type' | 'data'>): void;
}

export interface CredentialDirectoryOptions {
  eventStore: EventStore;
  onError: (error: unknown) => void;
}

/** Owner ids are free text; a newline is not in any kind, so the pair cannot be mistaken. */
const ownedBy = (ownerId: string, kind: string): string => `${kind}\n${ownerId}`;

export const createCredentialDirectory = ({ eventStore, onError }: CredentialDirectoryOptions): CredentialDirectory => {
  const keys = new Map<string, KnownKey>();
  const devices = new Map<string, DeviceKey>();
  const revokedDevices = new Set<string>();
  const deviceOwners = new Set<string>();
  const holders = new Map<string, AccountHolder>();
  const accountsByOwner = new Map<string, string[]>();
  let stopped = false;
  let subscription: ReturnType<EventStore['subscribeToAll']> | undefined;

  const apply = ({ type, data }: Pick<RecordedEvent, 'type' | 'data'>): void => {
    switch (type) {
      case 'ApiKeyCreated': {
        const parsed = keyCreatedData.safeParse(data);
        if (!parsed.success) return;
        const known = keys.get(parsed.data.keyId);
        keys.set(parsed.data.keyId, {
          role: parsed.data.role,
          ownerId: parsed.data.ownerId,
          secretHash: parsed.data.secretHash,
          revoked: known?.revoked ?? false,
        });
        return;
      }
      case 'ApiKeyRevoked': {
        const parsed = keyRevokedData.safeParse(data);
        if (!parsed.success) return;
        const known = keys.get(parsed.data.keyId);
        if (known !== undefined) known.revoked = true;
        return;
      }
      case 'DeviceKeyRegistered': {
        const parsed = deviceData.safeParse(data);
        if (!parsed.success) return;
        devices.set(parsed.data.deviceId, parsed.data);
        deviceOwners.add(parsed.data.ownerId);
        return;
      }
      case 'DeviceKeyRevoked': {
        // The holder still counts as enrolled: a new device comes signed by another, or from an admin.
        const parsed = deviceRevokedData.safeParse(data);
        if (parsed.success) revokedDevices.add(parsed.data.deviceId);
        return;
      }
      case 'AccountOpened': {
        const parsed = accountOpenedData.safeParse(data);
        if (!parsed.success || holders.has(parsed.data.accountId)) return;
        const { accountId, ownerId, kind } = parsed.data;
        holders.set(accountId, { ownerId, kind });
        const list = accountsByOwner.get(ownedBy(ownerId, kind)) ?? [];
        list.push(accountId);
        accountsByOwner.set(ownedBy(ownerId, kind), list);
        return;
      }
      default:
        return;
    }
  };

  const readThrough = async (streamName: string, maxCount?: number): Promise<void> => {
    try {
      for await (const event of eventStore.readStream(streamName, maxCount === undefined ? {} : { maxCount })) apply(event);
    } catch (error) {
      // A stream that does not exist is simply unknown.
      if (!(error instanceof StreamNotFoundError)) throw error;
    }
  };

  const follow = async (caughtUp: () => void): Promise<void> => {
    let from: 'start' | GlobalPosition = 'start';
    while (!stopped) {
      subscription = eventStore.subscribeToAll({
        fromPosition: from,
        filter: {
          streamNamePrefixes: [API_KEY_STREAM_PREFIX, DEVICE_STREAM_PREFIX, ACCOUNT_STREAM_PREFIX],
          eventTypePrefixes: ['ApiKey', 'DeviceKey', 'AccountOpened'],
        },
      });
      try {
        for await (const message of subscription) {
          if (message.kind === 'event') {
            apply(message.event);
            from = message.event.position;
          } else if (message.kind === 'caughtUp') {
            caughtUp();
          }
        }
        return;
      } catch (error) {
        if (!(error instanceof SubscriptionDroppedError)) onError(error);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  };

  const registeredDevice = async (deviceId: string): Promise<DeviceKey | undefined> => {
    if (!devices.has(deviceId)) await readThrough(deviceStream(deviceId));
    return devices.get(deviceId);
  };

  return {
    start: () =>
      new Promise<void>((resolve) => {
        void follow(resolve);
      }),
    async stop() {
      stopped = true;
      await subscription?.unsubscribe();
    },
    async authenticate(token) {
      const parts = parseApiKey(token);
      if (parts === undefined) return undefined;
      if (!keys.has(parts.keyId)) await readThrough(apiKeyStream(parts.keyId));
      const known = keys.get(parts.keyId);
      if (known === undefined || known.revoked || !secretMatches(parts.secret, known.secretHash)) return undefined;
      return { keyId: parts.keyId, role: known.role, ...(known.ownerId === undefined ? {} : { ownerId: known.ownerId }) };
    },
    async holderOfAccount(accountId) {
      if (!holders.has(accountId)) await readThrough(accountStream(accountId), 1);
      return holders.get(accountId);
    },
    keyCount: () => keys.size,
    accountsOf: (ownerId, kind) => accountsByOwner.get(ownedBy(ownerId, kind)) ?? [],
    async device(deviceId) {
      const device = await registeredDevice(deviceId);
      return revokedDevices.has(deviceId) ? undefined : device;
    },
    registeredDevice,
    hasDevice: (ownerId) => deviceOwners.has(ownerId),
    apply,
  };
};

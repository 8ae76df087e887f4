/**
 * What every process knows about credentials and account holders, kept current by following the
 * log: API keys and device keys (a revocation of either applies as soon as its event arrives), and
 * which holder owns which account. A miss reads the stream itself, so a key created a moment ago by the CLI in
 * another process, or an account opened by the previous request, is already known.
 */
import { z } from 'zod';
import { StreamNotFoundError, SubscriptionDroppedError } from '../eventStore/errors.js';
import type { EventFilter, EventStore, GlobalPosition, JsonObject, RecordedEvent } from '../eventStore/eventStore.js';
import { accountStream, ACCOUNT_STREAM_PREFIX } from '../ledger/streams.js';
import { secretMatches, parseApiKey } from './apiKeys.js';
import type { HolderRole, Principal, Role } from './principal.js';
import { holderRoleSchema, isHolderRole, roleSchema } from './principal.js';
import { CredentialsCatchingUpError } from './securityErrors.js';
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
  /** Whose device of `ownerId`; `undefined` when that cannot be told (see `roleOf`): no holder's. */
  role: HolderRole | undefined;
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
const deviceData = z.object({ deviceId: z.string(), ownerId: z.string(), role: holderRoleSchema.optional(), publicKey: z.string() });
const deviceRevokedData = z.object({ deviceId: z.string() });
const accountOpenedData = z.object({ accountId: z.string(), ownerId: z.string(), kind: z.string() });

/** An event's `actor` when a key acted (see `actorOf`). */
const KEY_ACTOR = /^key:([0-9a-f]{16})$/;

interface KnownDevice {
  deviceId: string;
  ownerId: string;
  /** As recorded; absent on devices registered before the role was. */
  role: HolderRole | undefined;
  publicKey: string;
  /** The key that registered it, from the event's `actor`. */
  registeredBy: string | undefined;
}

/** Whose an account is, and of what kind: a holder's key acts on the accounts of its own kind only. */
export interface AccountHolder {
  ownerId: string;
  kind: string;
}

/** How far a directory has followed the log. */
export interface DirectoryProgress {
  /**
   * The position of the last event it applied, or past which the log reported only events it
   * skips; `undefined` before either.
   */
  position: GlobalPosition | undefined;
  /** Whether its subscription is live: caught up with the log, and not fallen behind since. */
  caughtUp: boolean;
}

export interface CredentialDirectory {
  /** Follows the log; resolves once everything committed so far is known. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The events it follows: it skips every other, so its position may stay short of the head. */
  readonly follows: EventFilter;
  progress(): DirectoryProgress;
  /** Resolves true once its position has reached `target` (at once when it has), or false after `timeoutMs`. */
  waitFor(target: GlobalPosition, timeoutMs: number): Promise<boolean>;
  /** The principal of a valid, unrevoked bearer token; `undefined` for anything else. */
  authenticate(token: string): Promise<Principal | undefined>;
  /** Whose `accountId` is and its kind; `undefined` for an account never opened. */
  holderOfAccount(accountId: string): Promise<AccountHolder | undefined>;
  /** The accounts of `kind` opened for `ownerId` that this process has seen: every one up to `progress().position` at least. */
  accountsOf(ownerId: string, kind: string): readonly string[];
  /** A registered device that is not revoked. */
  device(deviceId: string): Promise<DeviceKey | undefined>;
  /** A registered device, revoked or not: whose it is, for revoking it again. */
  registeredDevice(deviceId: string): Promise<DeviceKey | undefined>;
  /**
   * Whether the holder `role` `ownerId` has registered a device that this
   * process has seen, revoked ones included. Throws `CredentialsCatchingUpError` for one it has
   * seen none of while its subscription is not live: another process may have enrolled one.
   */
  hasDevice(ownerId: string, role: HolderRole): boolean;
  /** Keys known, revoked ones included. */
  keyCount(): number;
  /** Applies an event this process has just appended, without waiting for the subscription. */
  apply(event: Pick<RecordedEvent, 'type' | 'data'> & { metadata?: JsonObject | undefined }): void;
}

export interface CredentialDirectoryOptions {
  eventStore: EventStore;
  onError: (error: unknown) => void;
}

const FOLLOWED: EventFilter = {
  streamNamePrefixes: [API_KEY_STREAM_PREFIX, DEVICE_STREAM_PREFIX, ACCOUNT_STREAM_PREFIX],
  eventTypePrefixes: ['ApiKey', 'DeviceKey', 'AccountOpened'],
};

/** Owner ids are free text; a newline is not in any kind, so the pair cannot be mistaken. */
const ownedBy = (ownerId: string, kind: string): string => `${kind}\n${ownerId}`;

export const createCredentialDirectory = ({ eventStore, onError }: CredentialDirectoryOptions): CredentialDirectory => {
  const keys = new Map<string, KnownKey>();
  const devices = new Map<string, KnownDevice>();
  const revokedDevices = new Set<string>();
  const devicesByOwner = new Map<string, KnownDevice[]>();
  const holders = new Map<string, AccountHolder>();
  const accountsByOwner = new Map<string, string[]>();
  let stopped = false;
  let subscription: ReturnType<EventStore['subscribeToAll']> | undefined;
  let position: GlobalPosition | undefined;
  let caughtUp = false;
  const waiters = new Set<{ target: GlobalPosition; resolve: () => void }>();

  const advance = (to: GlobalPosition): void => {
    if (position !== undefined && to <= position) return;
    position = to;
    for (const waiter of waiters) {
      if (waiter.target <= to) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };

  /**
   * Whose a device is. A device registered before its role was recorded is read as the role of
   * the key that registered it, when that was a holder's key of the device's owner id: the only
   * key that registered devices for its holder itself. One an admin registered (or whose key this
   * process does not know) could be either holder's: it is nobody's, so it signs for no holder and
   * no holder revokes it, while it still counts as enrolling both (see `hasDevice`).
   */
  const roleOf = (device: KnownDevice): HolderRole | undefined => {
    if (device.role !== undefined) return device.role;
    const key = device.registeredBy === undefined ? undefined : keys.get(device.registeredBy);
    return key !== undefined && isHolderRole(key.role) && key.ownerId === device.ownerId ? key.role : undefined;
  };

  const apply = ({ type, data, metadata }: Pick<RecordedEvent, 'type' | 'data'> & { metadata?: JsonObject | undefined }): void => {
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
        // The same event arrives twice: from the route that appended it and from the log.
        if (!parsed.success || devices.has(parsed.data.deviceId)) return;
        const actor = typeof metadata?.actor === 'string' ? KEY_ACTOR.exec(metadata.actor) : null;
        const { deviceId, ownerId, role, publicKey } = parsed.data;
        const device: KnownDevice = { deviceId, ownerId, role, publicKey, registeredBy: actor?.[1] };
        devices.set(device.deviceId, device);
        const list = devicesByOwner.get(device.ownerId) ?? [];
        list.push(device);
        devicesByOwner.set(device.ownerId, list);
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

  const follow = async (started: () => void): Promise<void> => {
    while (!stopped) {
      subscription = eventStore.subscribeToAll({ fromPosition: position ?? 'start', filter: FOLLOWED });
      try {
        for await (const message of subscription) {
          if (message.kind === 'event') {
            apply(message.event);
            advance(message.event.position);
          } else if (message.kind === 'checkpoint') {
            advance(message.position);
          } else if (message.kind === 'caughtUp') {
            caughtUp = true;
            started();
          } else {
            // Fallen behind: catching up again.
            caughtUp = false;
          }
        }
        return;
      } catch (error) {
        caughtUp = false;
        if (!(error instanceof SubscriptionDroppedError)) onError(error);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  };

  /**
   * Whether what this process knows of a key or device may be used as is. While its subscription
   * is not live (fallen behind, dropped and catching up), a revocation may be in the log and not
   * here yet: the credential's own stream is read again at each use until it is.
   */
  const isCurrent = (known: boolean): boolean => known && caughtUp;

  const registeredDevice = async (deviceId: string): Promise<DeviceKey | undefined> => {
    if (!isCurrent(devices.has(deviceId))) await readThrough(deviceStream(deviceId));
    const device = devices.get(deviceId);
    if (device === undefined) return undefined;
    if (device.role === undefined && device.registeredBy !== undefined && !keys.has(device.registeredBy)) {
      await readThrough(apiKeyStream(device.registeredBy));
    }
    return { deviceId, ownerId: device.ownerId, role: roleOf(device), publicKey: device.publicKey };
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
    follows: FOLLOWED,
    progress: () => ({ position, caughtUp }),
    waitFor(target, timeoutMs) {
      if (position !== undefined && position >= target) return Promise.resolve(true);
      return new Promise((resolve) => {
        const waiter = { target, resolve: () => resolve(true) };
        waiters.add(waiter);
        setTimeout(() => {
          if (waiters.delete(waiter)) resolve(false);
        }, timeoutMs).unref();
      });
    },
    async authenticate(token) {
      const parts = parseApiKey(token);
      if (parts === undefined) return undefined;
      if (!isCurrent(keys.has(parts.keyId))) await readThrough(apiKeyStream(parts.keyId));
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
    hasDevice(ownerId, role) {
      // A device whose holder cannot be told enrols both of its owner id: a bearer key alone adds no device beside it.
      const enrolled = (devicesByOwner.get(ownerId) ?? []).some((device) => {
        const holder = roleOf(device);
        return holder === undefined || holder === role;
      });
      // An enrolment is never undone, so a device seen is current; none seen is, only while live.
      if (!enrolled && !caughtUp) throw new CredentialsCatchingUpError();
      return enrolled;
    },
    apply,
  };
};

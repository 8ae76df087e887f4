/** Folio in-process with keys of every role, and a client that signs like a customer's device. */
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import {
  createCredentialCommands,
  rawPublicKey,
  signRequest,
  type CreateKeyRequest,
} from '@folio/shared';
import { startFolioInProcess, type RunningFolio } from '../fixtures/inProcessFolio.js';

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

export interface Device {
  deviceId: string;
  privateKey: KeyObject;
}

export interface RequestOptions {
  key?: string | undefined;
  body?: unknown;
  /** Sent as is instead of `body`. */
  rawBody?: string;
  contentType?: string;
  idempotencyKey?: string;
  /** Signs the request with this device (at `timestamp`, default now). */
  device?: Device;
  timestamp?: number;
  headers?: Record<string, string>;
}

export const startSecuredFolio = async (environment: Record<string, string> = {}) => {
  // The sandbox never answers a payment here: what a test does to one is all that happens to it,
  // not a capture, failure or settlement the sandbox sends at a random moment.
  const folio: RunningFolio = await startFolioInProcess('folio-security-', environment, undefined, { sandboxFaults: { paymentSilenceRate: 1 } });
  const commands = createCredentialCommands({ eventStore: folio.system.eventStore, clock: () => new Date(), actor: 'test' });
  /** The first device registered with each key: it signs the registration of the next ones. */
  const enrolled = new Map<string, Device>();

  const request = async (method: string, path: string, options: RequestOptions = {}): Promise<Answer> => {
    const text = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    const idempotencyKey = options.idempotencyKey ?? (method === 'POST' ? randomUUID() : undefined);
    const signature =
      options.device === undefined
        ? {}
        : signRequest(options.device.privateKey, options.device.deviceId, {
            method,
            path,
            body: text ?? '',
            idempotencyKey,
            timestamp: options.timestamp ?? Math.floor(Date.now() / 1000),
          });
    const response = await fetch(`${folio.baseUrl}${path}`, {
      method,
      headers: {
        ...(text === undefined ? {} : { 'content-type': options.contentType ?? 'application/json' }),
        ...(options.key === undefined ? {} : { authorization: `Bearer ${options.key}` }),
        ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }),
        ...signature,
        ...options.headers,
      },
      ...(text === undefined ? {} : { body: text }),
    });
    const answer = await response.text();
    const json = /json/.test(response.headers.get('content-type') ?? '');
    return { status: response.status, headers: response.headers, body: json && answer !== '' ? JSON.parse(answer) : answer };
  };

  return {
    folio,
    request,
    commands,
    head: async () => (await folio.system.eventStore.headPosition()) ?? -1n,
    async key(create: CreateKeyRequest): Promise<string> {
      return (await commands.createKey(create)).token;
    },
    /**
     * Registers a fresh device for the holder of `key` over the API, signed by `signedBy`: by
     * default the first device registered with `key`, if any.
     */
    async device(key: string, signedBy: Device | undefined = enrolled.get(key)): Promise<Device> {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      const answer = await request('POST', '/v1/devices', { key, body: { publicKey: rawPublicKey(publicKey) }, ...(signedBy === undefined ? {} : { device: signedBy }) });
      if (answer.status !== 201) throw new Error(`device registration answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      const device = { deviceId: answer.body.deviceId as string, privateKey };
      if (!enrolled.has(key)) enrolled.set(key, device);
      return device;
    },
    /** Opens an account for `ownerId` and funds it, as an admin. */
    async fundedAccount(ownerId: string, kind: 'customer' | 'merchant' = 'customer', amount = '10000'): Promise<string> {
      const opened = await request('POST', '/v1/accounts', { key: folio.adminKey, body: { ownerId, currency: 'EUR', kind } });
      if (opened.status !== 201) throw new Error(`open answered ${opened.status}`);
      const id = opened.body.id as string;
      if (amount !== '0') {
        const deposit = await request('POST', '/v1/deposits', {
          key: folio.adminKey,
          body: { accountId: id, amount, currency: 'EUR', reference: `fund-${id}` },
        });
        if (deposit.status !== 201) throw new Error(`deposit answered ${deposit.status}`);
      }
      return id;
    },
    stop: () => folio.stop(),
  };
};

export type SecuredFolio = Awaited<ReturnType<typeof startSecuredFolio>>;

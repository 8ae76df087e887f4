/**
 * The gate in front of every route: rate limits, the bearer credential, the access policy,
 * ownership of the accounts a holder's request names, and the device signature a customer's
 * money movement (or a holder's further device) carries. It runs before any route reads or
 * writes anything, so a request it refuses has no effect. Each check fails closed: what it cannot
 * judge, it refuses.
 */
import type { Request, RequestHandler, Response } from 'express';
import { NotFoundError } from '../errors/commonErrors.js';
import { FolioError } from '../errors/folioError.js';
import { StreamNotFoundError } from '../eventStore/errors.js';
import type { EventStore, JsonObject } from '../eventStore/eventStore.js';
import { jsonBody } from '../http/jsonBody.js';
import { nonNegativeMinorUnitsSchema } from '../http/wireSchemas.js';
import { snowflakeIdSchema } from '../ids/snowflake.js';
import { bearerTokenOf } from './apiKeys.js';
import { clientOf } from './clientAddress.js';
import { decideAccess, isPublicRoute, type Ownership, type StepUp } from './accessPolicy.js';
import type { CredentialDirectory } from './credentialDirectory.js';
import { isHolderRole, normaliseOwnerId, type Principal } from './principal.js';
import type { BucketRule, RateLimiter } from './rateLimiter.js';
import type { ReplayGuard } from './replayGuard.js';
import {
  CredentialsCatchingUpError,
  ForbiddenError,
  MovementsOverBurstError,
  OverdraftNotPermittedError,
  RateLimitedError,
  StepUpFailedError,
  UnauthenticatedError,
} from './securityErrors.js';
import type { SignatureVerifier } from './signatureVerifier.js';
import { canonicalRequest, DEVICE_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './stepUpSignature.js';

export interface RateLimits {
  /** Every request, by client address (an IPv6 client by its /64). */
  perIp: BucketRule;
  /** Every authenticated request, by key. */
  perKey: BucketRule;
  /** Money-moving requests, by key. */
  moneyPerKey: BucketRule;
  /** Signed requests, by device. */
  perDevice: BucketRule;
  /** Failed authentications and signatures, by client address: card testing and key guessing stop here. */
  failuresPerIp: BucketRule;
}

export interface SecurityOptions {
  directory: CredentialDirectory;
  eventStore: Pick<EventStore, 'readStream'>;
  verifier: SignatureVerifier;
  replayGuard: ReplayGuard;
  limiter: RateLimiter;
  limits: RateLimits;
  clock: () => Date;
  /** How far a signature's timestamp may be from now. */
  signatureToleranceSeconds: number;
  /**
   * The accounts of the `kind` movement `id` while it is between its legs, if it is: the write
   * side knows; a process that serves no movements leaves it out.
   */
  movementInTransit?: (kind: string, id: string) => readonly string[] | undefined;
  /** Told the problem type of every refusal, for metrics. */
  onRefused?: (type: string) => void;
}

const PRINCIPAL = 'principal';
const RAW_BODY = Symbol('rawBody');

/** The authenticated caller of a request, once the security middleware let it through. */
export const principalOf = (response: Response): Principal | undefined => {
  const value: unknown = response.locals[PRINCIPAL];
  return typeof value === 'object' && value !== null ? (value as Principal) : undefined;
};

/** Device ids are printable ASCII: anything else names no device, and no stream is read for it. */
const isDeviceId = (value: string): boolean => /^[\x21-\x7e]{1,100}$/.test(value);

/** Account, movement and payment ids are all snowflakes. */
const isId = (value: unknown): value is string => snowflakeIdSchema.safeParse(value).success;

/** An account opened without credit: no overdraft limit, or one of zero. */
const withoutOverdraft = (overdraftLimit: unknown): boolean => {
  if (overdraftLimit === undefined) return true;
  const parsed = nonNegativeMinorUnitsSchema.safeParse(overdraftLimit);
  return parsed.success && parsed.data === 0n;
};

const ACCOUNT_FIELDS = ['fromAccountId', 'toAccountId', 'accountId', 'merchantAccountId'];

/** The accounts a resource's first event names, at the top level or in its `movement`. */
const accountsNamedBy = (data: JsonObject): string[] => {
  const places = [data, typeof data.movement === 'object' && data.movement !== null && !Array.isArray(data.movement) ? data.movement : {}];
  return places.flatMap((place) => ACCOUNT_FIELDS.map((field) => (place as JsonObject)[field]).filter((id): id is string => typeof id === 'string'));
};

export const securityMiddleware = (options: SecurityOptions): RequestHandler => {
  const { directory, limiter, limits } = options;
  const readBody = new Map<number, RequestHandler>();
  const bodyReader = (limit: number | undefined): RequestHandler => {
    const key = limit ?? 0;
    let reader = readBody.get(key);
    if (reader === undefined) {
      reader = jsonBody({
        ...(limit === undefined ? {} : { limit }),
        onRawBody: (request, raw) => {
          (request as unknown as Record<symbol, Buffer>)[RAW_BODY] = raw;
        },
      });
      readBody.set(key, reader);
    }
    return reader;
  };
  const parseBody = (request: Request, response: Response, limit: number | undefined) =>
    new Promise<void>((resolve, reject) => bodyReader(limit)(request, response, (error?: unknown) => (error === undefined ? resolve() : reject(error))));

  const limit = (bucket: string, rule: BucketRule, what: string, cost = 1) => {
    const decision = limiter.take(bucket, rule, cost);
    if (!decision.allowed) throw new RateLimitedError(decision.retryAfterSeconds, what);
  };

  const failed = (client: string) => {
    limiter.take(`failures:${client}`, limits.failuresPerIp);
  };

  /**
   * A holder's accounts are those of its owner id and of its own kind: a merchant key, which signs
   * nothing, must not reach a customer account under the same owner id, and no holder reaches
   * the books' own (`system`) accounts, whatever owner id they were opened under.
   */
  const owns = async (principal: Principal, accountId: unknown): Promise<boolean> => {
    if (typeof accountId !== 'string') return false;
    const holder = await directory.holderOfAccount(accountId);
    return holder !== undefined && holder.ownerId === principal.ownerId && holder.kind === principal.role;
  };

  const resourceAccounts = async (streams: string[]): Promise<string[] | undefined> => {
    for (const stream of streams) {
      try {
        for await (const event of options.eventStore.readStream(stream, { maxCount: 1 })) return accountsNamedBy(event.data);
      } catch (error) {
        if (!(error instanceof StreamNotFoundError)) throw error;
      }
    }
    return undefined;
  };

  const checkOwnership = async (request: Request, principal: Principal, ownership: Ownership, pathId: string | undefined) => {
    switch (ownership.of) {
      case 'self':
      case 'scoped':
        return;
      case 'pathAccount':
        // An id that is not an account id, or cannot be decoded, names no account of the holder's.
        if (!isId(pathId) || !(await owns(principal, pathId))) {
          throw new NotFoundError('account', pathId ?? '', { type: 'account-not-found' });
        }
        return;
      case 'newAccount': {
        const body = request.body as Record<string, unknown>;
        const ownerId = typeof body.ownerId === 'string' ? normaliseOwnerId(body.ownerId) : undefined;
        if (ownerId !== principal.ownerId || body.kind !== principal.role) {
          throw new ForbiddenError(`a ${principal.role} key opens ${principal.role} accounts for its own holder only (ownerId ${principal.ownerId ?? ''})`);
        }
        if (!withoutOverdraft(body.overdraftLimit)) {
          throw new OverdraftNotPermittedError(`a ${principal.role} key opens accounts without an overdraft: an overdraftLimit above 0 is granted by staff`);
        }
        return;
      }
      case 'bodyAccounts':
        for (const accountId of ownership.accounts(request.body as Record<string, unknown>)) {
          // A missing or malformed field is the route's validation error to report.
          if (!isId(accountId)) continue;
          if (!(await owns(principal, accountId))) throw new NotFoundError('account', accountId, { type: 'account-not-found' });
        }
        return;
      case 'resource': {
        const kind = /^\/v1\/(\w+?)s\//i.exec(request.path)?.[1]?.toLowerCase() ?? 'resource';
        const accounts = isId(pathId)
          ? ((await resourceAccounts(ownership.streams(pathId))) ?? (ownership.inTransit === true ? options.movementInTransit?.(kind, pathId) : undefined))
          : undefined;
        const ownedOne = accounts !== undefined && (await Promise.all(accounts.map((account) => owns(principal, account)))).some(Boolean);
        // Another holder's movement answers exactly as a missing one.
        if (!ownedOne) throw new NotFoundError(kind, pathId ?? '');
        return;
      }
    }
  };

  const checkSignature = async (request: Request, principal: Principal, client: string) => {
    const refuse = (detail: string): never => {
      failed(client);
      throw new StepUpFailedError(`this request needs a signature by one of the holder's devices: ${detail}`);
    };
    const deviceId = request.get(DEVICE_ID_HEADER);
    const timestamp = request.get(TIMESTAMP_HEADER);
    const signature = request.get(SIGNATURE_HEADER);
    if (deviceId === undefined || timestamp === undefined || signature === undefined) {
      return refuse(`send ${DEVICE_ID_HEADER}, ${TIMESTAMP_HEADER} and ${SIGNATURE_HEADER}`);
    }
    if (!/^\d{1,12}$/.test(timestamp)) return refuse(`${TIMESTAMP_HEADER} must be Unix seconds`);
    const now = options.clock().getTime() / 1000;
    const seconds = Number(timestamp);
    if (Math.abs(now - seconds) > options.signatureToleranceSeconds) {
      return refuse(`${TIMESTAMP_HEADER} is more than ${options.signatureToleranceSeconds} s from the server's clock`);
    }
    const signatureBytes = Buffer.from(signature, 'base64url');
    // The last of 86 characters carries 4 unused bits: only the canonical spelling is taken, so a
    // replay cannot pass as new by flipping them.
    if (!/^[A-Za-z0-9_-]{86}$/.test(signature) || signatureBytes.toString('base64url') !== signature) {
      return refuse(`${SIGNATURE_HEADER} must be a base64url Ed25519 signature, canonically encoded`);
    }
    if (!isDeviceId(deviceId)) return refuse('unknown device');
    const device = await directory.device(deviceId);
    // The same owner id may be a customer and a merchant: a device signs for its own holder only.
    if (device === undefined || device.ownerId !== principal.ownerId || device.role !== principal.role) return refuse('unknown device');
    // Only the device's own signatures spend its bucket, or naming it would be enough to throttle
    // it; one already empty refuses before the signature costs a verification.
    const deviceBucket = `device:${deviceId}`;
    const spent = limiter.peek(deviceBucket, limits.perDevice);
    if (!spent.allowed) throw new RateLimitedError(spent.retryAfterSeconds, 'signed requests from this device');
    const raw = (request as unknown as Record<symbol, Buffer | undefined>)[RAW_BODY] ?? Buffer.alloc(0);
    const message = Buffer.from(
      canonicalRequest({
        method: request.method,
        path: request.originalUrl,
        body: raw,
        idempotencyKey: request.get('Idempotency-Key'),
        timestamp: seconds,
      }),
      'utf8',
    );
    const valid = await options.verifier.verify({
      deviceId,
      publicKey: device.publicKey,
      message,
      signature: signatureBytes,
    });
    if (!valid) return refuse('the signature does not verify');
    const expiresAtMs = (seconds + options.signatureToleranceSeconds) * 1000 + 1000;
    if (!options.replayGuard.claim(signatureBytes, expiresAtMs)) return refuse('this signature was already used');
    limit(deviceBucket, limits.perDevice, 'signed requests from this device');
  };

  /**
   * A holder that has a device signs with it to add another, so a bearer key alone cannot enrol its
   * own. A process catching up that has seen none of the holder's devices reads the one the request
   * names from its own stream: if it is the holder's (revoked or not), the holder is enrolled and
   * the signature decides; else it cannot tell, and answers 503.
   */
  const needsSignature = async (stepUp: StepUp, principal: Principal, request: Request): Promise<boolean> => {
    if (stepUp === 'always') return true;
    if (stepUp !== 'onceEnrolled' || principal.ownerId === undefined || !isHolderRole(principal.role)) return false;
    try {
      return directory.hasDevice(principal.ownerId, principal.role);
    } catch (error) {
      const deviceId = request.get(DEVICE_ID_HEADER);
      if (!(error instanceof CredentialsCatchingUpError) || deviceId === undefined || !isDeviceId(deviceId)) throw error;
      const named = await directory.registeredDevice(deviceId);
      // A device whose holder cannot be told enrols both of its owner id, as `hasDevice` counts it.
      if (named === undefined || named.ownerId !== principal.ownerId || (named.role !== undefined && named.role !== principal.role)) throw error;
      return true;
    }
  };

  return async (request, response, next) => {
    try {
      const client = clientOf(request.ip ?? request.socket.remoteAddress ?? 'unknown');
      limit(`ip:${client}`, limits.perIp, 'requests from this address');
      if (isPublicRoute(request.method, request.path)) {
        next();
        return;
      }
      const lockout = limiter.peek(`failures:${client}`, limits.failuresPerIp);
      if (!lockout.allowed) throw new RateLimitedError(lockout.retryAfterSeconds, 'failed authentications from this address');
      const token = bearerTokenOf(request.get('Authorization'));
      const principal = token === undefined ? undefined : await directory.authenticate(token);
      if (principal === undefined) {
        failed(client);
        throw new UnauthenticatedError();
      }
      limit(`key:${principal.keyId}`, limits.perKey, 'requests with this key');
      const decision = decideAccess(request.method, request.path, principal);
      if (decision.kind === 'denied') {
        throw new ForbiddenError(`a ${principal.role} key may not ${request.method} ${request.path}`);
      }
      response.locals[PRINCIPAL] = principal;
      if (decision.kind === 'allowed') {
        const signed = await needsSignature(decision.stepUp, principal, request);
        const needsBody =
          signed || decision.movementsIn !== undefined || decision.ownership?.of === 'bodyAccounts' || decision.ownership?.of === 'newAccount';
        if (needsBody) await parseBody(request, response, decision.bodyLimit);
        if (decision.moneyMoving) {
          // A batch spends a token per movement, all or none, or batching would multiply the limit.
          const movements = decision.movementsIn?.(request.body as Record<string, unknown>) ?? 1;
          if (movements > limits.moneyPerKey.burst) throw new MovementsOverBurstError(movements, limits.moneyPerKey.burst);
          limit(`money:${principal.keyId}`, limits.moneyPerKey, 'money movements with this key', movements);
        }
        if (signed) await checkSignature(request, principal, client);
        if (decision.ownership !== undefined) await checkOwnership(request, principal, decision.ownership, decision.pathId);
      }
      next();
    } catch (error) {
      if (error instanceof FolioError) options.onRefused?.(error.type);
      next(error);
    }
  };
};

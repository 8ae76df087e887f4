import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EventStoreDBClient } from '@eventstore/db-client';
import ipaddr from 'ipaddr.js';
import { MongoClient } from 'mongodb';
import { z } from 'zod';
import { parseEnvironment } from './parseEnvironment.js';
import { redactCredentials } from './redactCredentials.js';
import { paymentProviders, type PaymentProvider } from '../ledger/systemAccounts.js';

const optionalUrl = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value === undefined || value === '' ? undefined : value));

/** The `encoded` value of Elasticsearch's create API key answer: base64 of `<id>:<api_key>`. */
const elasticApiKey = optionalUrl.pipe(
  z
    .string()
    .refine(
      (key) => /^[A-Za-z0-9+/]+={0,2}$/.test(key) && /^[^:]+:.+$/.test(Buffer.from(key, 'base64').toString('utf8')),
      'expected the `encoded` value of the create API key answer (base64 of <id>:<api_key>)',
    )
    .optional(),
);

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** A file of PEM certificates, read at start-up: its text, each certificate in it checked. */
const elasticCaFile = optionalUrl.transform((path, context) => {
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(resolve(path), 'utf8');
  } catch (error) {
    context.addIssue({ code: 'custom', message: `cannot read ${path}: ${(error as Error).message}` });
    return z.NEVER;
  }
  const certificates = text.match(PEM_CERTIFICATE) ?? [];
  const parses = (certificate: string): boolean => {
    try {
      new X509Certificate(certificate);
      return true;
    } catch {
      return false;
    }
  };
  if (certificates.length === 0 || !certificates.every(parses)) {
    context.addIssue({
      code: 'custom',
      message: `${path} holds no PEM certificate (-----BEGIN CERTIFICATE----- …), as Elasticsearch's http_ca.crt does`,
    });
    return z.NEVER;
  }
  return text;
});

/**
 * A server's connection string, checked at start-up as its driver will parse it. A malformed one
 * stops start-up with the variable named and what is wrong, never with the driver's error, which
 * may quote the string whole, password included. `problemOf` says what is wrong, if anything.
 */
const connectionString = (problemOf: (url: string) => string | undefined) =>
  optionalUrl.superRefine((url, context) => {
    const problem = url === undefined ? undefined : problemOf(url);
    if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
  });

const eventStoreUrl = connectionString((url) => {
  try {
    // Connects on first use only.
    EventStoreDBClient.connectionString(url);
    return undefined;
  } catch (error) {
    // Its parse error says where it stopped and what it expected there, and quotes the string around it.
    const { expected, location } = error as { expected?: unknown; location?: unknown };
    const problem =
      typeof expected === 'string' && Array.isArray(location)
        ? `expected ${expected} at position ${String(location[0])}`
        : redactCredentials((error as Error).message);
    return `not an EventStoreDB connection string (esdb://host:port or esdb+discover://host:port, with user:password@ before the host and ?key=value options if needed): ${problem}`;
  }
});

const mongoUrl = connectionString((url) => {
  try {
    // Connects on first use only.
    new MongoClient(url);
    return undefined;
  } catch (error) {
    return `not a MongoDB connection string (mongodb:// or mongodb+srv://): ${redactCredentials((error as Error).message)}`;
  }
});

const elasticUrl = connectionString((url) =>
  URL.canParse(url) && ['http:', 'https:'].includes(new URL(url).protocol)
    ? undefined
    : 'not an Elasticsearch URL: expected http://host:port or https://host:port',
);

/** ELASTIC_URL's scheme and whether it holds a user, when it parses. */
const elasticUrlParts = (url: string): { https: boolean; user: boolean } | undefined => {
  if (!URL.canParse(url)) return undefined;
  const { protocol, username, password } = new URL(url);
  return { https: protocol === 'https:', user: username !== '' || password !== '' };
};

/**
 * Credentials that serialise, as a logged configuration does, without their value: the logger's
 * redaction reaches one level into what is logged, the configuration nests deeper.
 */
const unlogged = <Credentials extends object>(credentials: Credentials): Credentials =>
  Object.defineProperty(credentials, 'toJSON', { value: () => '[redacted]', enumerable: false });

/** `FOLIO_PROVIDER_SECRET_STRIPE` holds the key Stripe's callbacks are signed with. */
export const secretVariable = (provider: PaymentProvider): string => `FOLIO_PROVIDER_SECRET_${provider.toUpperCase()}`;

/** `FOLIO_RATE_<NAME>_PER_SECOND` and `FOLIO_RATE_<NAME>_BURST`: one token bucket's refill rate and size. */
/** The names express gives the usual proxy subnets (`trust proxy`). */
const PROXY_SUBNET_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * `FOLIO_TRUST_PROXY`: the proxies whose `X-Forwarded-For` names the client, as express's
 * `trust proxy` takes them: `false` (none: the peer is the client), a hop count, or addresses,
 * subnets and subnet names, comma-separated.
 */
const trustProxySchema = z
  .string()
  .default('false')
  .transform((text, ctx): false | number | string => {
    const value = text.trim();
    if (value === 'false' || value === '') return false;
    if (/^[0-9]+$/.test(value)) return Number(value);
    const entries = value.split(',').map((entry) => entry.trim());
    const bad = entries.find((entry) => {
      if (PROXY_SUBNET_NAMES.has(entry)) return false;
      if (!entry.includes('/')) return !ipaddr.isValid(entry);
      try {
        ipaddr.parseCIDR(entry);
        return false;
      } catch {
        return true;
      }
    });
    if (bad !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `${JSON.stringify(bad)} is no proxy address: give false, a hop count, or addresses, subnets (10.0.0.0/8) and loopback, linklocal, uniquelocal, comma-separated`,
      });
      return z.NEVER;
    }
    return entries.join(',');
  });

const rateVariables = (name: string, perSecond: number, burst: number) => ({
  [`FOLIO_RATE_${name}_PER_SECOND`]: z.coerce.number().positive().default(perSecond),
  [`FOLIO_RATE_${name}_BURST`]: z.coerce.number().int().positive().default(burst),
});

/** How long a projection may be failing before `/readyz` answers 503: several of its retries (at most 5 s apart). */
export const DEFAULT_READY_MAX_FAILING_SECONDS = 15;

export interface BucketLimit {
  perSecond: number;
  burst: number;
}

const environmentSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  FOLIO_DATA_DIR: z.string().min(1).default('./data'),
  FOLIO_NODE_ID: z.coerce.number().int().min(0).max(1023).default(0),
  FOLIO_IDEMPOTENCY_RETENTION_HOURS: z.coerce.number().positive().default(24),
  FOLIO_STUCK_AFTER_SECONDS: z.coerce.number().positive().default(30),
  FOLIO_RECOVERY_CHECKPOINT_EVENTS: z.coerce.number().int().positive().default(10_000),
  FOLIO_RECOVERY_CHECKPOINT_SECONDS: z.coerce.number().positive().default(30),
  EVENTSTORE_URL: eventStoreUrl,
  MONGO_URL: mongoUrl,
  FOLIO_MONGO_DATABASE: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).default('folio'),
  ELASTIC_URL: elasticUrl,
  ELASTIC_API_KEY: elasticApiKey,
  ELASTIC_CA_FILE: elasticCaFile,
  FOLIO_EVENTSTORE_READ_IDLE_SECONDS: z.coerce.number().positive().default(10),
  // An append that starts money moving under an idempotency claim lands or fails within the
  // 30 s margin the claim's lease leaves before another instance may take it over, with room for
  // the instances' clocks to drift (see "Leases" in the idempotency store).
  FOLIO_EVENTSTORE_WRITE_TIMEOUT_SECONDS: z.coerce
    .number()
    .positive()
    .lt(20, 'must be below 20: an append must land or fail within the 30 s margin an idempotency claim leaves its run')
    .default(10),
  FOLIO_EVENTSTORE_SUBSCRIPTION_IDLE_SECONDS: z.coerce.number().positive().default(30),
  // EventStoreDB's own default and ceiling for MaxAppendSize; Folio's largest single events need the floor.
  FOLIO_EVENTSTORE_MAX_APPEND_BYTES: z.coerce.number().int().min(64 * 1024).max(16 * 1024 * 1024).default(1024 * 1024),
  FOLIO_ELASTIC_REQUEST_TIMEOUT_SECONDS: z.coerce.number().positive().default(30),
  FOLIO_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  FOLIO_TRUST_PROXY: trustProxySchema,
  FOLIO_READY_MAX_LAG_SECONDS: z.coerce.number().positive().default(10),
  FOLIO_SHUTDOWN_DELAY_SECONDS: z.coerce.number().min(0).default(0),
  FOLIO_READY_MAX_FAILING_SECONDS: z.coerce.number().positive().default(DEFAULT_READY_MAX_FAILING_SECONDS),
  FOLIO_MAX_IN_FLIGHT_COMMANDS: z.coerce.number().int().positive().default(1000),
  FOLIO_SHED_AT_LAG_SECONDS: z.coerce.number().positive().default(60),
  FOLIO_SANDBOX_PROVIDERS: z
    .string()
    .default('sandbox')
    .transform((list) => list.split(',').map((name) => name.trim()).filter((name) => name !== ''))
    .pipe(z.array(z.enum(paymentProviders))),
  FOLIO_CALLBACK_TOLERANCE_SECONDS: z.coerce.number().int().positive().default(300),
  FOLIO_PAYOUT_TIMEOUT_SECONDS: z.coerce.number().positive().default(600),
  FOLIO_PAYOUT_DEADLINE_GRACE_SECONDS: z.coerce.number().positive().default(60),
  FOLIO_REFUND_RETRY_SECONDS: z.coerce.number().positive().default(60),
  FOLIO_BOOTSTRAP_ADMIN_KEY: optionalUrl.pipe(
    z
    .string()
    .regex(/^folio_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/, 'expected folio_<16 hex digits>_<43 base64url characters> (see `folio keys create`)')
    .optional(),
  ),
  FOLIO_SIGNATURE_TOLERANCE_SECONDS: z.coerce.number().int().positive().default(300),
  // Above what one process serves (README, "Rate limits"), so only abuse meets them.
  ...rateVariables('IP', 5000, 10000),
  ...rateVariables('KEY', 5000, 10000),
  ...rateVariables('MONEY', 10000, 20000),
  ...rateVariables('DEVICE', 20, 40),
  FOLIO_RATE_FAILURES_PER_MINUTE: z.coerce.number().positive().default(10),
  FOLIO_RATE_FAILURES_BURST: z.coerce.number().int().positive().default(20),
  ...Object.fromEntries(paymentProviders.map((provider) => [secretVariable(provider), z.string().min(16).optional()])),
}).superRefine((env, context) => {
  const refuse = (variable: string, message: string) => context.addIssue({ code: 'custom', path: [variable], message });
  const given = (['ELASTIC_API_KEY', 'ELASTIC_CA_FILE'] as const).filter((name) => env[name] !== undefined);
  if (env.ELASTIC_URL === undefined) {
    // Without it the embedded index is used, which a deployment securing its cluster does not mean.
    for (const variable of given) refuse(variable, 'applies to Elasticsearch only: set ELASTIC_URL too, or leave it unset');
    return;
  }
  const url = elasticUrlParts(env.ELASTIC_URL);
  if (url === undefined) return;
  if (env.ELASTIC_API_KEY !== undefined && url.user) {
    refuse('ELASTIC_API_KEY', 'ELASTIC_URL holds a user too: authenticate with one of them, not both');
  }
  for (const variable of given.filter((name) => name !== 'ELASTIC_API_KEY')) {
    if (!url.https) refuse(variable, 'ELASTIC_URL is http, which no certificate secures: use https or leave it unset');
  }
});

export interface FolioConfig {
  port: number;
  host: string;
  /** Absolute directory for the embedded stores' files. */
  dataDir: string;
  /** Distinguishes the processes that mint ids (Snowflake node id). */
  nodeId: number;
  /** How long an idempotency key's answer is kept. */
  idempotencyRetentionMs: number;
  /** A money movement open longer than this is reported as stuck. */
  stuckAfterMs: number;
  /** Movement recovery checkpoints the open journals after this many events, or this often. */
  recoveryCheckpoint: { everyEvents: number; everyMs: number };
  eventStoreUrl: string | undefined;
  /** How long EventStoreDB may stay silent before a read, a write or a subscription gives up on it. */
  eventStoreTimeouts: { readIdleMs: number; writeMs: number; subscriptionIdleMs: number };
  /**
   * The largest append EventStoreDB accepts, in bytes: its `MaxAppendSize`, which this must not
   * exceed. `undefined` on the embedded store, which has no such limit.
   */
  eventStoreMaxAppendBytes: number | undefined;
  mongoUrl: string | undefined;
  /** The MongoDB database of the read models, when `mongoUrl` is set. */
  mongoDatabase: string;
  elasticUrl: string | undefined;
  /** The API key Folio authenticates to Elasticsearch with (the client's `auth`); never logged. */
  elasticAuth: { apiKey: string } | undefined;
  /** The PEM certificates of the CAs Elasticsearch's certificate is verified against, besides Node's own. */
  elasticCa: string | undefined;
  /** How long an Elasticsearch request may go unanswered before it fails. */
  elasticRequestTimeoutMs: number;
  logLevel: string;
  /**
   * The reverse proxies in front, whose `X-Forwarded-For` names the client the buckets by address
   * limit (express's `trust proxy`); `false`: the peer is the client.
   */
  trustProxy: false | number | string;
  /** `/readyz` answers 503 while a projection is further behind than this. */
  readyMaxLagSeconds: number;
  /** How long a signalled process keeps taking connections, unready, before it stops accepting them. */
  shutdownDelayMs: number;
  /** `/readyz` answers 503 once a projection has been failing (its stores refusing) longer than this. */
  readyMaxFailingSeconds: number;
  /** Commands the write API handles at once before it sheds new ones with 503. */
  maxInFlightCommands: number;
  /** The write API sheds commands with 503 while the projections are further behind than this. */
  shedAtLagSeconds: number;
  /** Providers the built-in sandbox stands in for (`sandbox`, or a real provider's name for demos). */
  sandboxProviders: PaymentProvider[];
  /** Callback signing secrets by provider; never logged. */
  providerSecrets: Partial<Record<PaymentProvider, string>>;
  /** How far a callback's signed timestamp may be from now. */
  callbackToleranceSeconds: number;
  /** A payout the provider has not answered by then is released. */
  payoutTimeoutMs: number;
  /** A payout still open this long after its deadline is ended by any instance, not only the one that took it. */
  payoutDeadlineGraceMs: number;
  /** A refund asked of the provider whose answer is not recorded by then is asked again (same refund id). */
  refundRetryMs: number;
  /** An admin key created at start-up if missing (first runs, tests); never logged. */
  bootstrapAdminKey: string | undefined;
  /** How far a device signature's timestamp may be from now; each signature is usable once. */
  signatureToleranceSeconds: number;
  /** Token buckets: every request by IP, by key, money movements by key, signed requests by device, failures by IP. */
  rateLimits: {
    perIp: BucketLimit;
    perKey: BucketLimit;
    moneyPerKey: BucketLimit;
    perDevice: BucketLimit;
    failuresPerIp: BucketLimit;
  };
}

const bucketOf = (env: Record<string, unknown>, name: string): BucketLimit => ({
  perSecond: env[`FOLIO_RATE_${name}_PER_SECOND`] as number,
  burst: env[`FOLIO_RATE_${name}_BURST`] as number,
});

/**
 * The configuration serialises, nested deeper than the logger's redaction reaches, with the
 * servers' passwords and the admin key hidden; what connects reads its members as given.
 */
const loggedWithoutSecrets = (config: FolioConfig): FolioConfig => {
  const redacted = (url: string | undefined) => (url === undefined ? undefined : redactCredentials(url));
  return Object.defineProperty(config, 'toJSON', {
    value: () => ({
      ...config,
      eventStoreUrl: redacted(config.eventStoreUrl),
      mongoUrl: redacted(config.mongoUrl),
      elasticUrl: redacted(config.elasticUrl),
      bootstrapAdminKey: config.bootstrapAdminKey === undefined ? undefined : '[redacted]',
    }),
    enumerable: false,
  });
};

/** Reads configuration from the environment; a bad value stops start-up with the variable named. */
export const loadConfig = (environment: NodeJS.ProcessEnv = process.env): FolioConfig => {
  const env = parseEnvironment(environmentSchema, environment);
  return loggedWithoutSecrets({
    port: env.PORT,
    host: env.HOST,
    dataDir: resolve(env.FOLIO_DATA_DIR),
    nodeId: env.FOLIO_NODE_ID,
    idempotencyRetentionMs: env.FOLIO_IDEMPOTENCY_RETENTION_HOURS * 3_600_000,
    stuckAfterMs: env.FOLIO_STUCK_AFTER_SECONDS * 1000,
    recoveryCheckpoint: {
      everyEvents: env.FOLIO_RECOVERY_CHECKPOINT_EVENTS,
      everyMs: env.FOLIO_RECOVERY_CHECKPOINT_SECONDS * 1000,
    },
    eventStoreUrl: env.EVENTSTORE_URL,
    eventStoreMaxAppendBytes: env.EVENTSTORE_URL === undefined ? undefined : env.FOLIO_EVENTSTORE_MAX_APPEND_BYTES,
    eventStoreTimeouts: {
      readIdleMs: env.FOLIO_EVENTSTORE_READ_IDLE_SECONDS * 1000,
      writeMs: env.FOLIO_EVENTSTORE_WRITE_TIMEOUT_SECONDS * 1000,
      subscriptionIdleMs: env.FOLIO_EVENTSTORE_SUBSCRIPTION_IDLE_SECONDS * 1000,
    },
    mongoUrl: env.MONGO_URL,
    mongoDatabase: env.FOLIO_MONGO_DATABASE,
    elasticUrl: env.ELASTIC_URL,
    elasticAuth: env.ELASTIC_API_KEY === undefined ? undefined : unlogged({ apiKey: env.ELASTIC_API_KEY }),
    elasticCa: env.ELASTIC_CA_FILE,
    elasticRequestTimeoutMs: env.FOLIO_ELASTIC_REQUEST_TIMEOUT_SECONDS * 1000,
    logLevel: env.FOLIO_LOG_LEVEL,
    trustProxy: env.FOLIO_TRUST_PROXY,
    readyMaxLagSeconds: env.FOLIO_READY_MAX_LAG_SECONDS,
    shutdownDelayMs: env.FOLIO_SHUTDOWN_DELAY_SECONDS * 1000,
    readyMaxFailingSeconds: env.FOLIO_READY_MAX_FAILING_SECONDS,
    maxInFlightCommands: env.FOLIO_MAX_IN_FLIGHT_COMMANDS,
    shedAtLagSeconds: env.FOLIO_SHED_AT_LAG_SECONDS,
    sandboxProviders: env.FOLIO_SANDBOX_PROVIDERS,
    providerSecrets: unlogged(
      Object.fromEntries(
        paymentProviders.flatMap((provider) => {
          const secret = (env as Record<string, unknown>)[secretVariable(provider)];
          return typeof secret === 'string' ? [[provider, secret]] : [];
        }),
      ),
    ),
    callbackToleranceSeconds: env.FOLIO_CALLBACK_TOLERANCE_SECONDS,
    payoutTimeoutMs: env.FOLIO_PAYOUT_TIMEOUT_SECONDS * 1000,
    payoutDeadlineGraceMs: env.FOLIO_PAYOUT_DEADLINE_GRACE_SECONDS * 1000,
    refundRetryMs: env.FOLIO_REFUND_RETRY_SECONDS * 1000,
    bootstrapAdminKey: env.FOLIO_BOOTSTRAP_ADMIN_KEY,
    signatureToleranceSeconds: env.FOLIO_SIGNATURE_TOLERANCE_SECONDS,
    rateLimits: {
      perIp: bucketOf(env, 'IP'),
      perKey: bucketOf(env, 'KEY'),
      moneyPerKey: bucketOf(env, 'MONEY'),
      perDevice: bucketOf(env, 'DEVICE'),
      failuresPerIp: { perSecond: env.FOLIO_RATE_FAILURES_PER_MINUTE / 60, burst: env.FOLIO_RATE_FAILURES_BURST },
    },
  });
};

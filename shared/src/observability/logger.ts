import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';
import { redactCredentials } from '../config/redactCredentials.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** Names the process in every line (`command-side`, `projections`, …). */
  service: string;
  level?: string;
  /** Where lines go; standard output by default. */
  destination?: DestinationStream;
}

/**
 * Credentials and secrets never reach a log line, wherever they appear in what is logged:
 * headers, bodies or configuration.
 */
const REDACTED_PATHS = [
  'authorization',
  'secret',
  'password',
  'apiKey',
  'token',
  'bootstrapAdminKey',
  'privateKey',
  '*.authorization',
  '*.token',
  '*.bootstrapAdminKey',
  '*.privateKey',
  '*.headers.authorization',
  '*.secret',
  '*.password',
  '*.apiKey',
  'FOLIO_BOOTSTRAP_ADMIN_KEY',
  '*.FOLIO_BOOTSTRAP_ADMIN_KEY',
  // The configuration's, logged as the entry or one level in (where redaction copies it without
  // its `toJSON`); deeper, the configuration hides them itself.
  'eventStoreUrl',
  'mongoUrl',
  'elasticUrl',
  'providerSecrets',
  '*.eventStoreUrl',
  '*.mongoUrl',
  '*.elasticUrl',
  '*.providerSecrets',
  'headers.authorization',
  'headers.cookie',
  'request.headers.authorization',
  'request.headers.cookie',
];

/** A serialised error with the credentials of every URL in its strings redacted, causes included. */
const withoutCredentials = (value: unknown): unknown => {
  if (typeof value === 'string') return redactCredentials(value);
  if (Array.isArray(value)) return value.map(withoutCredentials);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, member]) => [key, withoutCredentials(member)]));
};

/**
 * Errors as pino serialises them (message and stack with their causes'), less any credentials a
 * driver's message quoted from a connection string.
 */
const errorSerializer = (error: Error): unknown => withoutCredentials(stdSerializers.err(error));

/** One JSON line per entry, with the service, the time and the message (`msg`). */
export const createLogger = ({ service, level = 'info', destination }: LoggerOptions): Logger =>
  pino(
    {
      level,
      base: { service },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: { err: errorSerializer },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );

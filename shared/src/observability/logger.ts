import { pino, type DestinationStream, type Logger } from 'pino';

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
  'headers.authorization',
  'headers.cookie',
  'request.headers.authorization',
  'request.headers.cookie',
];

/** One JSON line per entry, with the service, the time and the message (`msg`). */
export const createLogger = ({ service, level = 'info', destination }: LoggerOptions): Logger =>
  pino(
    {
      level,
      base: { service },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );

import { z } from 'zod';
import { parseEnvironment } from '../config/parseEnvironment.js';

/** The audit's settings, from the environment; a bad value stops start-up with the variable named. */
export interface AuditConfig {
  /** The Ed25519 private key (PEM or base64); when absent, a generated key kept in `signingKeyFile`. */
  signingKey: string | undefined;
  /** Where the generated key is kept; the data directory's `audit-signing-key.pem` when absent. */
  signingKeyFile: string | undefined;
  /** A checkpoint is written once this many events are waiting for one… */
  checkpointEvery: number;
  /** …or once this long has passed with any waiting. */
  checkpointIntervalMs: number;
  /** An account's figures are snapshotted every this many events of its stream. */
  snapshotEvery: number;
  /** The whole books are snapshotted every this many events of the books. */
  booksSnapshotEvery: number;
}

const environmentSchema = z.object({
  FOLIO_AUDIT_SIGNING_KEY: z.string().optional(),
  FOLIO_AUDIT_SIGNING_KEY_FILE: z.string().optional(),
  FOLIO_AUDIT_CHECKPOINT_EVERY: z.coerce.number().int().positive().default(1000),
  FOLIO_AUDIT_CHECKPOINT_SECONDS: z.coerce.number().positive().default(60),
  FOLIO_AUDIT_SNAPSHOT_EVERY: z.coerce.number().int().min(2).default(1000),
  FOLIO_AUDIT_BOOKS_SNAPSHOT_EVERY: z.coerce.number().int().min(2).default(100_000),
});

export const loadAuditConfig = (environment: NodeJS.ProcessEnv = process.env): AuditConfig => {
  const env = parseEnvironment(environmentSchema, environment);
  return {
    signingKey: env.FOLIO_AUDIT_SIGNING_KEY === '' ? undefined : env.FOLIO_AUDIT_SIGNING_KEY,
    signingKeyFile: env.FOLIO_AUDIT_SIGNING_KEY_FILE === '' ? undefined : env.FOLIO_AUDIT_SIGNING_KEY_FILE,
    checkpointEvery: env.FOLIO_AUDIT_CHECKPOINT_EVERY,
    checkpointIntervalMs: env.FOLIO_AUDIT_CHECKPOINT_SECONDS * 1000,
    snapshotEvery: env.FOLIO_AUDIT_SNAPSHOT_EVERY,
    booksSnapshotEvery: env.FOLIO_AUDIT_BOOKS_SNAPSHOT_EVERY,
  };
};

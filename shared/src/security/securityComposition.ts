import type { FolioConfig } from '../config/config.js';
import type { EventStore } from '../eventStore/eventStore.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { createCredentialCommands } from './credentialCommands.js';
import { createCredentialDirectory } from './credentialDirectory.js';
import { createInMemoryRateLimiter, type RateLimiter } from './rateLimiter.js';
import { createInMemoryReplayGuard, type ReplayGuard } from './replayGuard.js';
import { securityMiddleware, type SecurityOptions } from './securityMiddleware.js';
import { createEd25519Verifier, type SignatureVerifier } from './signatureVerifier.js';

export interface SecurityCompositionOptions {
  eventStore: EventStore;
  config: Pick<FolioConfig, 'bootstrapAdminKey' | 'signatureToleranceSeconds' | 'rateLimits'>;
  logger: Logger;
  clock?: () => Date;
  /** Counts refusals by problem type (`folio_security_refusals_total`). */
  metrics?: Pick<Metrics, 'securityRefusals'>;
  /** Replacements for the in-process defaults (an HSM verifier, shared buckets and replay memory). */
  verifier?: SignatureVerifier;
  limiter?: RateLimiter;
  replayGuard?: ReplayGuard;
}

/** Credentials, the access policy and rate limits as a process runs them. */
export const composeSecurity = ({ eventStore, config, logger, metrics, clock = () => new Date(), ...ports }: SecurityCompositionOptions) => {
  const directory = createCredentialDirectory({
    eventStore,
    onError: (error) => logger.error({ err: error }, 'following credentials failed'),
  });
  const options: SecurityOptions = {
    directory,
    eventStore,
    verifier: ports.verifier ?? createEd25519Verifier(),
    replayGuard: ports.replayGuard ?? createInMemoryReplayGuard(() => clock().getTime()),
    limiter: ports.limiter ?? createInMemoryRateLimiter(() => clock().getTime()),
    limits: config.rateLimits,
    clock,
    signatureToleranceSeconds: config.signatureToleranceSeconds,
    ...(metrics === undefined ? {} : { onRefused: (type: string) => metrics.securityRefusals.inc({ reason: type }) }),
  };
  return {
    directory,
    middleware: securityMiddleware(options),
    /**
     * The middleware of a process serving movements, which also knows those in transit (composed
     * after this, hence not an option here). Same buckets and replay memory as `middleware`.
     */
    middlewareServingMovements: (movementInTransit: NonNullable<SecurityOptions['movementInTransit']>) =>
      securityMiddleware({ ...options, movementInTransit }),
    /**
     * Resolves once the credentials in the log are known. The write side also creates the
     * bootstrap admin key when one is configured, and says how to create a key when none exists.
     */
    async start({ bootstrap }: { bootstrap: boolean }) {
      await directory.start();
      if (!bootstrap) return;
      if (config.bootstrapAdminKey !== undefined) {
        const commands = createCredentialCommands({ eventStore, clock, actor: 'bootstrap' });
        try {
          const { keyId, created } = await commands.ensureKey(config.bootstrapAdminKey, { role: 'admin', label: 'bootstrap' });
          logger.info({ keyId, created }, 'the bootstrap admin key from FOLIO_BOOTSTRAP_ADMIN_KEY is ready');
        } catch (error) {
          // The rest of the system serves the keys that exist; this one is not among them.
          logger.error({ reason: (error as Error).message }, 'FOLIO_BOOTSTRAP_ADMIN_KEY was not accepted');
        }
      } else if (directory.keyCount() === 0) {
        logger.info(
          { create: 'npm run folio -- keys create --role admin', orSet: 'FOLIO_BOOTSTRAP_ADMIN_KEY' },
          'no API key exists yet: create an admin key with `npm run folio -- keys create --role admin`, or set FOLIO_BOOTSTRAP_ADMIN_KEY',
        );
      }
    },
    stop: () => directory.stop(),
  };
};

export type Security = ReturnType<typeof composeSecurity>;

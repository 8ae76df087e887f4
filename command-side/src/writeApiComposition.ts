import { join } from 'node:path';
import {
  actorOf,
  commandMetrics,
  principalOf,
  type Security,
  loadShedding,
  type EventStore,
  type FolioConfig,
  type LagMonitor,
  type Logger,
  type Metrics,
  hasSoleWriter,
} from '@folio/shared';
import type { RequestHandler } from 'express';
import type { DiscrepancyLookup } from './reconciliation/discrepancyLookup.js';
import { deviceRoutes } from './security/deviceRoutes.js';
import { createWriteApi, type WriteApiOptions } from './writeApi.js';

export interface WriteApiCompositionOptions {
  eventStore: EventStore;
  config: Pick<
    FolioConfig,
    | 'nodeId'
    | 'idempotencyRetentionMs'
    | 'eventStoreMaxAppendBytes'
    | 'stuckAfterMs'
    | 'recoveryCheckpoint'
    | 'maxInFlightCommands'
    | 'shedAtLagSeconds'
    | 'sandboxProviders'
    | 'providerSecrets'
    | 'callbackToleranceSeconds'
    | 'payoutTimeoutMs'
    | 'payoutDeadlineGraceMs'
    | 'refundRetryMs'
    | 'dataDir'
  >;
  logger: Logger;
  metrics: Metrics;
  /** The projections' lag, where this process knows it: commands are shed while it is too high. */
  lag?: LagMonitor;
  /** Its middleware goes in front of everything: callers are who their key says. */
  security: Security;
  /** The discrepancies the reconciliation read model knows (`readModelDiscrepancies`): what the exception workflow acts on. */
  discrepancies: DiscrepancyLookup;
  /** How the sandbox providers misbehave; tests that need a payment to stay as they left it silence them. */
  sandboxFaults?: WriteApiOptions['sandboxFaults'];
}

/**
 * The write API as a process runs it: logged, measured, and shedding load when saturated. Its
 * routes go after the operations endpoints of the service app.
 */
export const composeWriteApi = ({ eventStore, config, logger, metrics, lag, security, discrepancies, sandboxFaults }: WriteApiCompositionOptions) => {
  const writeApi = createWriteApi({
    eventStore,
    // Idempotency keys are scoped per key, and events record the key that caused them.
    callerOf: (request) => {
      const principal = request.res === undefined ? undefined : principalOf(request.res);
      return principal === undefined ? 'anonymous' : actorOf(principal);
    },
    nodeId: config.nodeId,
    idempotencyRetentionMs: config.idempotencyRetentionMs,
    ...(config.eventStoreMaxAppendBytes === undefined ? {} : { eventStoreMaxAppendBytes: config.eventStoreMaxAppendBytes }),
    stuckAfterMs: config.stuckAfterMs,
    recoveryCheckpoint: config.recoveryCheckpoint,
    sandboxProviders: config.sandboxProviders,
    providerSecrets: config.providerSecrets,
    ...(sandboxFaults === undefined ? {} : { sandboxFaults }),
    callbackToleranceSeconds: config.callbackToleranceSeconds,
    payoutTimeoutMs: config.payoutTimeoutMs,
    payoutDeadlineGraceMs: config.payoutDeadlineGraceMs,
    refundRetryMs: config.refundRetryMs,
    discrepancies,
    ...(hasSoleWriter(eventStore) ? { soleWriterLock: join(config.dataDir, 'write-api.lock') } : {}),
    onStuck: (stuck) => logger.warn({ count: stuck.length, ids: stuck.map(({ kind, id }) => `${kind}-${id}`) }, 'movements stuck'),
    onError: (error) => logger.error({ err: error }, 'write side error'),
    onWarning: (message, error) => logger.warn({ err: error }, message),
  });
  metrics.observeStuckMovements(() => writeApi.stuckMovements().length);
  metrics.observeRefundsAwaitingProvider(() => writeApi.refundsAwaitingProviderStatus());
  metrics.observeCallbacksAwaitingEffect(() => writeApi.callbacksAwaitingEffect());
  metrics.observePayoutsPastDeadline(() => writeApi.openPayouts());
  const routers: RequestHandler[] = [
    commandMetrics(metrics),
    loadShedding({
      metrics,
      maxInFlight: config.maxInFlightCommands,
      shedAtLagSeconds: config.shedAtLagSeconds,
      ...(lag === undefined ? {} : { lag }),
    }),
    writeApi.router,
    deviceRoutes({ eventStore, directory: security.directory, clock: () => new Date() }),
  ];
  // The guard goes before every route of the process, the write API's and any other. A movement
  // between its legs is found as its route finds it, so its holders see it then too.
  const guard = security.middlewareServingMovements((kind, id) => {
    const open = writeApi.inTransit().find((journal) => journal.kind === kind && journal.id === id);
    return open === undefined ? undefined : [open.movement.fromAccountId, open.movement.toAccountId];
  });
  return { writeApi, guard, routers };
};

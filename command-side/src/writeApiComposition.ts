import {
  commandMetrics,
  loadShedding,
  type EventStore,
  type FolioConfig,
  type LagMonitor,
  type Logger,
  type Metrics,
} from '@folio/shared';
import type { RequestHandler } from 'express';
import { createWriteApi } from './writeApi.js';

export interface WriteApiCompositionOptions {
  eventStore: EventStore;
  config: Pick<
    FolioConfig,
    | 'nodeId'
    | 'idempotencyRetentionMs'
    | 'stuckAfterMs'
    | 'maxInFlightCommands'
    | 'shedAtLagSeconds'
    | 'sandboxProviders'
    | 'providerSecrets'
    | 'callbackToleranceSeconds'
    | 'payoutTimeoutMs'
  >;
  logger: Logger;
  metrics: Metrics;
  /** The projections' lag, where this process knows it: commands are shed while it is too high. */
  lag?: LagMonitor;
}

/**
 * The write API as a process runs it: logged, measured, and shedding load when saturated. Its
 * routes go after the operations endpoints of the service app.
 */
export const composeWriteApi = ({ eventStore, config, logger, metrics, lag }: WriteApiCompositionOptions) => {
  const writeApi = createWriteApi({
    eventStore,
    nodeId: config.nodeId,
    idempotencyRetentionMs: config.idempotencyRetentionMs,
    stuckAfterMs: config.stuckAfterMs,
    sandboxProviders: config.sandboxProviders,
    providerSecrets: config.providerSecrets,
    callbackToleranceSeconds: config.callbackToleranceSeconds,
    payoutTimeoutMs: config.payoutTimeoutMs,
    onStuck: (stuck) => logger.warn({ count: stuck.length, ids: stuck.map(({ kind, id }) => `${kind}-${id}`) }, 'movements stuck'),
    onError: (error) => logger.error({ err: error }, 'write side error'),
  });
  metrics.observeStuckMovements(() => writeApi.stuckMovements().length);
  const routers: RequestHandler[] = [
    commandMetrics(metrics),
    loadShedding({
      metrics,
      maxInFlight: config.maxInFlightCommands,
      shedAtLagSeconds: config.shedAtLagSeconds,
      ...(lag === undefined ? {} : { lag }),
    }),
    writeApi.router,
  ];
  return { writeApi, routers };
};

import {
  createSnowflakeGenerator,
  toProblem,
  type EventStore,
  type FolioError,
  type JsonValue,
} from '@folio/shared';
import { Router, type Request } from 'express';
import { createAccountCommandHandler } from './accounts/accountCommandHandler.js';
import { accountRoutes } from './accounts/accountRoutes.js';
import { depositRoutes } from './deposits/depositRoutes.js';
import type { WriteApiDependencies } from './http/writeApiDependencies.js';
import { createIdempotencyStore, DEFAULT_RETENTION_MS } from './idempotency/index.js';
import { createMovementProcess } from './movements/movementProcess.js';
import { createMovementRecovery, type StuckMovement } from './movements/movementRecovery.js';
import { createSystemAccounts } from './movements/systemAccountOpener.js';
import { operationsRoutes } from './operations/operationsRoutes.js';
import { statementRoutes } from './statements/statementRoutes.js';
import { createTransferService } from './transfers/transferService.js';
import { transferRoutes } from './transfers/transferRoutes.js';

export interface WriteApiOptions {
  eventStore: EventStore;
  /** Distinguishes the processes minting ids (0–1023). */
  nodeId: number;
  clock?: () => Date;
  idempotencyRetentionMs?: number;
  /** A movement open longer than this is reported as stuck. */
  stuckAfterMs?: number;
  callerOf?: (request: Request) => string;
  onStuck?: (movements: StuckMovement[]) => void;
  onError?: (error: unknown) => void;
}

/**
 * Callers are not authenticated yet, so they all share one scope for idempotency keys and are
 * recorded as this actor.
 */
const anonymousCaller = (): string => 'anonymous';

const logLine = (fields: Record<string, unknown>) => console.log(JSON.stringify(fields));

/** The write side: its routes, and the recovery of movements interrupted by a crash. */
export const createWriteApi = (options: WriteApiOptions) => {
  const { eventStore } = options;
  const clock = options.clock ?? (() => new Date());
  const onError = options.onError ?? ((error: unknown) => logLine({ level: 'error', msg: 'write side error', error: String(error) }));
  const accounts = createAccountCommandHandler(eventStore);
  const movements = createMovementProcess({
    eventStore,
    accounts,
    systemAccounts: createSystemAccounts(accounts, clock),
    clock,
  });
  const recovery = createMovementRecovery({
    eventStore,
    process: movements,
    clock,
    stuckAfterMs: options.stuckAfterMs ?? 30_000,
    checkEveryMs: Math.min(options.stuckAfterMs ?? 30_000, 10_000),
    onStuck:
      options.onStuck ??
      ((stuck) => logLine({ level: 'warn', msg: 'movements stuck', count: stuck.length, ids: stuck.map((m) => `${m.kind}-${m.id}`) })),
    onError,
  });
  const idempotency = createIdempotencyStore({
    eventStore,
    clock,
    retentionMs: options.idempotencyRetentionMs ?? DEFAULT_RETENTION_MS,
    // The embedded store has one writing process: claims of an earlier run are from a crash.
    soleWriter: eventStore.kind === 'sqlite',
    // A remembered rejection answers exactly as the live one did.
    toProblem: (error: FolioError) => {
      const { instance: _instance, ...problem } = toProblem(error, '');
      return { status: problem.status, body: problem as JsonValue, headers: { 'Content-Type': 'application/problem+json' } };
    },
  });
  const deps: WriteApiDependencies = {
    eventStore,
    accounts,
    movements,
    recovery,
    idempotency,
    ids: createSnowflakeGenerator({ nodeId: options.nodeId, clock: () => clock().getTime() }),
    clock,
    callerOf: options.callerOf ?? anonymousCaller,
  };

  const router = Router();
  router.use(accountRoutes(deps));
  router.use(transferRoutes(deps, createTransferService({ accounts, movements, clock })));
  router.use(depositRoutes(deps));
  router.use(operationsRoutes(deps));
  router.use(statementRoutes(deps));

  return {
    router,
    /** Follows the log and resumes interrupted movements; resolves once they are resumed. */
    start: () => recovery.start(),
    stop: () => recovery.stop(),
    /** Movements open longer than the stuck threshold, now. */
    stuckMovements: () => recovery.stuck(),
  };
};

export type WriteApi = ReturnType<typeof createWriteApi>;

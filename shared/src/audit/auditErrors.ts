import { IllegalStateError } from '../errors/commonErrors.js';
import { FolioError, ValidationError } from '../errors/folioError.js';
import type { PeriodClose } from './periods.js';

/** Chained streams are the books of record: they are never deleted, truncated or given an expiry. */
export class ProtectedStreamError extends FolioError {
  readonly type = 'protected-stream';
  readonly status = 403;

  constructor(
    readonly streamName: string,
    readonly operation: string,
  ) {
    super(`stream ${streamName} is part of the books and may not be ${operation}`);
  }

  override problemExtensions(): Record<string, unknown> {
    return { streamName: this.streamName, operation: this.operation };
  }
}

/** An account did not exist at the point a query asked about. */
export class AccountNotAtPointError extends FolioError {
  readonly type = 'account-not-found';
  readonly status = 404;

  constructor(readonly accountId: string) {
    super(`account ${accountId} did not exist at that point`);
  }

  override problemExtensions(): Record<string, unknown> {
    return { accountId: this.accountId };
  }
}

/** An export or a signing key could not be read. */
export class AuditInputError extends FolioError {
  readonly type = 'audit-input';
  readonly status = 400;
}

/** An export could not be written where it was asked for: a message for the operator, not a stack trace. */
export class ExportWriteError extends FolioError {
  readonly type = 'export-write';
  readonly status = 500;
}

/** A position past the head of the log: the books there are not written yet, so an answer "at" it would change. */
export class PositionBeyondHeadError extends ValidationError {
  constructor(
    readonly position: bigint,
    readonly head: bigint,
  ) {
    super(`position ${position} is beyond the head of the log (${head})`, [{ path: 'position', message: `beyond the head of the log (${head})` }]);
  }
}

/** A period is closed once: the answer names the close that was recorded. */
export class PeriodClosedError extends IllegalStateError {
  constructor(readonly closed: PeriodClose) {
    super(
      `period ${closed.periodId} is already closed (effective until ${closed.effectiveUntil}, at position ${closed.closedAtPosition})`,
      { type: 'period-closed', currentState: 'closed' },
    );
  }

  override problemExtensions(): Record<string, unknown> {
    return {
      ...super.problemExtensions(),
      periodId: this.closed.periodId,
      effectiveUntil: this.closed.effectiveUntil,
      closedAtPosition: this.closed.closedAtPosition.toString(),
    };
  }
}
